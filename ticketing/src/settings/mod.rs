//! From the command line to settings: each part gets its own checked settings (`api::Settings`,
//! `workflows::WorkerSettings`, ...), and a missing or malformed setting stops start-up with one
//! line that names it ([`ConfigError`]).
//!
//! `serve` and `worker` first settle their [`Backends`] (the database and Temporal) from their
//! flags, then build their part from the rest ([`AppFlags::settings`],
//! [`WorkerFlags::settings`]); `dev` calls the same two with backends of its own (the Temporal
//! server it started, SQLite in its data folder).
//!
//! The tests build their settings here too ([`serve`], [`worker`]): the production path, from the
//! same flags, overriding only what must differ per test (zero-to-production's `spawn_app` rule).

mod temporal;

use activities::GatewaySettings;
use api::{JwtKey, TicketCodeKey};
use clap::Parser;
use secrecy::SecretString;
use workflows::{TemporalSettings, WorkerSettings};

use crate::cli::{
    BenchArgs, DatabaseArgs, DevArgs, GatewayKind, GuardArgs, HttpArgs, NatsArgs, OrderArgs,
    PaymentArgs, ReconcilerArgs, RelayHereArgs, ServeArgs, SessionArgs, StripeArgs, WorkerArgs,
};

/// A setting that stops start-up; its message is the one line the operator sees.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl From<api::InvalidSetting> for ConfigError {
    fn from(invalid: api::InvalidSetting) -> Self {
        ConfigError(invalid.0)
    }
}

/// The database and the Temporal server a process's parts use, as its command settled them.
#[derive(Debug, Clone)]
pub struct Backends {
    pub database_url: String,
    pub temporal: TemporalSettings,
}

/// The two keys of the HTTP application: the one that signs sessions and the one that signs ticket
/// codes, which must differ.
#[derive(Debug, Clone)]
pub struct Keys {
    pub jwt: JwtKey,
    pub ticket_code: TicketCodeKey,
}

impl Keys {
    /// Both keys, refused when they are the same.
    pub fn new(jwt: JwtKey, ticket_code: TicketCodeKey) -> Result<Keys, ConfigError> {
        if jwt.as_bytes() == ticket_code.as_bytes() {
            return Err(ConfigError(
                "TICKET_CODE_KEY must differ from JWT_KEY".into(),
            ));
        }
        Ok(Keys { jwt, ticket_code })
    }
}

/// The groups of flags the HTTP application is built from (`serve` and `dev` have them all).
pub struct AppFlags<'a> {
    pub http: &'a HttpArgs,
    pub orders: &'a OrderArgs,
    pub payment: &'a PaymentArgs,
    pub session: &'a SessionArgs,
}

impl AppFlags<'_> {
    /// The HTTP application's settings on `backends`, with the keys and the event bus the
    /// command settled on.
    pub fn settings(self, backends: Backends, keys: Keys, events: api::EventBus) -> api::Settings {
        let AppFlags {
            http,
            orders,
            payment,
            session,
        } = self;
        api::Settings {
            database_url: backends.database_url,
            http_addr: http.http_addr,
            jwt_key: keys.jwt,
            ticket_code_key: keys.ticket_code,
            resale_price_cap: entities::ResalePriceCap::percent(orders.resale_price_cap_percent)
                .unwrap_or_default(),
            jwt_ttl_seconds: http.jwt_ttl_seconds,
            cookie_secure: session.cookie_secure,
            body_limit_bytes: http.body_limit_bytes,
            temporal: backends.temporal,
            order_expiration_seconds: orders.order_expiration_seconds,
            max_reservations_in_flight: orders.max_reservations_in_flight as usize,
            stripe_card_form: payment.payment_gateway == GatewayKind::Stripe,
            credential_limits: http.guards.credential_limits(),
            trust_forwarded_for: http.guards.trust_forwarded_for,
            password_hashing_concurrency: http.guards.password_hashing_concurrency(),
            events,
            currency: payment.currency.clone(),
            public_url: http.public_url.clone(),
        }
    }
}

/// The groups of flags a worker is built from (`worker` and `dev` have them all).
pub struct WorkerFlags<'a> {
    pub payment: &'a PaymentArgs,
    pub stripe: &'a StripeArgs,
    pub reconciler: &'a ReconcilerArgs,
}

impl WorkerFlags<'_> {
    /// The worker's settings on `backends`.
    pub fn settings(self, backends: Backends) -> Result<WorkerSettings, ConfigError> {
        Ok(WorkerSettings {
            database_url: backends.database_url,
            temporal: backends.temporal,
            gateway: gateway(self.payment, self.stripe)?,
            currency: self.payment.currency.clone(),
            reconcile_every: self.reconciler.every(),
        })
    }
}

impl ServeArgs {
    /// The flags of `serve`'s HTTP application.
    pub fn app_flags(&self) -> AppFlags<'_> {
        AppFlags {
            http: &self.http,
            orders: &self.orders,
            payment: &self.payment,
            session: &self.session,
        }
    }

    /// `serve`'s settings: the database, the keys and Temporal must be given.
    pub fn settings(&self) -> Result<api::Settings, ConfigError> {
        let database_url = self.database.require()?;
        let keys = self.session.require_keys()?;
        let backends = Backends {
            database_url,
            temporal: self.temporal.resolve(None)?,
        };
        let events = api::EventBus {
            bus: self.events.nats.bus(),
            relay_here: self.events.relay()?.is_some(),
        };
        Ok(self.app_flags().settings(backends, keys, events))
    }
}

impl WorkerArgs {
    /// The flags of `worker`'s worker.
    pub fn worker_flags(&self) -> WorkerFlags<'_> {
        WorkerFlags {
            payment: &self.payment,
            stripe: &self.stripe,
            reconciler: &self.reconciler,
        }
    }

    /// `worker`'s settings: the database and Temporal must be given.
    pub fn settings(&self) -> Result<WorkerSettings, ConfigError> {
        let backends = Backends {
            database_url: self.database.require()?,
            temporal: self.temporal.resolve(None)?,
        };
        self.worker_flags().settings(backends)
    }
}

impl DevArgs {
    /// The flags of `dev`'s HTTP application, as `serve` has them.
    pub fn app_flags(&self) -> AppFlags<'_> {
        AppFlags {
            http: &self.http,
            orders: &self.orders,
            payment: &self.payment,
            session: &self.session,
        }
    }

    /// The flags of `dev`'s worker, as `worker` has them.
    pub fn worker_flags(&self) -> WorkerFlags<'_> {
        WorkerFlags {
            payment: &self.payment,
            stripe: &self.stripe,
            reconciler: &self.reconciler,
        }
    }
}

impl DatabaseArgs {
    /// The database URL, checked for a scheme we support.
    pub fn require(&self) -> Result<String, ConfigError> {
        self.given()?.ok_or_else(|| {
            ConfigError(
                "DATABASE_URL is required (e.g. postgres://user@127.0.0.1:5432/ticketing)".into(),
            )
        })
    }

    /// The database URL if one is given, checked for a scheme we support.
    pub fn given(&self) -> Result<Option<String>, ConfigError> {
        let Some(url) = &self.database_url else {
            return Ok(None);
        };
        if ["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            Ok(Some(url.clone()))
        } else {
            Err(ConfigError(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite:".into(),
            ))
        }
    }
}

impl SessionArgs {
    /// The key that signs session tokens, which `serve` must be given.
    pub fn require_jwt_key(&self) -> Result<JwtKey, ConfigError> {
        let key = self
            .jwt_key
            .as_deref()
            .ok_or_else(|| ConfigError("JWT_KEY is required (at least 32 characters)".into()))?;
        Ok(JwtKey::new(key)?)
    }

    /// The key that signs ticket codes, which `serve` must be given.
    pub fn require_ticket_code_key(&self) -> Result<TicketCodeKey, ConfigError> {
        let key = self.ticket_code_key.as_deref().ok_or_else(|| {
            ConfigError("TICKET_CODE_KEY is required (at least 32 characters)".into())
        })?;
        Ok(TicketCodeKey::new(key)?)
    }

    /// Both keys, which `serve` must be given, and which must differ.
    pub fn require_keys(&self) -> Result<Keys, ConfigError> {
        Keys::new(self.require_jwt_key()?, self.require_ticket_code_key()?)
    }
}

impl GuardArgs {
    /// How often credentials may be tried, per account and per client address.
    pub fn credential_limits(&self) -> api::limits::CredentialLimits {
        api::limits::CredentialLimits {
            per_account: self.auth_attempts_per_account,
            per_address: self.auth_attempts_per_address,
            window: std::time::Duration::from_secs(self.auth_window_seconds),
        }
    }

    /// The configured bound, or else one hash per core, as far as the available memory allows a
    /// hash (19 MiB) per 64 MiB.
    pub fn password_hashing_concurrency(&self) -> usize {
        match self.password_hashing_concurrency {
            0 => {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let memory = available_memory_mib().map_or(usize::MAX, |mib| (mib / 64).max(1));
                cores.min(memory)
            }
            n => n as usize,
        }
    }
}

/// `MemAvailable` of `/proc/meminfo`, in MiB (`None` where there is no such file).
fn available_memory_mib() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: usize = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}

/// The gateway the workers charge through; Stripe's needs its secret key.
fn gateway(payment: &PaymentArgs, stripe: &StripeArgs) -> Result<GatewaySettings, ConfigError> {
    match payment.payment_gateway {
        GatewayKind::Sandbox => Ok(GatewaySettings::Sandbox),
        GatewayKind::Stripe => {
            let secret_key = stripe
                .stripe_secret_key
                .clone()
                .filter(|k| !k.trim().is_empty())
                .ok_or_else(|| {
                    ConfigError("STRIPE_SECRET_KEY is required with PAYMENT_GATEWAY=stripe".into())
                })?;
            let api_base = stripe.stripe_api_base.trim_end_matches('/').to_owned();
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

impl ReconcilerArgs {
    /// The reconciler's interval; `None` when it is off.
    pub fn every(&self) -> Option<std::time::Duration> {
        (self.reconcile_every_seconds > 0)
            .then(|| std::time::Duration::from_secs(self.reconcile_every_seconds))
    }
}

impl NatsArgs {
    /// NATS and the stream; `None` without `NATS_URL`.
    pub fn bus(&self) -> Option<events::BusSettings> {
        let nats_url = self.nats_url.clone().filter(|u| !u.trim().is_empty())?;
        Some(self.bus_at(nats_url))
    }

    /// The bus at `nats_url` (the one `dev` started, say) with the configured stream.
    pub fn bus_at(&self, nats_url: String) -> events::BusSettings {
        events::BusSettings {
            nats_url,
            stream: events::StreamSettings {
                name: self.events_stream.clone(),
                subject_prefix: self.events_subject_prefix.clone(),
                max_age: std::time::Duration::from_secs(self.events_max_age_seconds),
                max_bytes: self.events_max_bytes,
                ..Default::default()
            },
        }
    }

    /// The relay's settings for `bus`.
    pub fn relay_to(&self, bus: events::BusSettings) -> events::RelaySettings {
        events::RelaySettings {
            bus,
            retention: std::time::Duration::from_secs(self.outbox_retention_seconds),
        }
    }

    /// The relay's settings; `None` without `NATS_URL`.
    pub fn relay(&self) -> Option<events::RelaySettings> {
        self.bus().map(|bus| self.relay_to(bus))
    }
}

impl RelayHereArgs {
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

impl BenchArgs {
    /// What the benchmark runs with.
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
            database_url: self.database.database_url.clone(),
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
