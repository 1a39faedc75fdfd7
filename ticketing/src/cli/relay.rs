//! `ticketing relay`: its flags, and the groups of NATS and of relaying that the other commands
//! share (`serve` and `worker` may relay too; `dev`, `check` and `events tail` use NATS).

use clap::Args;

use super::{DatabaseArgs, MetricsArgs};

#[derive(Debug, Args)]
pub struct RelayArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub nats: NatsArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
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
