//! `ticketing bench`: its flags.

use std::path::PathBuf;

use clap::Args;

use super::{DatabaseArgs, TemporalArgs};

#[derive(Debug, Args)]
#[command(mut_arg("database_url", |arg| arg.help(
    "The system's database, to check its invariants and to run pgbench against (with \
     --base-url). With --embedded, a PostgreSQL URL names the server on which a new database is \
     made for the run and dropped after it; without one, `dev` uses SQLite in its data folder",
)))]
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
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The server process whose peak memory to report (with --base-url).
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub temporal: TemporalArgs,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("a whole number of at least 1".into()),
    }
}
