//! Reaching Temporal: where it is and how (plaintext, TLS with a custom CA, mTLS, an API key: the
//! SDK's environment configuration, the `temporal` CLI's conventions), and a client that waits
//! for a server that is still starting.

use std::{path::Path, time::Duration};

use anyhow::Context;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, tonic};
use temporalio_common::{
    envconfig::{ClientConfigProfile, ClientConfigTLS, DataSource},
    protos::temporal::api::workflowservice::v1::GetSystemInfoRequest,
};

/// Where Temporal is, how to reach it, and which queue the order workflows use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemporalSettings {
    /// `host:port`, or a URL (`https://ns.acct.tmprl.cloud:7233`).
    pub address: String,
    pub namespace: String,
    pub task_queue: String,
    /// TLS, client certificate, API key, gRPC metadata: plaintext when empty.
    pub access: TemporalAccess,
}

/// How to reach Temporal beyond its address: the SDK's client configuration profile (from
/// `TEMPORAL_CONFIG_FILE` / `TEMPORAL_PROFILE` and the `TEMPORAL_TLS*`, `TEMPORAL_API_KEY`,
/// `TEMPORAL_GRPC_META_*` variables). Its `Debug` says what is set, never the key.
#[derive(Clone, PartialEq, Default)]
pub struct TemporalAccess(pub ClientConfigProfile);

impl std::fmt::Debug for TemporalAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporalAccess")
            .field("tls", &self.uses_tls())
            .field(
                "client_certificate",
                &self.0.tls.as_ref().is_some_and(|t| t.client_cert.is_some()),
            )
            .field("api_key", &self.0.api_key.is_some())
            .finish()
    }
}

impl TemporalAccess {
    /// What the SDK's environment configuration says: the profile of `TEMPORAL_CONFIG_FILE`
    /// (`TEMPORAL_PROFILE`, else `default`; the CLI's default path when unset) with the
    /// `TEMPORAL_*` variables on top.
    pub fn from_environment() -> Result<TemporalAccess, String> {
        // The SDK takes a config file it cannot find for an empty one: one named on purpose must
        // be there.
        if let Some(path) = std::env::var_os("TEMPORAL_CONFIG_FILE").filter(|p| !p.is_empty()) {
            std::fs::read(&path).map_err(|e| {
                format!(
                    "cannot read {} (TEMPORAL_CONFIG_FILE): {e}",
                    Path::new(&path).display()
                )
            })?;
        }
        temporalio_common::envconfig::load_client_config_profile(Default::default(), None)
            .map(TemporalAccess)
            .map_err(|e| e.to_string())
    }

    /// Reads every file the configuration names (the server's CA, the client's certificate and
    /// key), so that one that cannot be read stops start-up with its path and the setting that
    /// names it, rather than with the SDK's bare "No such file or directory" at connection time.
    pub fn check_files(&self) -> Result<(), String> {
        let Some(tls) = &self.0.tls else {
            return Ok(());
        };
        for (source, variable, key) in [
            (
                &tls.server_ca_cert,
                "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                "server_ca_cert_path",
            ),
            (
                &tls.client_cert,
                "TEMPORAL_TLS_CLIENT_CERT_PATH",
                "client_cert_path",
            ),
            (
                &tls.client_key,
                "TEMPORAL_TLS_CLIENT_KEY_PATH",
                "client_key_path",
            ),
        ] {
            let Some(DataSource::Path(path)) = source else {
                continue;
            };
            if let Err(e) = std::fs::read(path) {
                return Err(format!(
                    "cannot read {path} ({}): {e}",
                    setting_of(variable, key, path)
                ));
            }
        }
        Ok(())
    }

    /// The access for `address`: an `https://` URL turns TLS on (with the system's roots unless
    /// a CA is configured), as the URL says; with TLS turned off explicitly it is refused.
    pub fn for_address(mut self, address: &str) -> Result<TemporalAccess, String> {
        let https = address
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
        if !https || self.uses_tls() {
            return Ok(self);
        }
        if self
            .0
            .tls
            .as_ref()
            .is_some_and(|tls| tls.disabled == Some(true))
        {
            return Err(format!(
                "TEMPORAL_ADDRESS {address} is an https:// URL, but TLS is turned off \
                 (TEMPORAL_TLS=false, or `disabled` in the TEMPORAL_CONFIG_FILE profile): give \
                 host:port for plaintext, or turn TLS on"
            ));
        }
        self.0.tls = Some(ClientConfigTLS::default());
        Ok(self)
    }

    /// The address the configuration names, if any.
    pub fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    /// The namespace the configuration names, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.0.namespace.as_deref()
    }

    /// Whether the connection uses TLS (as the SDK decides: a TLS section not disabled, or an API
    /// key).
    pub fn uses_tls(&self) -> bool {
        match &self.0.tls {
            Some(tls) => tls.disabled != Some(true),
            None => self.0.api_key.is_some(),
        }
    }
}

/// Which setting named `path`: the variable when it is set to it, else the profile's key.
fn setting_of(variable: &str, key: &str, path: &str) -> String {
    if std::env::var(variable).is_ok_and(|value| value == path) {
        return variable.to_owned();
    }
    let profile = std::env::var("TEMPORAL_PROFILE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let file = std::env::var("TEMPORAL_CONFIG_FILE")
        .ok()
        .filter(|f| !f.is_empty())
        .map_or_else(
            || "the Temporal CLI's default config file".to_owned(),
            |f| format!("TEMPORAL_CONFIG_FILE {f}"),
        );
    format!("`{key}` of profile `{profile}` in {file}")
}

impl TemporalSettings {
    /// The SDK's connection options for these settings.
    fn connection_options(&self) -> anyhow::Result<ConnectionOptions> {
        let mut profile = self.access.0.clone();
        profile.address = Some(self.address.clone());
        profile.namespace = Some(self.namespace.clone());
        let mut options = ConnectionOptions::try_from(profile)
            .map_err(|e| anyhow::anyhow!("cannot use the Temporal settings (TEMPORAL_*): {e}"))?;
        options.identity = format!("ticketing@{}", std::process::id());
        options.connect_timeout = Some(Duration::from_secs(5));
        Ok(options)
    }
}

/// How often a connection that keeps failing is reported.
const SAY_AGAIN_AFTER: Duration = Duration::from_secs(5);

/// Whether a failure to connect is one that waiting cannot mend: a certificate refused either
/// way, a TLS misconfiguration, or a TLS proxy that answers plain HTTP 4xx (it refused us, as
/// nginx does without the client certificate it requires).
fn is_permanent(error: &str) -> bool {
    let error = error.to_ascii_lowercase();
    [
        "certificate",
        "tls",
        "handshake",
        "invalid peer",
        "unknownissuer",
        "badsignature",
        "alert",
        "status: 400",
        "status: 401",
        "status: 403",
        "status: 495",
        "status: 496",
    ]
    .iter()
    .any(|word| error.contains(word))
}

/// What a permanent failure means, in one line the operator can act on.
fn explain(settings: &TemporalSettings, error: &str) -> String {
    let lower = error.to_ascii_lowercase();
    let has_client_certificate = settings
        .access
        .0
        .tls
        .as_ref()
        .is_some_and(|tls| tls.client_cert.is_some());
    let hint = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        "its certificate is not signed by a CA we trust (TEMPORAL_TLS_SERVER_CA_CERT_PATH)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "its certificate is not for that name (TEMPORAL_TLS_SERVER_NAME)"
    } else if lower.contains("certificaterequired")
        || lower.contains("certificate required")
        || (!has_client_certificate
            && ["status: 400", "status: 495", "status: 496"]
                .iter()
                .any(|s| lower.contains(s)))
    {
        "it requires a client certificate, and none is configured \
         (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)"
    } else if lower.contains("badcertificate") || lower.contains("bad certificate") {
        "it refused our client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)"
    } else if lower.contains("status: 401") || lower.contains("status: 403") {
        "it refused our credentials (TEMPORAL_API_KEY, or the client certificate)"
    } else {
        "the TLS connection failed"
    };
    let detail: String = error
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    format!(
        "cannot reach Temporal at {} over TLS: {hint} ({detail})",
        settings.address
    )
}

/// Connects to Temporal, retrying for up to `patience` (a server that is still starting); a
/// TLS failure is not retried.
pub async fn connect(settings: &TemporalSettings, patience: Duration) -> anyhow::Result<Client> {
    let options = settings.connection_options()?;
    let started = std::time::Instant::now();
    // Said once, then every few seconds with the count: not a line per retry.
    let mut attempts = 0u32;
    let mut said = None::<std::time::Instant>;
    let connection = loop {
        attempts += 1;
        match Connection::connect(options.clone()).await {
            Ok(connection) => {
                if said.is_some() {
                    tracing::info!(address = %settings.address, attempts, "Temporal answers");
                }
                break connection;
            }
            Err(e) => {
                let error = format!("{e:#}");
                let chain = format!("{e:?}");
                if settings.access.uses_tls() && (is_permanent(&error) || is_permanent(&chain)) {
                    anyhow::bail!(explain(settings, &format!("{error} {chain}")));
                }
                if started.elapsed() >= patience {
                    anyhow::bail!(
                        "cannot reach Temporal at {} (TEMPORAL_ADDRESS): {error}",
                        settings.address
                    );
                }
                if said.is_none_or(|at| at.elapsed() >= SAY_AGAIN_AFTER) {
                    tracing::warn!(
                        address = %settings.address,
                        attempts,
                        waited_seconds = started.elapsed().as_secs(),
                        error = %error,
                        "Temporal not reachable yet; trying again every half second"
                    );
                    said = Some(std::time::Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let client = Client::new(
        connection,
        ClientOptions::new(settings.namespace.clone()).build(),
    )
    .context("creating the Temporal client")?;
    Ok(client)
}

/// Whether Temporal answers, for readiness.
pub async fn ping(client: &Client) -> anyhow::Result<()> {
    let mut service = client.connection().workflow_service();
    service
        .get_system_info(tonic::Request::new(GetSystemInfoRequest {}))
        .await
        .map(|_| ())
        .map_err(|status| anyhow::anyhow!("Temporal: {}", status.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_address_turns_tls_on_unless_tls_is_turned_off() {
        let plain = TemporalAccess::default();
        assert!(
            !plain
                .clone()
                .for_address("127.0.0.1:7233")
                .unwrap()
                .uses_tls()
        );
        assert!(
            !plain
                .clone()
                .for_address("http://127.0.0.1:7233")
                .unwrap()
                .uses_tls()
        );
        let tls = plain
            .for_address("HTTPS://ns.acct.tmprl.cloud:7233")
            .unwrap();
        assert!(tls.uses_tls());
        assert!(
            tls.0.tls.unwrap().server_ca_cert.is_none(),
            "the system's roots"
        );

        let off = ClientConfigTLS::builder().disabled(true).build();
        let off = TemporalAccess(ClientConfigProfile::builder().tls(off).build());
        let refused = off.for_address("https://temporal:7233").unwrap_err();
        assert!(refused.contains("TEMPORAL_TLS=false"), "{refused}");
    }

    #[test]
    fn a_file_that_cannot_be_read_is_named_with_its_setting() {
        let missing = "/nonexistent/ticketing-ca.pem";
        let tls = ClientConfigTLS::builder()
            .server_ca_cert(DataSource::Path(missing.to_owned()))
            .build();
        let access = TemporalAccess(ClientConfigProfile::builder().tls(tls).build());
        let said = access.check_files().unwrap_err();
        assert!(said.contains(missing), "{said}");
        assert!(said.contains("server_ca_cert_path"), "{said}");
    }
}
