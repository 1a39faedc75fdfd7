//! Logs: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), one line per request.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response};
use tracing_subscriber::EnvFilter;

pub fn init() {
    init_with_default("info,sqlx=warn,sea_orm=warn,poem=warn");
}

/// Like [`init`], with another filter when `RUST_LOG` is not set (e.g. `warn` for a command whose
/// own output should stand out).
pub fn init_with_default(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// One line per request: method, path, status, latency.
pub async fn log_requests<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.call(req).await?.into_response();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = format_args!("{latency_ms:.1}"),
        "request"
    );
    Ok(response)
}
