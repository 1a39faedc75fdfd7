//! The command line: every setting comes from the environment or the matching flag (clap);
//! [`crate::settings`] turns them into the checked settings each part needs.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "ticketing", version, about = "A ticket-resale marketplace", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything on one machine with embedded defaults: a Temporal dev server (unless
    /// TEMPORAL_ADDRESS is set), SQLite under .data/, migrations, the HTTP server.
    Dev(DevArgs),
    /// The HTTP server only (run `ticketing migrate` first).
    Serve(ServeArgs),
    /// The Temporal worker only (the order workflows and their activities); run as many as needed.
    Worker(WorkerArgs),
    /// The outbox relay only: publishes every domain event to NATS JetStream (stream
    /// `TICKETING`); run one or several (on PostgreSQL they take turns).
    Relay(RelayArgs),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Print the AsyncAPI 3 document of the events (JSON) and exit.
    Asyncapi,
    /// Check that orders, tickets, payments and order workflows agree; print what disagrees.
    Check(CheckArgs),
    /// Benchmark full order lifecycles through HTTP, against a baseline workflow on the same
    /// server (the `bench` crate).
    Bench(BenchArgs),
    /// Workflow histories, for replay tests.
    #[command(subcommand)]
    History(HistoryCommand),
    /// The events on the bus (NATS JetStream).
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The system to drive (e.g. http://127.0.0.1:3000); its TEMPORAL_ADDRESS must be given too.
    #[arg(long, value_name = "URL", conflicts_with = "embedded")]
    pub base_url: Option<String>,
    /// Start `ticketing dev` (fresh data, free ports) and drive it.
    #[arg(long)]
    pub embedded: bool,
    /// How many full lifecycles (order, pay, complete).
    #[arg(short = 'n', long, default_value_t = 500, value_parser = at_least_one)]
    pub lifecycles: usize,
    /// How many in flight at once.
    #[arg(short = 'c', long, default_value_t = 16, value_parser = at_least_one)]
    pub concurrency: usize,
    /// How long to measure `GET /api/tickets/:id`, in seconds.
    #[arg(long, default_value_t = 5)]
    pub read_seconds: u64,
    /// Split the lifecycles and the baseline into this many alternating rounds, each with its
    /// own ratio (their median and spread are printed).
    #[arg(long, default_value_t = 3, value_parser = at_least_one)]
    pub rounds: usize,
    /// Afterwards, release about this many orders at the same instant (every buyer orders every
    /// one of BURST/concurrency fresh tickets) and report how they were answered; 0: no burst.
    #[arg(long, default_value_t = 0, value_name = "ORDERS")]
    pub burst: usize,
    /// How many sign-ins to send at once to measure the server's memory under password hashing.
    #[arg(long, default_value_t = 100, value_name = "SIGN_INS")]
    pub sign_ins: usize,
    /// The system's database, to check its invariants and to run pgbench against (with
    /// --base-url). With --embedded, a PostgreSQL URL names the server on which a new database is
    /// made for the run and dropped after it; without one, `dev` uses SQLite in its data folder.
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// The server process whose peak memory to report (with --base-url).
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub temporal: TemporalArgs,
}

/// An order's id, given as itself or as its workflow's id (`order-<id>`, as the Temporal UI
/// shows it).
fn parse_order_id(text: &str) -> Result<uuid::Uuid, String> {
    let text = text.trim();
    text.strip_prefix("order-")
        .unwrap_or(text)
        .parse()
        .map_err(|_| "an order id (a UUID) or its workflow's id, order-<UUID>".to_owned())
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("a whole number of at least 1".into()),
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// First cancel the `created` orders whose workflow is gone or has ended (terminated), which
    /// nothing else would ever free, and print what was done.
    #[arg(long)]
    pub repair: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    /// With NATS_URL set (a relay should be publishing), events left unpublished for more than
    /// five minutes disagree too.
    #[command(flatten)]
    pub nats: NatsArgs,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub nats: NatsArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Where a process without an HTTP server of its own (`worker`, `relay`) serves `/metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Serve `GET /metrics` (Prometheus) on this address, e.g. 0.0.0.0:9464; none when unset.
    #[arg(long, env = "METRICS_ADDR", value_name = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct NatsArgs {
    /// NATS with JetStream (`nats://host:4222`), where the relay publishes the events.
    #[arg(long, env = "NATS_URL", value_name = "NATS_URL")]
    pub nats_url: Option<String>,

    /// The JetStream stream the events go to.
    #[arg(
        long,
        env = "EVENTS_STREAM",
        value_name = "EVENTS_STREAM",
        default_value = "TICKETING"
    )]
    pub events_stream: String,

    /// The first part of every event's subject (`ticketing.ticket.created`).
    #[arg(
        long,
        env = "EVENTS_SUBJECT_PREFIX",
        value_name = "EVENTS_SUBJECT_PREFIX",
        default_value = "ticketing"
    )]
    pub events_subject_prefix: String,

    /// How long the stream keeps an event, in seconds.
    #[arg(long, env = "EVENTS_MAX_AGE_SECONDS", value_name = "EVENTS_MAX_AGE_SECONDS",
          default_value_t = 7 * 24 * 3600, value_parser = clap::value_parser!(u64).range(60..))]
    pub events_max_age_seconds: u64,

    /// The stream's size limit in bytes (the oldest events go first).
    #[arg(long, env = "EVENTS_MAX_BYTES", value_name = "EVENTS_MAX_BYTES",
          default_value_t = 1 << 30, value_parser = clap::value_parser!(i64).range(1_048_576..))]
    pub events_max_bytes: i64,

    /// How long published events stay in the outbox table before the relay deletes them, in
    /// seconds.
    #[arg(long, env = "OUTBOX_RETENTION_SECONDS", value_name = "OUTBOX_RETENTION_SECONDS",
          default_value_t = 24 * 3600, value_parser = clap::value_parser!(u64).range(0..))]
    pub outbox_retention_seconds: u64,
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

/// `serve` and `worker` may relay the outbox too, so that a small deployment needs no process of
/// its own for it.
#[derive(Debug, Args)]
pub struct RelayHereArgs {
    /// Also relay the outbox to NATS in this process (needs NATS_URL); on PostgreSQL any number
    /// of processes may, they take turns.
    #[arg(long, env = "RELAY_EVENTS", value_name = "RELAY_EVENTS", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub relay_events: bool,
    #[command(flatten)]
    pub nats: NatsArgs,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print one line per event (`<time> <kind> <record> #<id> <data>`) as they come, through a
    /// durable consumer that goes on where the last tail of the same name stopped.
    Tail(TailArgs),
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Start at the first event the stream holds.
    #[arg(long)]
    pub from_start: bool,
    /// Only events of this kind (`order:created`, `payment:created`, ...); repeatable.
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// The durable consumer's name.
    #[arg(long, value_name = "NAME", default_value = "events-tail")]
    pub durable: String,
    /// Without NATS_URL, the NATS server `ticketing dev` started with this data folder.
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = ".data"
    )]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub nats: NatsArgs,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Write the history of an order's workflow as JSON (the format the SDK's replayer reads).
    Export(HistoryExportArgs),
}

#[derive(Debug, Args)]
pub struct HistoryExportArgs {
    /// The order whose workflow to export: its id, or its workflow's id (`order-<id>`).
    #[arg(value_name = "ORDER_ID", value_parser = parse_order_id)]
    pub order_id: uuid::Uuid,
    /// Where to write it; standard output when absent.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub temporal: TemporalArgs,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL (`postgres://user:pass@host:5432/db`) or SQLite (`sqlite://path.db?mode=rwc`).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "HTTP_ADDR",
        value_name = "HTTP_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub http_addr: SocketAddr,

    /// Lifetime of a session token, in seconds.
    #[arg(long, env = "JWT_TTL_SECONDS", value_name = "JWT_TTL_SECONDS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub jwt_ttl_seconds: u64,

    /// Where clients reach the API (`https://tickets.example.com`), for the OpenAPI document's
    /// `servers`; the document says `/` (this server) when unset.
    #[arg(long, env = "PUBLIC_URL", value_name = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", value_name = "BODY_LIMIT_BYTES", default_value_t = 65_536,
          value_parser = clap::value_parser!(u64).range(1024..=16_777_216))]
    pub body_limit_bytes: u64,

    #[command(flatten)]
    pub guards: GuardArgs,
}

/// What protects the server from its clients.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// Credential attempts (signup, signin, token) allowed per account in a window; beyond that,
    /// 429 with `Retry-After`.
    #[arg(long, env = "AUTH_ATTEMPTS_PER_ACCOUNT", value_name = "AUTH_ATTEMPTS_PER_ACCOUNT",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub auth_attempts_per_account: u32,

    /// Credential attempts allowed per client address in a window.
    #[arg(long, env = "AUTH_ATTEMPTS_PER_ADDRESS", value_name = "AUTH_ATTEMPTS_PER_ADDRESS",
          default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub auth_attempts_per_address: u32,

    /// The window of those limits, in seconds (attempts come back one by one over it).
    #[arg(long, env = "AUTH_WINDOW_SECONDS", value_name = "AUTH_WINDOW_SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub auth_window_seconds: u64,

    /// Take the client's address from `X-Forwarded-For` (the last address in it): only behind a
    /// proxy you trust that appends it. Otherwise the socket's peer is the client.
    #[arg(long, env = "TRUST_FORWARDED_FOR", value_name = "TRUST_FORWARDED_FOR",
          default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// Passwords hashed or checked at once (19 MiB each); others wait, and get 503 after 10 s.
    /// 0: one per CPU core, at most one per 64 MiB of available memory.
    #[arg(long, env = "PASSWORD_HASHING_CONCURRENCY", value_name = "PASSWORD_HASHING_CONCURRENCY",
          default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=256))]
    pub password_hashing_concurrency: u64,
}

impl GuardArgs {
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

#[derive(Debug, Args)]
pub struct TemporalArgs {
    /// Temporal frontend: `host:port`, or a URL (`https://ns.acct.tmprl.cloud:7233`; https turns
    /// TLS on, with the system's CAs unless one is configured). TLS, a client certificate or an
    /// API key come from TEMPORAL_TLS*, TEMPORAL_API_KEY or a profile of TEMPORAL_CONFIG_FILE, as
    /// for the `temporal` CLI. `dev` starts its own dev server when this is not set.
    #[arg(long, env = "TEMPORAL_ADDRESS", value_name = "TEMPORAL_ADDRESS")]
    pub temporal_address: Option<String>,

    /// Temporal namespace (`default` unless a TEMPORAL_CONFIG_FILE profile names one).
    #[arg(long, env = "TEMPORAL_NAMESPACE", value_name = "TEMPORAL_NAMESPACE")]
    pub temporal_namespace: Option<String>,

    /// Task queue of the order workflows.
    #[arg(
        long,
        env = "TEMPORAL_TASK_QUEUE",
        value_name = "TEMPORAL_TASK_QUEUE",
        default_value = "ticketing"
    )]
    pub temporal_task_queue: String,
}

#[derive(Debug, Args)]
pub struct OrderArgs {
    /// How long an order holds its ticket before it expires, in seconds.
    #[arg(long, env = "ORDER_EXPIRATION_SECONDS", value_name = "ORDER_EXPIRATION_SECONDS",
          default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub order_expiration_seconds: u64,

    /// How many reservations (`POST /api/orders`) this process handles at once, from their first
    /// database read to their workflow's answer; beyond that it answers 503 with `Retry-After` at
    /// once, before any work.
    #[arg(long, env = "MAX_RESERVATIONS_IN_FLIGHT", value_name = "MAX_RESERVATIONS_IN_FLIGHT",
          default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_reservations_in_flight: u64,
}

#[derive(Debug, Args)]
pub struct ReconcilerArgs {
    /// How often the reconciler runs (a Temporal Schedule the worker registers at start-up): it
    /// cancels the orders whose workflow is gone, terminated or ended, and reports the overdue
    /// ones. In seconds; 0 turns it off.
    #[arg(long, env = "RECONCILE_EVERY_SECONDS", value_name = "RECONCILE_EVERY_SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub reconcile_every_seconds: u64,
}

impl ReconcilerArgs {
    /// The reconciler's interval; `None` when it is off.
    pub fn every(&self) -> Option<std::time::Duration> {
        (self.reconcile_every_seconds > 0)
            .then(|| std::time::Duration::from_secs(self.reconcile_every_seconds))
    }
}

/// Which payment gateway charges cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GatewayKind {
    /// Built in: follows the card processor's test tokens (`tok_visa`, `tok_chargeDeclined`, ...).
    Sandbox,
    /// Stripe over HTTP (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`).
    Stripe,
}

#[derive(Debug, Args)]
pub struct PaymentArgs {
    /// `sandbox` or `stripe`.
    #[arg(long, env = "PAYMENT_GATEWAY", value_name = "PAYMENT_GATEWAY", value_enum,
          default_value_t = GatewayKind::Sandbox)]
    pub payment_gateway: GatewayKind,

    /// Secret key of the Stripe account; required with PAYMENT_GATEWAY=stripe.
    #[arg(
        long,
        env = "STRIPE_SECRET_KEY",
        value_name = "STRIPE_SECRET_KEY",
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<String>,

    /// Base URL of the Stripe API.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        value_name = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,

    /// Currency of every price (ISO 4217, lowercase).
    #[arg(long, env = "CURRENCY", value_name = "CURRENCY", default_value = "usd",
          value_parser = parse_currency)]
    pub currency: String,
}

fn parse_public_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some(("http" | "https", rest))
            if !rest.is_empty() && !rest.contains(char::is_whitespace) =>
        {
            Ok(url.to_owned())
        }
        _ => Err("an http(s) URL such as https://tickets.example.com".into()),
    }
}

fn parse_currency(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_lowercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err("a three-letter currency code such as usd".into())
    }
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    #[command(flatten)]
    pub payment: PaymentArgs,
    #[command(flatten)]
    pub reconciler: ReconcilerArgs,
    #[command(flatten)]
    pub events: RelayHereArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    #[command(flatten)]
    pub orders: OrderArgs,
    /// With NATS_URL, the pages follow the events live; with RELAY_EVENTS, this process relays
    /// the outbox too.
    #[command(flatten)]
    pub events: RelayHereArgs,

    /// Which payment gateway the workers charge through (`sandbox` or `stripe`); the order page's
    /// payment form follows it.
    #[arg(long, env = "PAYMENT_GATEWAY", value_name = "PAYMENT_GATEWAY", value_enum,
          default_value_t = GatewayKind::Sandbox)]
    pub payment_gateway: GatewayKind,

    /// Currency of every price (ISO 4217, lowercase), as the workers charge it; the API shows it
    /// beside each price.
    #[arg(long, env = "CURRENCY", value_name = "CURRENCY", default_value = "usd",
          value_parser = parse_currency)]
    pub currency: String,

    /// Key that signs session tokens (HS256), at least 32 characters. Required.
    #[arg(long, env = "JWT_KEY", value_name = "JWT_KEY", hide_env_values = true)]
    pub jwt_key: Option<String>,

    /// Mark the session cookie `Secure` (set it behind HTTPS).
    #[arg(long, env = "COOKIE_SECURE", value_name = "COOKIE_SECURE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    #[command(flatten)]
    pub orders: OrderArgs,
    #[command(flatten)]
    pub payment: PaymentArgs,
    #[command(flatten)]
    pub reconciler: ReconcilerArgs,
    #[command(flatten)]
    pub nats: NatsArgs,

    /// Key that signs session tokens; `dev` creates one in the data folder when unset.
    #[arg(long, env = "JWT_KEY", value_name = "JWT_KEY", hide_env_values = true)]
    pub jwt_key: Option<String>,

    /// Mark the session cookie `Secure`; off in `dev`, which serves plain HTTP.
    #[arg(long, env = "COOKIE_SECURE", value_name = "COOKIE_SECURE", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub cookie_secure: bool,

    /// Folder for the SQLite database, the JWT key and the Temporal dev server's data.
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = ".data"
    )]
    pub data_dir: PathBuf,

    /// The `temporal` CLI to start the dev server with (found on PATH when unset).
    #[arg(long, env = "TEMPORAL_CLI", value_name = "TEMPORAL_CLI")]
    pub temporal_cli: Option<PathBuf>,

    /// Port of the Temporal dev server's frontend.
    #[arg(
        long,
        env = "TEMPORAL_DEV_PORT",
        value_name = "TEMPORAL_DEV_PORT",
        default_value_t = 7233
    )]
    pub temporal_dev_port: u16,

    /// Port of the Temporal Web UI.
    #[arg(
        long,
        env = "TEMPORAL_UI_PORT",
        value_name = "TEMPORAL_UI_PORT",
        default_value_t = 8233
    )]
    pub temporal_ui_port: u16,

    /// The `nats-server` to start for the events when NATS_URL is not set (found on PATH, or in
    /// /usr/sbin, when unset).
    #[arg(long, env = "NATS_SERVER", value_name = "NATS_SERVER")]
    pub nats_server: Option<PathBuf>,

    /// Port of the NATS server `dev` starts; when unset, 4222, or a free port if 4222 is taken.
    #[arg(long, env = "NATS_DEV_PORT", value_name = "NATS_DEV_PORT")]
    pub nats_dev_port: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::parse_order_id;

    #[test]
    fn an_order_is_named_by_its_id_or_its_workflow_id() {
        let id = "2be96a30-6750-4d29-839a-178b99f14892";
        assert_eq!(parse_order_id(id).unwrap().to_string(), id);
        assert_eq!(
            parse_order_id(&format!("order-{id}")).unwrap().to_string(),
            id
        );
        assert!(parse_order_id("order-nope").is_err());
        assert!(parse_order_id("reconcile-ticketing").is_err());
    }
}
