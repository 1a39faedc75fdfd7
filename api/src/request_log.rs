//! Every request, as operators see it: an id (`x-request-id`: the client's when it sends a sane
//! one, else a new one; echoed in the answer), a span that the request's every log line carries
//! (`request_id`, the W3C `traceparent`'s `trace_id` when one came, and `order_id` once a handler
//! knows the order), one log line when it is answered (method, route, path, status, latency), and
//! the HTTP metrics by route template. The `traceparent` is passed on to the order's workflow
//! (see `workflows::client`).

use std::time::Instant;

use poem::{
    Endpoint, IntoResponse, PathPattern, Request, Response,
    http::{HeaderName, HeaderValue},
};
use tracing::Instrument;

/// The header that carries a request's id both ways.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route of a request that matched none: one label for all of them, whatever the path.
const UNMATCHED: &str = "unmatched";

/// The id a client sent, if it is one we can log and echo as it is: 1 to 128 visible ASCII
/// characters.
fn sane(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| text.to_owned())
}

/// Notes the order this request is about on its span: every later log line of the request (and
/// its closing line) carries `order_id`.
pub fn about_order(order_id: impl std::fmt::Display) {
    tracing::Span::current().record("order_id", tracing::field::display(order_id));
}

pub async fn log_requests<E: Endpoint>(
    next: E,
    req: Request,
    metrics: telemetry::Metrics,
) -> poem::Result<Response> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let traceparent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(telemetry::trace::TraceParent::parse);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = traceparent.as_ref().map(|t| t.trace_id().to_owned()),
        order_id = tracing::field::Empty,
    );
    let handled = telemetry::trace::scope(traceparent, next.call(req));
    let mut response = match handled.instrument(span.clone()).await {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    };
    let took = started.elapsed();
    let route = response
        .data::<PathPattern>()
        .map_or(UNMATCHED.to_owned(), |pattern| pattern.0.to_string());
    let status = response.status().as_u16();
    metrics.http_request(method.as_str(), &route, status, took);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    span.in_scope(|| {
        tracing::info!(
            %method,
            %route,
            %path,
            status,
            latency_ms = format_args!("{:.1}", took.as_secs_f64() * 1000.0),
            "request"
        )
    });
    Ok(response)
}
