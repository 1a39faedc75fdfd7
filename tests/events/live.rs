//! The pages' live updates over real HTTP: `/live/tickets` and `/orders/:id/live` are server-sent
//! events fed by the bus (a snapshot first, then the events that concern the page), only the
//! buyer follows an order, and without NATS they answer 503 while `/readyz` says the relay is
//! off.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::{listed_and_ordered, spawn_app, spawn_live_app_with};

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    kind: String,
    id: Option<String>,
    data: Value,
}

/// The events of an open `text/event-stream` response, as they come.
struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

impl SseReader {
    fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        SseReader {
            body: response
                .bytes_stream()
                .map(|chunk| chunk.map(|bytes| bytes.to_vec()))
                .boxed(),
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped); panics after 20 s without one.
    async fn next(&mut self) -> Sse {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut kind, mut id, mut data) = ("message".to_owned(), None, String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        kind = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("id: ") {
                        id = Some(value.to_owned());
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push_str(value);
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Sse {
                    kind,
                    id,
                    data: serde_json::from_str(&data).unwrap(),
                };
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("an event within 20 s")
                .expect("the stream goes on")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event `kind` about the record `id`, skipping others (the events of changes the
    /// snapshot already showed may come after it).
    async fn next_about(&mut self, kind: &str, id: &Value) -> Sse {
        loop {
            let event = self.next().await;
            if event.kind == kind && &event.data["id"] == id {
                return event;
            }
        }
    }
}

/// A browser-like client (cookies) signed in as `email` (password `correct horse`, as the
/// tests' users have).
async fn signed_in(app: &support::TestApp, email: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let response = client
        .post(app.url("/api/users/signin"))
        .json(&json!({"email": email, "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    client
}

#[tokio::test]
async fn the_listing_stream_follows_tickets_reserved_and_freed() {
    let (app, _relay) = spawn_live_app_with(|_| {}).await;
    let seller = app.new_user().await;
    let early = app.create_ticket(&seller, "Early", json!(12)).await;

    let response = app
        .client
        .get(app.url("/live/tickets"))
        .send()
        .await
        .unwrap();
    let mut live = SseReader::new(response);
    let snapshot = live.next().await;
    assert_eq!(snapshot.kind, "snapshot");
    assert_eq!(snapshot.data[0]["id"], early["id"], "{:?}", snapshot.data);

    // A new listing, then a reservation, then the buyer's cancellation that frees it.
    let listed = app.create_ticket(&seller, "Live", json!(19.99)).await;
    let created = live.next_about("ticket:created", &listed["id"]).await;
    assert_eq!(created.data["title"], "Live");
    assert_eq!(created.data["price"], json!(19.99));
    assert!(created.id.is_some(), "each event carries its id");

    let buyer = app.new_user().await;
    let order = support::order_ticket(&app, &buyer, listed["id"].as_str().unwrap()).await;
    let reserved = live.next_about("ticket:updated", &listed["id"]).await;
    assert_eq!(reserved.data["orderId"], order["id"]);

    let cancelled = app
        .api()
        .cancel(&buyer.token, order["id"].as_str().unwrap())
        .await;
    assert_eq!(cancelled.status(), 204);
    let freed = live.next_about("ticket:updated", &listed["id"]).await;
    assert!(freed.data["orderId"].is_null(), "{:?}", freed.data);
    assert!(freed.data["version"].as_i64() > reserved.data["version"].as_i64());
}

#[tokio::test]
async fn only_the_buyer_follows_an_order_and_sees_how_it_ends() {
    let (app, _relay) = spawn_live_app_with(|_| {}).await;
    let deal = listed_and_ordered(&app, "Followed", json!(25)).await;
    let path = format!("/orders/{}/live", deal.order_id());

    // Not signed in, or someone else: no stream.
    let anonymous = reqwest::Client::new()
        .get(app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let stranger = app.new_user().await;
    let theirs = signed_in(&app, &stranger.email)
        .await
        .get(app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 401, "another buyer's order");

    let response = signed_in(&app, &deal.buyer.email)
        .await
        .get(app.url(&path))
        .send()
        .await
        .unwrap();
    let mut live = SseReader::new(response);
    let snapshot = live.next().await;
    assert_eq!(snapshot.kind, "snapshot");
    assert_eq!(snapshot.data["status"], "created");

    // Another order's events do not come through; this one's payment does.
    let other = listed_and_ordered(&app, "Elsewhere", json!(5)).await;
    assert_eq!(
        app.pay(&other.buyer, &other.order_id(), "tok_visa")
            .await
            .status(),
        201
    );
    assert_eq!(
        app.pay(&deal.buyer, &deal.order_id(), "tok_visa")
            .await
            .status(),
        201
    );
    let paid = live.next().await;
    assert_eq!(paid.kind, "payment:created", "{paid:?}");
    assert_eq!(paid.data["orderId"], deal.order_id().as_str());
}

#[tokio::test]
async fn without_nats_the_pages_are_not_live_and_readiness_says_the_relay_is_off() {
    let app = spawn_app().await;
    let stream = app.get("/live/tickets", None).await;
    assert_eq!(stream.status(), 503);
    let home = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let page = home.text().await.unwrap();
    assert!(page.contains(r#"<ul id="tickets""#), "{page}");
    assert!(
        !page.contains("data-live"),
        "no live updates without the bus: {page}"
    );

    // Ready all the same (once the worker polls): the API does not need the bus.
    let started = tokio::time::Instant::now();
    let body = loop {
        let body: Value = app.get("/readyz", None).await.json().await.unwrap();
        if body["status"] == "ready" {
            break body;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let events = body["dependencies"]["events"].as_str().unwrap_or_default();
    assert!(events.starts_with("off"), "{body}");
    assert!(events.contains("NATS_URL"), "{body}");
}

#[tokio::test]
async fn with_nats_the_pages_ask_for_live_updates_and_readiness_says_ok() {
    let (app, _relay) = spawn_live_app_with(|_| {}).await;
    let home = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let page = home.text().await.unwrap();
    assert!(page.contains(r#"data-live="/live/tickets""#), "{page}");

    let started = tokio::time::Instant::now();
    loop {
        let body: Value = app.get("/readyz", None).await.json().await.unwrap();
        if body["dependencies"]["events"] == "ok" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "events never ok: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
