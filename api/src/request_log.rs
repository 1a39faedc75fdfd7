//! One log line per request: method, path, status, latency.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response};

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
