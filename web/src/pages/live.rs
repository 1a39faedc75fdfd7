//! Live pages: server-sent events that let the listing and the order page follow changes without
//! a reload. Each stream starts with a `snapshot` (what the API answers now, read after the
//! stream began to follow the bus, so nothing falls between the two; an order's own events that
//! its snapshot already shows are not passed on), then passes on the bus's events that concern
//! the page, in the original events' shapes (`event:` the kind, `id:` the
//! event id, `data:` the data). The pages work without them: without JavaScript, or without NATS
//! (these answer 503 then, and the pages do not ask).

use std::{sync::Arc, time::Duration};

use events::live::{Follower, LiveEvent};
use poem::{
    IntoResponse, Request, Response, handler,
    http::StatusCode,
    web::{
        Data, Path,
        sse::{Event, SSE},
    },
};

use crate::site::Web;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How soon a browser reconnects after its stream ended, in milliseconds.
const RECONNECT_MS: u64 = 1000;

/// `/live/tickets`: the tickets for sale (`snapshot`, as `GET /api/tickets` lists them), then
/// every `ticket:created` and `ticket:updated`.
#[handler]
pub async fn tickets(req: &Request, web: Data<&Arc<Web>>) -> Response {
    let Some(feed) = &web.config.live else {
        return off();
    };
    let follower = feed.follow();
    let reply = web.backend.get(req, crate::pages::tickets::FOR_SALE).await;
    if !reply.ok() {
        return reply.status.into_response();
    }
    stream(reply.body, follower, |event| event.is_ticket())
}

/// `/orders/:id/live`: the order as its buyer sees it (`snapshot`), then its events
/// (`order:cancelled`, `expiration:complete`, `payment:created`; none of its own that the
/// snapshot already shows). Only for the order's buyer.
#[handler]
pub async fn order(req: &Request, web: Data<&Arc<Web>>, Path(id): Path<String>) -> Response {
    let Some(feed) = &web.config.live else {
        return off();
    };
    let Some(path) = crate::backend::api_path("orders", &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let follower = feed.follow();
    // The API decides who may see the order (401, 404 for anyone but the buyer).
    let reply = web.backend.get(req, &path).await;
    if !reply.ok() {
        return reply.status.into_response();
    }
    // The order's events that the snapshot already shows are not sent again.
    let shown = reply
        .json::<api_types::OrderJson>()
        .map(|order| i64::from(order.version));
    stream(reply.body, follower, move |event| {
        event.concerns_order(&id) && event.newer_than_order(shown)
    })
}

/// Live updates are off in this process (no `NATS_URL`).
fn off() -> Response {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .content_type("text/plain; charset=utf-8")
        .body("Live updates are off: this server follows no event bus (NATS_URL is not set).")
}

/// The `snapshot`, then the events `wanted` keeps, until the follower ends.
fn stream(
    snapshot: Vec<u8>,
    follower: Follower,
    wanted: impl Fn(&LiveEvent) -> bool + Send + 'static,
) -> Response {
    // A page whose stream ended (see `Follower::next`) comes back after a second.
    let retry = Event::retry(RECONNECT_MS);
    let first = Event::message(String::from_utf8_lossy(&snapshot)).event_type("snapshot");
    let events = futures::stream::unfold((follower, wanted), |(mut follower, wanted)| async move {
        loop {
            let event = follower.next().await?;
            if wanted(&event) {
                let message = Event::message(event.data.to_string())
                    .event_type(event.kind.as_str())
                    .id(event.id.as_str());
                return Some((message, (follower, wanted)));
            }
        }
    });
    let mut response = SSE::new(futures::StreamExt::chain(
        futures::stream::iter([retry, first]),
        events,
    ))
    .keep_alive(KEEP_ALIVE)
    .into_response();
    response.headers_mut().insert(
        poem::http::header::CACHE_CONTROL,
        poem::http::HeaderValue::from_static("no-store"),
    );
    response
}
