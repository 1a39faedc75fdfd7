//! The compose file against the binary: every environment variable it gives a `ticketing`
//! service is one that service's command knows (its `--help` lists it, or it is one of the
//! Temporal SDK's or the logs' own), every service runs a command the binary has, and every file
//! it mounts is in the repository. (`docker-compose config` and hadolint check the rest in
//! `.ci/run`; no Docker engine runs here.)

use std::{collections::BTreeSet, path::Path, process::Command};

/// Variables read outside clap: logging, and the Temporal SDK's environment configuration.
const ALSO_KNOWN: &[&str] = &[
    "RUST_LOG",
    "LOG_FORMAT",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_CONFIG_FILE",
    "TEMPORAL_PROFILE",
];

/// The variables `ticketing <command> --help` lists (`[env: NAME=`).
fn known_to(command: &str) -> BTreeSet<String> {
    let output = Command::new(support::binary::ticketing())
        .args([command, "--help"])
        .output()
        .unwrap();
    assert!(output.status.success(), "ticketing {command} --help");
    let help = String::from_utf8_lossy(&output.stdout);
    help.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split(['=', ']']).next())
        .map(str::to_owned)
        .chain(ALSO_KNOWN.iter().map(|s| (*s).to_owned()))
        .collect()
}

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn every_variable_the_compose_file_sets_is_one_the_binary_knows() {
    let text = std::fs::read_to_string(repository().join("docker-compose.yml")).unwrap();
    let mut compose: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    compose.apply_merge().unwrap();
    let services = compose["services"].as_mapping().expect("services");
    let mut checked = Vec::new();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        // Every file or folder mounted from the repository exists.
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let volume = volume.as_str().unwrap();
            if let Some(local) = volume.strip_prefix("./") {
                let local = local.split(':').next().unwrap();
                assert!(
                    repository().join(local).exists(),
                    "{name} mounts ./{local}, which is not in the repository"
                );
            }
        }
        let image = service["image"].as_str().unwrap_or_default();
        if !image.starts_with("ticketing:") {
            continue;
        }
        let command = service["command"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names its ticketing command"));
        let known = known_to(command);
        let environment = service["environment"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{name} has an environment"));
        for key in environment.keys() {
            let key = key.as_str().unwrap();
            assert!(
                known.contains(key),
                "{name} (`ticketing {command}`) is given {key}, which it does not know"
            );
        }
        checked.push(name.to_owned());
    }
    checked.sort();
    assert_eq!(checked, ["api", "migrate", "relay", "worker"]);
}

/// What the README promises: every long-running service has a health check, and a one-shot
/// (restarted only on failure) is waited for by its completion, never by a health check.
#[test]
fn every_long_running_service_has_a_health_check_and_every_one_shot_a_completion() {
    let text = std::fs::read_to_string(repository().join("docker-compose.yml")).unwrap();
    let mut compose: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    compose.apply_merge().unwrap();
    let services = compose["services"].as_mapping().expect("services");
    let one_shot = |name: &str| {
        services[name]["restart"]
            .as_str()
            .is_some_and(|restart| restart.starts_with("on-failure"))
    };
    for (name, service) in services {
        let name = name.as_str().unwrap();
        if one_shot(name) {
            continue;
        }
        let test = &service["healthcheck"]["test"];
        assert!(
            test.as_sequence().is_some_and(|t| !t.is_empty()) || test.as_str().is_some(),
            "{name} runs for good but has no health check"
        );
    }
    for (name, service) in services {
        let name = name.as_str().unwrap();
        for (dependency, how) in service["depends_on"].as_mapping().into_iter().flatten() {
            let dependency = dependency.as_str().unwrap();
            let wanted = if one_shot(dependency) {
                "service_completed_successfully"
            } else {
                "service_healthy"
            };
            assert_eq!(
                how["condition"].as_str(),
                Some(wanted),
                "{name} waits for {dependency}"
            );
        }
    }
}
