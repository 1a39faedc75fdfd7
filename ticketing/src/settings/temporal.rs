//! Temporal's settings from its flags and the SDK's environment configuration: where it is, its
//! namespace, and how to reach it (plaintext, TLS, mTLS, an API key).

use workflows::{TemporalSettings, temporal::TemporalAccess};

use super::ConfigError;
use crate::cli::TemporalArgs;

impl TemporalArgs {
    /// The Temporal settings: the address and namespace from the flags (or `TEMPORAL_ADDRESS`,
    /// `TEMPORAL_NAMESPACE`), and everything else the SDK's environment configuration says
    /// (`TEMPORAL_CONFIG_FILE` and `TEMPORAL_PROFILE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`,
    /// `TEMPORAL_GRPC_META_*`), as the `temporal` CLI reads them.
    pub fn resolve(&self, default_address: Option<&str>) -> Result<TemporalSettings, ConfigError> {
        let access = TemporalAccess::from_environment().map_err(|e| {
            ConfigError(format!(
                "the Temporal client configuration (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE, \
                 TEMPORAL_TLS*, TEMPORAL_API_KEY) is not usable: {e}"
            ))
        })?;
        // A certificate or key file that cannot be read stops start-up now, naming it.
        access.check_files().map_err(ConfigError)?;
        let address = self
            .temporal_address
            .clone()
            .or_else(|| access.address().map(str::to_owned))
            .or_else(|| default_address.map(str::to_owned));
        let namespace = self
            .temporal_namespace
            .clone()
            .or_else(|| access.namespace().map(str::to_owned));
        self.settings(address, namespace, access)
    }

    /// The settings of a Temporal server `dev` started itself at `address`: plaintext, whatever
    /// the environment says of other servers.
    pub fn local(&self, address: &str) -> Result<TemporalSettings, ConfigError> {
        let namespace = self.temporal_namespace.clone();
        self.settings(
            Some(address.to_owned()),
            namespace,
            TemporalAccess::default(),
        )
    }

    fn settings(
        &self,
        address: Option<String>,
        namespace: Option<String>,
        access: TemporalAccess,
    ) -> Result<TemporalSettings, ConfigError> {
        let address = address.ok_or_else(|| {
            ConfigError("TEMPORAL_ADDRESS is required (e.g. 127.0.0.1:7233)".into())
        })?;
        let address = address.trim().to_owned();
        let well_formed = match address.split_once("://") {
            Some((scheme, rest)) => {
                ["http", "https"].contains(&scheme)
                    && !rest.is_empty()
                    && !rest.trim_end_matches('/').contains('/')
            }
            None => address.contains(':') && !address.contains('/'),
        };
        if address.is_empty() || !well_formed {
            return Err(ConfigError(format!(
                "TEMPORAL_ADDRESS must be host:port or an http(s) URL, not {address:?}"
            )));
        }
        // An https:// address means TLS, whatever else is (not) configured.
        let access = access.for_address(&address).map_err(ConfigError)?;
        let namespace = namespace.unwrap_or_else(|| "default".to_owned());
        for (name, value) in [
            ("TEMPORAL_NAMESPACE", &namespace),
            ("TEMPORAL_TASK_QUEUE", &self.temporal_task_queue),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError(format!("{name} must not be empty")));
            }
        }
        Ok(TemporalSettings {
            address: address.trim_end_matches('/').to_owned(),
            namespace,
            task_queue: self.temporal_task_queue.clone(),
            access,
        })
    }
}
