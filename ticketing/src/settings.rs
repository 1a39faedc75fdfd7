//! From the command line to settings: each part gets its own checked settings (`api::Settings`,
//! `workflows::WorkerSettings`, ...), and a missing or malformed setting stops start-up with one
//! line that names it ([`ConfigError`]).
//!
//! The tests build their settings here too ([`serve`], [`worker`]): the production path, from the
//! same flags, overriding only what must differ per test (zero-to-production's `spawn_app` rule).

use activities::GatewaySettings;
use clap::Parser;
use secrecy::SecretString;
use workflows::{TemporalSettings, WorkerSettings, temporal::TemporalAccess};

use crate::cli::{DatabaseArgs, GatewayKind, PaymentArgs, ServeArgs, TemporalArgs, WorkerArgs};

/// A setting that stops start-up; its message is the one line the operator sees.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl From<api::InvalidSetting> for ConfigError {
    fn from(invalid: api::InvalidSetting) -> Self {
        ConfigError(invalid.0)
    }
}

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

impl PaymentArgs {
    pub fn gateway(&self) -> Result<GatewaySettings, ConfigError> {
        match self.payment_gateway {
            GatewayKind::Sandbox => Ok(GatewaySettings::Sandbox),
            GatewayKind::Stripe => {
                let secret_key = self
                    .stripe_secret_key
                    .clone()
                    .filter(|k| !k.trim().is_empty())
                    .ok_or_else(|| {
                        ConfigError(
                            "STRIPE_SECRET_KEY is required with PAYMENT_GATEWAY=stripe".into(),
                        )
                    })?;
                let api_base = self.stripe_api_base.trim_end_matches('/').to_owned();
                if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
                    return Err(ConfigError("STRIPE_API_BASE must be an http(s) URL".into()));
                }
                Ok(GatewaySettings::Stripe {
                    secret_key: SecretString::from(secret_key),
                    api_base,
                })
            }
        }
    }
}

impl WorkerArgs {
    pub fn settings(&self) -> Result<WorkerSettings, ConfigError> {
        Ok(WorkerSettings {
            database_url: self.database.require()?,
            temporal: self.temporal.resolve(None)?,
            gateway: self.payment.gateway()?,
            currency: self.payment.currency.clone(),
            reconcile_every: self.reconciler.every(),
            metrics: telemetry::Metrics::new(),
        })
    }
}

impl DatabaseArgs {
    /// The database URL, checked for a scheme we support.
    pub fn require(&self) -> Result<String, ConfigError> {
        let url = self.database_url.as_deref().ok_or_else(|| {
            ConfigError(
                "DATABASE_URL is required (e.g. postgres://user@127.0.0.1:5432/ticketing)".into(),
            )
        })?;
        check_database_url(url)?;
        Ok(url.to_owned())
    }
}

pub fn check_database_url(url: &str) -> Result<(), ConfigError> {
    if ["postgres://", "postgresql://", "sqlite:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        Ok(())
    } else {
        Err(ConfigError(
            "DATABASE_URL must start with postgres://, postgresql:// or sqlite:".into(),
        ))
    }
}

impl ServeArgs {
    pub fn settings(&self) -> Result<api::Settings, ConfigError> {
        let database_url = self.database.require()?;
        let jwt_key = self
            .jwt_key
            .as_deref()
            .ok_or_else(|| ConfigError("JWT_KEY is required (at least 32 characters)".into()))?;
        Ok(api::Settings {
            database_url,
            http_addr: self.http.http_addr,
            jwt_key: api::JwtKey::new(jwt_key)?,
            jwt_ttl_seconds: self.http.jwt_ttl_seconds,
            cookie_secure: self.cookie_secure,
            body_limit_bytes: self.http.body_limit_bytes,
            temporal: self.temporal.resolve(None)?,
            order_expiration_seconds: self.orders.order_expiration_seconds,
            max_reservations_in_flight: self.orders.max_reservations_in_flight as usize,
            stripe_card_form: self.payment_gateway == GatewayKind::Stripe,
            credential_limits: self.http.guards.credential_limits(),
            trust_forwarded_for: self.http.guards.trust_forwarded_for,
            password_hashing_concurrency: self.http.guards.password_hashing_concurrency(),
            events: api::EventBus {
                bus: self.events.nats.bus(),
                relay_here: self.events.relay()?.is_some(),
            },
            metrics: telemetry::Metrics::new(),
            currency: self.currency.clone(),
            public_url: self.http.public_url.clone(),
        })
    }
}

impl crate::cli::RelayHereArgs {
    /// The relay this process runs too: `None` unless `RELAY_EVENTS` is set, which needs
    /// `NATS_URL`.
    pub fn relay(&self) -> Result<Option<events::RelaySettings>, ConfigError> {
        if !self.relay_events {
            return Ok(None);
        }
        self.nats.relay().map(Some).ok_or_else(|| {
            ConfigError(
                "RELAY_EVENTS=true needs NATS_URL (e.g. nats://127.0.0.1:4222) to relay to".into(),
            )
        })
    }
}

#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

#[derive(Parser)]
struct Worker {
    #[command(flatten)]
    args: WorkerArgs,
}

/// The settings `ticketing serve` resolves from these flags (e.g.
/// `[("--database-url", url), ("--http-addr", "127.0.0.1:0")]`) on top of the environment and the
/// defaults, exactly as the command does.
pub fn serve(flags: &[(&str, &str)]) -> Result<api::Settings, ConfigError> {
    Serve::try_parse_from(command_line("serve", flags))
        .map_err(|e| ConfigError(e.to_string()))?
        .args
        .settings()
}

/// The settings `ticketing worker` resolves from these flags, as [`serve`] does.
pub fn worker(flags: &[(&str, &str)]) -> Result<WorkerSettings, ConfigError> {
    Worker::try_parse_from(command_line("worker", flags))
        .map_err(|e| ConfigError(e.to_string()))?
        .args
        .settings()
}

fn command_line(name: &str, flags: &[(&str, &str)]) -> Vec<String> {
    std::iter::once(name.to_owned())
        .chain(flags.iter().map(|(flag, value)| format!("{flag}={value}")))
        .collect()
}

impl crate::cli::BenchArgs {
    pub fn options(&self) -> Result<bench::Options, ConfigError> {
        Ok(bench::Options {
            base_url: self.base_url.clone(),
            embedded: self.embedded,
            lifecycles: self.lifecycles,
            concurrency: self.concurrency,
            read_seconds: self.read_seconds,
            rounds: self.rounds,
            burst: self.burst,
            sign_ins: self.sign_ins,
            database_url: self.database_url.clone(),
            server_pid: self.server_pid,
            json: self.json.clone(),
            temporal: if self.embedded {
                None
            } else {
                Some(self.temporal.resolve(None)?)
            },
            namespace: self
                .temporal
                .temporal_namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            task_queue: self.temporal.temporal_task_queue.clone(),
        })
    }
}
