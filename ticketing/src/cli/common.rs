//! The groups of flags nearly every command has: the database, Temporal, and where a process
//! without an HTTP server of its own serves `/metrics`.

use std::net::SocketAddr;

use clap::Args;

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL (`postgres://user:pass@host:5432/db`) or SQLite (`sqlite://path.db?mode=rwc`).
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL")]
    pub database_url: Option<String>,
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

/// Where a process without an HTTP server of its own (`worker`, `relay`) serves `/metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Serve `GET /metrics` (Prometheus) on this address, e.g. 0.0.0.0:9464; none when unset.
    #[arg(long, env = "METRICS_ADDR", value_name = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}
