//! Logs: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Lines are written by a thread of their own, in batches: a request does not wait for stderr,
//! and a busy server makes one write per batch instead of one per line. No line is dropped; if
//! the writer falls 128,000 lines behind, logging waits for it.

use std::io::BufWriter;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Keep it until the process ends: dropping it writes out the lines still waiting.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

pub fn init() -> LogGuard {
    init_with_default("info,sqlx=warn,sea_orm=warn,poem=warn,async_nats=warn")
}

/// Like [`init`], with another filter when `RUST_LOG` is not set (e.g. `warn` for a command whose
/// own output should stand out).
pub fn init_with_default(default_filter: &str) -> LogGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(BufWriter::new(std::io::stderr()));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
    LogGuard(installed.is_ok().then_some(guard))
}
