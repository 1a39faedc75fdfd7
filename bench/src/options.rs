//! What `ticketing bench` is asked to measure, and where.

use std::path::PathBuf;

use workflows::TemporalSettings;

/// What to measure, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// A running system (e.g. `http://127.0.0.1:3000`); `None` with `embedded`.
    pub base_url: Option<String>,
    /// Start `ticketing dev` (this very binary, fresh data, free ports) and drive it.
    pub embedded: bool,
    /// How many full lifecycles (order, pay, complete).
    pub lifecycles: usize,
    /// How many in flight at once.
    pub concurrency: usize,
    /// How long to measure `GET /api/tickets/:id`, in seconds.
    pub read_seconds: u64,
    /// The lifecycles and the baseline in this many alternating rounds.
    pub rounds: usize,
    /// About this many orders released at once afterwards (0: none).
    pub burst: usize,
    /// This many sign-ins at once, for the server's memory.
    pub sign_ins: usize,
    /// The system's database (checked afterwards, and read by pgbench); with `embedded`, a
    /// PostgreSQL server on which a database is made for the run.
    pub database_url: Option<String>,
    /// The server process whose peak memory to report (with `base_url`).
    pub server_pid: Option<u32>,
    /// Also write the figures as JSON here.
    pub json: Option<PathBuf>,
    /// The running system's Temporal (with `base_url`).
    pub temporal: Option<TemporalSettings>,
    /// The namespace and task queue of the embedded system.
    pub namespace: String,
    pub task_queue: String,
}
