//! Temporal over TLS, as a real cluster or Temporal Cloud is reached: Debian's nginx terminates
//! TLS on loopback in front of the shared dev server (`grpc_pass`), on one port with server TLS
//! only, on another with `ssl_verify_client on` (mTLS), and on a third that wants an API key (as
//! Temporal Cloud does: `authorization: Bearer <key>`). The certificates (a CA, the server's,
//! a client CA and a client's, and a CA nobody uses) are made here. The whole system runs over
//! mTLS; the binary takes the `temporal` CLI's variables and profiles; a wrong CA or a missing
//! client certificate stops it with one line that says which.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::json;
use support::{listed_and_ordered, ports::free_port};
use temporalio_common::envconfig::{ClientConfigProfile, ClientConfigTLS, DataSource};
use workflows::{TemporalSettings, temporal::TemporalAccess};

/// The files the tests use, in a folder of their own.
struct Certificates {
    dir: PathBuf,
}

impl Certificates {
    fn make() -> Self {
        let dir =
            std::env::temp_dir().join(format!("ticketing-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = |name: &str| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            let cert = params.self_signed(&key).unwrap();
            (cert, key)
        };
        let (server_ca, server_ca_key) = ca("ticketing test server CA");
        let (client_ca, client_ca_key) = ca("ticketing test client CA");
        let (stranger, _) = ca("a CA nobody uses");
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&server_key, &server_ca, &server_ca_key)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ticketing worker");
        let client = client_params
            .signed_by(&client_key, &client_ca, &client_ca_key)
            .unwrap();
        for (name, pem) in [
            ("ca.pem", server_ca.pem()),
            ("client-ca.pem", client_ca.pem()),
            ("stranger-ca.pem", stranger.pem()),
            ("server.pem", server.pem()),
            ("server.key", server_key.serialize_pem()),
            ("client.pem", client.pem()),
            ("client.key", client_key.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        Certificates { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Certificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// nginx in front of the Temporal server at `upstream`: `tls` (server TLS) and `mtls` (a client
/// certificate from the client CA required). Stopped on drop.
struct TlsProxy {
    child: Child,
    tls: u16,
    mtls: u16,
    api_key: u16,
    dir: PathBuf,
}

/// The API key the third port wants.
const API_KEY: &str = "test-api-key-0123456789";

impl TlsProxy {
    fn start(certificates: &Certificates, upstream: &str) -> Self {
        let nginx = std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
        assert!(
            Path::new(&nginx).is_file(),
            "the TLS tests need nginx ({nginx}; `apt-get install nginx`, or set NGINX)"
        );
        let dir = certificates.dir.join("nginx");
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let (tls, mtls, api_key) = (free_port(), free_port(), free_port());
        // Root starts workers as `nobody` unless told otherwise; they must read the files here.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root;"
        } else {
            ""
        };
        let server = |port: u16, verify: &str, guard: &str| {
            format!(
                "server {{
                    listen 127.0.0.1:{port} ssl http2;
                    ssl_certificate {cert}; ssl_certificate_key {key};
                    {verify}
                    location / {{ {guard} grpc_pass grpc://{upstream}; }}
                }}",
                cert = certificates.path("server.pem"),
                key = certificates.path("server.key"),
            )
        };
        let tmp = dir.join("tmp").display().to_string();
        let config = format!(
            "{user}
            daemon off; worker_processes 1; pid {dir}/nginx.pid; error_log {dir}/error.log info;
            events {{ worker_connections 256; }}
            http {{
                access_log off;
                client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
                uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
                {plain}
                {mutual}
                {keyed}
            }}",
            dir = dir.display(),
            plain = server(tls, "", ""),
            mutual = server(
                mtls,
                &format!(
                    "ssl_client_certificate {}; ssl_verify_client on;",
                    certificates.path("client-ca.pem")
                ),
                ""
            ),
            keyed = server(
                api_key,
                "",
                &format!("if ($http_authorization != \"Bearer {API_KEY}\") {{ return 401; }}")
            ),
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(&nginx)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {nginx}: {e}"));
        for port in [tls, mtls, api_key] {
            support::ports::wait_for_port(&format!("127.0.0.1:{port}"), "nginx");
        }
        TlsProxy {
            child,
            tls,
            mtls,
            api_key,
            dir,
        }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// TLS settings as the environment configuration would give them.
fn access(certificates: &Certificates, ca: &str, client: bool) -> TemporalAccess {
    let path = |name: &str| DataSource::Path(certificates.path(name));
    let tls = ClientConfigTLS::builder()
        .server_ca_cert(path(ca))
        .maybe_client_cert(client.then(|| path("client.pem")))
        .maybe_client_key(client.then(|| path("client.key")))
        .build();
    TemporalAccess(ClientConfigProfile::builder().tls(tls).build())
}

#[tokio::test]
async fn the_whole_system_runs_over_mtls_with_a_custom_ca() {
    let certificates = Certificates::make();
    let proxy = TlsProxy::start(&certificates, support::temporal::shared_address());
    let app = support::spawn_app_configured(|config| {
        let settings = TemporalSettings {
            address: format!("https://localhost:{}", proxy.mtls),
            access: access(&certificates, "ca.pem", true),
            ..config.worker.temporal.clone()
        };
        config.app.temporal = settings.clone();
        config.worker.temporal = settings;
    })
    .await;
    let deal = listed_and_ordered(&app, "Over mTLS", json!(10)).await;
    let paid = app.pay(&deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_eq!(paid.status(), 201);
    let ready: serde_json::Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["dependencies"]["temporal"], "ok", "{ready}");
}

/// `ticketing check` (which talks to Temporal and the database) with these variables: its exit
/// code and its standard error.
async fn check_with(vars: &[(&str, String)]) -> (Option<i32>, String) {
    let db = support::TestDatabase::create().await;
    let mut command = tokio::process::Command::new(support::binary::ticketing());
    command.arg("check").env("DATABASE_URL", &db.url);
    for name in [
        "TEMPORAL_ADDRESS",
        "TEMPORAL_NAMESPACE",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "TEMPORAL_TLS_SERVER_NAME",
        "TEMPORAL_CONFIG_FILE",
        "TEMPORAL_PROFILE",
        "NATS_URL",
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("check ends within a minute")
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_binary_reaches_temporal_over_tls_as_the_temporal_cli_would() {
    let certificates = Certificates::make();
    let proxy = TlsProxy::start(&certificates, support::temporal::shared_address());
    let tls = format!("https://localhost:{}", proxy.tls);
    let mtls = format!("localhost:{}", proxy.mtls);

    // TLS with a custom CA, from the variables.
    let (code, said) = check_with(&[
        ("TEMPORAL_ADDRESS", tls.clone()),
        (
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            certificates.path("ca.pem"),
        ),
    ])
    .await;
    assert_eq!(code, Some(0), "{said}");

    // mTLS, from a profile of a config file.
    let config = certificates.dir.join("temporal.toml");
    std::fs::write(
        &config,
        format!(
            "[profile.production]\naddress = \"{mtls}\"\nnamespace = \"default\"\n\
             [profile.production.tls]\nserver_ca_cert_path = \"{}\"\n\
             client_cert_path = \"{}\"\nclient_key_path = \"{}\"\n",
            certificates.path("ca.pem"),
            certificates.path("client.pem"),
            certificates.path("client.key"),
        ),
    )
    .unwrap();
    let (code, said) = check_with(&[
        ("TEMPORAL_CONFIG_FILE", config.display().to_string()),
        ("TEMPORAL_PROFILE", "production".to_owned()),
    ])
    .await;
    assert_eq!(code, Some(0), "{said}");

    // An API key (TLS on by default with one), and a wrong one.
    let keyed = format!("localhost:{}", proxy.api_key);
    let (code, said) = check_with(&[
        ("TEMPORAL_ADDRESS", keyed.clone()),
        ("TEMPORAL_API_KEY", API_KEY.to_owned()),
        (
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            certificates.path("ca.pem"),
        ),
    ])
    .await;
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = check_with(&[
        ("TEMPORAL_ADDRESS", keyed),
        ("TEMPORAL_API_KEY", "a-wrong-key".to_owned()),
        (
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            certificates.path("ca.pem"),
        ),
    ])
    .await;
    assert_ne!(code, Some(0));
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains("refused our credentials"), "{said}");
    assert!(
        !said.contains("a-wrong-key"),
        "the key is never printed: {said}"
    );

    // A CA that did not sign the server's certificate: one line that says so.
    let (code, said) = check_with(&[
        ("TEMPORAL_ADDRESS", tls.clone()),
        (
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            certificates.path("stranger-ca.pem"),
        ),
    ])
    .await;
    assert_ne!(code, Some(0));
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains("not signed by a CA we trust"), "{said}");

    // The mTLS port without a client certificate: one line that says so.
    let (code, said) = check_with(&[
        ("TEMPORAL_ADDRESS", format!("https://{mtls}")),
        (
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            certificates.path("ca.pem"),
        ),
    ])
    .await;
    assert_ne!(code, Some(0));
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains("client certificate"), "{said}");
}

#[tokio::test]
async fn an_https_address_alone_turns_tls_on() {
    let certificates = Certificates::make();
    let proxy = TlsProxy::start(&certificates, support::temporal::shared_address());

    // No TEMPORAL_TLS*, no API key: the https:// URL says TLS, with the system's roots (here
    // the test CA, through SSL_CERT_FILE, which the native roots honour).
    let (code, said) = check_with(&[
        (
            "TEMPORAL_ADDRESS",
            format!("https://localhost:{}", proxy.tls),
        ),
        ("SSL_CERT_FILE", certificates.path("ca.pem")),
    ])
    .await;
    assert_eq!(code, Some(0), "{said}");

    // Only the CA, to an IP address: no TLS flag needed either.
    let (code, said) = check_with(&[
        (
            "TEMPORAL_ADDRESS",
            format!("https://127.0.0.1:{}", proxy.tls),
        ),
        (
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
            certificates.path("ca.pem"),
        ),
    ])
    .await;
    assert_eq!(code, Some(0), "{said}");
}

/// `ticketing <command>` with these variables (and a database it never reaches): its exit code
/// and its standard error, which must come within seconds.
async fn start_with(command: &str, vars: &[(&str, String)]) -> (Option<i32>, String) {
    let mut process = tokio::process::Command::new(support::binary::ticketing());
    process
        .arg(command)
        .env("DATABASE_URL", "sqlite::memory:")
        .env("JWT_KEY", "a-test-key-that-is-at-least-32-characters")
        .env(
            "TICKET_CODE_KEY",
            "a-ticket-code-key-of-at-least-32-characters",
        )
        .env("TEMPORAL_ADDRESS", "https://localhost:1")
        .stdin(Stdio::null());
    for name in [
        "TEMPORAL_NAMESPACE",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        "TEMPORAL_TLS_SERVER_NAME",
        "TEMPORAL_CONFIG_FILE",
        "TEMPORAL_PROFILE",
        "NATS_URL",
    ] {
        process.env_remove(name);
    }
    process.envs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    let output = tokio::time::timeout(Duration::from_secs(10), process.output())
        .await
        .unwrap_or_else(|_| panic!("`ticketing {command}` stops at once"))
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_file_setting_that_cannot_be_read_is_named_at_start_up() {
    let certificates = Certificates::make();
    let missing = certificates.path("no-such-ca.pem");
    let ca = certificates.path("ca.pem");
    let cases = [
        (
            "worker",
            vec![("TEMPORAL_TLS_SERVER_CA_CERT_PATH", missing.clone())],
            &missing,
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        ),
        (
            "serve",
            vec![("TEMPORAL_TLS_SERVER_CA_CERT_PATH", missing.clone())],
            &missing,
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        ),
        (
            "worker",
            vec![
                ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", ca.clone()),
                ("TEMPORAL_TLS_CLIENT_CERT_PATH", missing.clone()),
                (
                    "TEMPORAL_TLS_CLIENT_KEY_PATH",
                    certificates.path("client.key"),
                ),
            ],
            &missing,
            "TEMPORAL_TLS_CLIENT_CERT_PATH",
        ),
        (
            "worker",
            vec![
                (
                    "TEMPORAL_TLS_CLIENT_CERT_PATH",
                    certificates.path("client.pem"),
                ),
                ("TEMPORAL_TLS_CLIENT_KEY_PATH", missing.clone()),
            ],
            &missing,
            "TEMPORAL_TLS_CLIENT_KEY_PATH",
        ),
        (
            "serve",
            vec![
                ("TEMPORAL_CONFIG_FILE", missing.clone()),
                ("TEMPORAL_PROFILE", "production".to_owned()),
            ],
            &missing,
            "TEMPORAL_CONFIG_FILE",
        ),
    ];
    for (command, vars, path, setting) in cases {
        let (code, said) = start_with(command, &vars).await;
        assert_ne!(code, Some(0), "{command} {vars:?}: {said}");
        assert_eq!(said.trim().lines().count(), 1, "{command} {vars:?}: {said}");
        assert!(said.contains(path), "{command} {vars:?}: {said}");
        assert!(said.contains(setting), "{command} {vars:?}: {said}");
    }

    // A profile's path that cannot be read: the key, the profile and the file are named.
    let config = certificates.dir.join("temporal.toml");
    std::fs::write(
        &config,
        format!(
            "[profile.production]\naddress = \"localhost:1\"\n\
             [profile.production.tls]\nserver_ca_cert_path = \"{missing}\"\n"
        ),
    )
    .unwrap();
    let (code, said) = start_with(
        "worker",
        &[
            ("TEMPORAL_CONFIG_FILE", config.display().to_string()),
            ("TEMPORAL_PROFILE", "production".to_owned()),
        ],
    )
    .await;
    assert_ne!(code, Some(0), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    for part in [
        missing.as_str(),
        "server_ca_cert_path",
        "production",
        &config.display().to_string(),
    ] {
        assert!(said.contains(part), "{part}: {said}");
    }

    // An https:// address with TLS turned off explicitly: refused at once, naming both.
    let (code, said) = start_with("worker", &[("TEMPORAL_TLS", "false".to_owned())]).await;
    assert_ne!(code, Some(0), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(
        said.contains("TEMPORAL_ADDRESS") && said.contains("TEMPORAL_TLS=false"),
        "{said}"
    );
}
