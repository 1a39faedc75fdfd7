//! Logs: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), as text or, with
//! `LOG_FORMAT=json`, one JSON object per line (with the fields of the spans it is in, such as
//! `request_id` and `order_id`).
//!
//! Lines are written by a thread of their own, in batches: a request does not wait for stderr,
//! and a busy server makes one write per batch instead of one per line. No line is dropped; if
//! the writer falls 128,000 lines behind, logging waits for it.

use std::io::BufWriter;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// The default filter of a serving process.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,poem=warn,async_nats=warn";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For people: one line of text per event.
    #[default]
    Text,
    /// For machines: one JSON object per line.
    Json,
}

impl LogFormat {
    /// `LOG_FORMAT` from the environment: `text` (or unset) or `json`; anything else is refused
    /// with a message that names it.
    pub fn from_env() -> Result<LogFormat, String> {
        match std::env::var("LOG_FORMAT") {
            Err(_) => Ok(LogFormat::Text),
            Ok(value) => match value.trim().to_ascii_lowercase().as_str() {
                "" | "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err(format!("LOG_FORMAT must be text or json, not {value:?}")),
            },
        }
    }
}

/// Keep it until the process ends: dropping it writes out the lines still waiting.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

/// Starts logging with [`DEFAULT_FILTER`] unless `RUST_LOG` says otherwise.
pub fn init(format: LogFormat) -> LogGuard {
    init_with_default(DEFAULT_FILTER, format)
}

/// Like [`init`], with another filter when `RUST_LOG` is not set (e.g. `warn` for a command whose
/// own output should stand out).
pub fn init_with_default(default_filter: &str, format: LogFormat) -> LogGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
    LogGuard(installed.is_ok().then_some(guard))
}
