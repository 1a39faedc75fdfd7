//! The event bus against the real NATS JetStream (`NATS_URL`, else 127.0.0.1:4222, else one the
//! tests start: [`support::nats`]): the relay publishes every domain event of the outbox, once, in
//! order per record, as CloudEvents. Each test has a stream and subject prefix of its own.

mod changes_of_hands;
mod faults;
mod live;

use std::{collections::HashMap, time::Duration};

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use serde_json::{Value, json};
use support::{TestApp, listed_and_ordered, spawn_app};

/// Relay settings of a stream of the test's own on the shared server.
fn settings() -> events::RelaySettings {
    support::nats::relay_settings(support::nats::bus())
}

/// One event as a consumer sees it.
#[derive(Debug, Clone)]
struct Seen {
    subject: String,
    id: String,
    kind: String,
    record: String,
    headers: Vec<String>,
    data: Value,
}

/// Every message on the test's stream, in stream order, once the stream has `count` of them (or
/// 20 s have passed).
async fn read_all(settings: &events::RelaySettings, count: usize) -> Vec<Seen> {
    let client = async_nats::connect(settings.bus.nats_url.as_str())
        .await
        .expect("NATS answers (start nats-server with -js)");
    let js = jetstream::new(client);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // The relay makes the stream when it starts.
    let stream = loop {
        match js.get_stream(&settings.bus.stream.name).await {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(tokio::time::Instant::now() < deadline, "no stream: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < count {
        let next = tokio::time::timeout_at(deadline, messages.next()).await;
        let Ok(Some(Ok(message))) = next else { break };
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        seen.push(Seen {
            subject: message.subject.to_string(),
            id: header("ce-id"),
            kind: header("ce-type"),
            record: header("ce-subject"),
            headers: message
                .headers
                .as_ref()
                .map(|h| h.iter().map(|(name, _)| name.to_string()).collect())
                .unwrap_or_default(),
            data: serde_json::from_slice(&message.payload).unwrap(),
        });
    }
    seen
}

/// Runs a relay for the app's database in the background.
fn relay(app: &TestApp, settings: &events::RelaySettings) {
    let db = app.db.connection.clone();
    let settings = settings.clone();
    tokio::spawn(async move {
        events::relay::run(db, settings, std::future::pending())
            .await
            .expect("the relay runs")
    });
}

async fn outbox_len(app: &TestApp) -> usize {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entities::event::Entity::find()
        .count(&app.db.connection)
        .await
        .unwrap() as usize
}

#[tokio::test]
async fn every_event_of_each_lifecycle_arrives_once_in_order() {
    // Orders expire after 5 s: the paid, cancelled and declined ones end well before.
    let app = support::spawn_app_with(|s| s.order_expiration_seconds = 5).await;
    let settings = settings();
    relay(&app, &settings);
    let expired = listed_and_ordered(&app, "Expired", json!(3)).await;

    // Paid, cancelled by the buyer, declined.
    let paid = listed_and_ordered(&app, "Paid", json!(19.99)).await;
    assert_eq!(
        app.pay(&paid.buyer, &paid.order_id(), "tok_visa")
            .await
            .status(),
        201
    );
    let cancelled = listed_and_ordered(&app, "Cancelled", json!(5)).await;
    let path = format!("/api/orders/{}", cancelled.order_id());
    let gone = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&cancelled.buyer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let declined = listed_and_ordered(&app, "Declined", json!(7)).await;
    let refused = app
        .pay(&declined.buyer, &declined.order_id(), "tok_chargeDeclined")
        .await;
    assert_eq!(refused.status(), 402);

    // The workflows write their last events a moment after the HTTP answers; the unpaid order
    // expires.
    let started = tokio::time::Instant::now();
    loop {
        use sea_orm::EntityTrait;
        let order = entities::order::Entity::find_by_id(
            uuid::Uuid::parse_str(&expired.order_id()).unwrap(),
        )
        .one(&app.db.connection)
        .await
        .unwrap()
        .unwrap();
        if !order.is_open() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the order did not expire"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let written = outbox_len(&app).await;
    let seen = read_all(&settings, written).await;
    assert_eq!(seen.len(), written, "{seen:#?}");

    // Once each, in the outbox's order.
    let ids: Vec<i64> = seen.iter().map(|s| s.id.parse().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "once each, in order");
    for event in &seen {
        assert_eq!(
            event.subject,
            format!(
                "{}.{}",
                settings.bus.stream.subject_prefix,
                event.kind.replace(':', ".")
            )
        );
    }
    // Versions grow per record.
    let mut last: HashMap<String, i64> = HashMap::new();
    for event in seen.iter().filter(|e| e.data["version"].is_i64()) {
        let version = event.data["version"].as_i64().unwrap();
        let key = format!("{}:{}", event.kind.split(':').next().unwrap(), event.record);
        if let Some(before) = last.insert(key.clone(), version) {
            assert!(version > before, "{key}: version {version} after {before}");
        }
    }
    // The paid order's story, in the original's shapes.
    let of = |record: &str| -> Vec<&Seen> { seen.iter().filter(|e| e.record == record).collect() };
    let paid_order = of(&paid.order_id());
    let kinds: Vec<&str> = paid_order.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["order:created"], "{paid_order:#?}");
    assert_eq!(paid_order[0].data["ticket"]["price"], json!(19.99));
    let payment = seen
        .iter()
        .find(|e| e.kind == "payment:created" && e.data["orderId"] == paid.order_id().as_str())
        .expect("payment:created");
    assert!(payment.data["stripeId"].is_string(), "{payment:?}");
    let ticket = of(&paid.ticket_id());
    let kinds: Vec<&str> = ticket.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["ticket:created", "ticket:updated", "holding:changed"],
        "{ticket:#?}"
    );
    assert_eq!(ticket[1].data["orderId"], paid.order_id().as_str());
    // The sale hands the ticket to its buyer, at the second generation.
    assert_eq!(ticket[2].data["holderId"], paid.buyer.id.as_str());
    assert_eq!(ticket[2].data["generation"], 2);
    let kinds: Vec<&str> = of(&expired.order_id())
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["order:created", "order:cancelled", "expiration:complete"]
    );
    for deal in [&expired, &cancelled, &declined] {
        let kinds: Vec<&str> = of(&deal.order_id())
            .iter()
            .map(|e| e.kind.as_str())
            .collect();
        assert_eq!(kinds[..2], ["order:created", "order:cancelled"]);
        let ticket: Vec<&str> = of(&deal.ticket_id())
            .iter()
            .map(|e| e.kind.as_str())
            .collect();
        assert_eq!(
            ticket,
            ["ticket:created", "ticket:updated", "ticket:updated"]
        );
    }
    assert_match_the_asyncapi_document(&seen);
    delete_stream(&settings).await;
}

/// Every message has its channel, the headers and the data fields the AsyncAPI document says.
fn assert_match_the_asyncapi_document(seen: &[Seen]) {
    let document = events::asyncapi::document();
    let messages = &document["components"]["messages"];
    let keys = |schema: &Value| -> Vec<String> {
        let mut keys: Vec<String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    for event in seen {
        let name = event.kind.replace(':', "_");
        let message = &messages[&name];
        assert!(message.is_object(), "{} is not in the document", event.kind);
        let address = document["channels"][&name]["address"].as_str().unwrap();
        assert!(
            event
                .subject
                .ends_with(address.trim_start_matches("ticketing")),
            "{} on {}",
            event.kind,
            event.subject
        );
        for required in message["headers"]["required"].as_array().unwrap() {
            let required = required.as_str().unwrap();
            assert!(
                event
                    .headers
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(required)),
                "{}: no header {required}",
                event.kind
            );
        }
        let mut sent: Vec<String> = event.data.as_object().unwrap().keys().cloned().collect();
        sent.sort();
        assert_eq!(
            sent,
            keys(&message["payload"]),
            "{}: {}",
            event.kind,
            event.data
        );
        for (field, schema) in message["payload"]["properties"].as_object().unwrap() {
            if schema["type"] == "object" {
                let mut nested: Vec<String> = event.data[field]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                nested.sort();
                assert_eq!(nested, keys(schema), "{}.{field}", event.kind);
            }
        }
    }
}

/// The test's stream is not left on the shared server.
async fn delete_stream(settings: &events::RelaySettings) {
    let client = async_nats::connect(settings.bus.nats_url.as_str())
        .await
        .unwrap();
    let _ = jetstream::new(client)
        .delete_stream(&settings.bus.stream.name)
        .await;
}

#[tokio::test]
async fn the_relay_counts_what_it_published_and_how_far_behind_it_is() {
    let app = spawn_app().await;
    let settings = settings();
    let seller = app.new_user().await;
    for i in 0..5 {
        app.create_ticket(&seller, &format!("Counted {i}"), json!(10))
            .await;
    }
    let stats = events::RelayStats::default();
    let db = app.db.connection.clone();
    tokio::spawn(events::relay::run_counted(
        db,
        settings.clone(),
        stats.clone(),
        std::future::pending(),
    ));
    let started = tokio::time::Instant::now();
    while stats.published() < 5 || stats.lag_events() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "published {}, lag {}",
            stats.published(),
            stats.lag_events()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stats.published(), 5);
    assert_eq!(stats.lag_seconds(), 0);
    delete_stream(&settings).await;
}

#[tokio::test]
async fn two_relays_at_once_publish_each_event_once_in_order() {
    let app = spawn_app().await;
    let settings = settings();
    let seller = app.new_user().await;
    for i in 0..30 {
        app.create_ticket(&seller, &format!("Ticket {i}"), json!(10))
            .await;
    }
    relay(&app, &settings);
    relay(&app, &settings);
    for i in 30..60 {
        app.create_ticket(&seller, &format!("Ticket {i}"), json!(10))
            .await;
    }
    let seen = read_all(&settings, 60).await;
    let ids: Vec<i64> = seen.iter().map(|s| s.id.parse().unwrap()).collect();
    assert_eq!(ids, (1..=60).collect::<Vec<i64>>());
    delete_stream(&settings).await;
}

/// The lines `ticketing events tail <args>` prints for the test's stream, until it has printed
/// `count` of them (or 20 s have passed).
async fn tail_lines(settings: &events::RelaySettings, args: &[&str], count: usize) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut tail = tokio::process::Command::new(support::binary::ticketing())
        .args(["events", "tail"])
        .args(args)
        .env("NATS_URL", &settings.bus.nats_url)
        .env("EVENTS_STREAM", &settings.bus.stream.name)
        .env("EVENTS_SUBJECT_PREFIX", &settings.bus.stream.subject_prefix)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ticketing events tail starts");
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while printed.len() < count {
        match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) => printed.push(line),
            _ => break,
        }
    }
    printed
}

#[tokio::test]
async fn events_tail_prints_one_line_per_event() {
    let app = spawn_app().await;
    let settings = settings();
    relay(&app, &settings);
    let deal = listed_and_ordered(&app, "Tailed", json!(10)).await;
    until_stream_holds(&settings.bus, 3).await;

    let all = tail_lines(&settings, &["--from-start", "--durable", "all"], 3).await;
    assert_eq!(all.len(), 3, "{all:#?}");
    assert!(
        all[0].contains(&format!(" ticket:created {} #1 ", deal.ticket_id())),
        "{all:#?}"
    );
    assert!(
        all[1].contains(&format!(" order:created {} #2 ", deal.order_id())),
        "{all:#?}"
    );
    assert!(all[2].contains(" ticket:updated "), "{all:#?}");

    let orders = tail_lines(
        &settings,
        &[
            "--from-start",
            "--durable",
            "orders",
            "--kind",
            "order:created",
        ],
        1,
    )
    .await;
    assert_eq!(orders.len(), 1);
    assert!(orders[0].contains(" order:created "), "{orders:?}");
    assert!(orders[0].contains(r#""status":"created""#), "{orders:?}");
    delete_stream(&settings).await;
}

#[tokio::test]
async fn check_reports_events_left_unpublished_where_a_relay_should_run() {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let app = spawn_app().await;
    let mut late = entities::event::new(
        entities::event::kind::TICKET_CREATED,
        uuid::Uuid::new_v4(),
        0,
        json!({}),
    );
    late.created_at = Set(entities::now() - chrono::Duration::minutes(10));
    entities::event::Entity::insert(late)
        .exec_without_returning(&app.db.connection)
        .await
        .unwrap();
    let check = |nats: Option<String>| {
        let mut command = tokio::process::Command::new(support::binary::ticketing());
        command
            .arg("check")
            .env("DATABASE_URL", &app.db.url)
            .env("TEMPORAL_ADDRESS", &app.worker_config.temporal.address)
            .env("TEMPORAL_NAMESPACE", &app.worker_config.temporal.namespace)
            .env_remove("NATS_URL");
        if let Some(url) = nats {
            command.env("NATS_URL", url);
        }
        command.output()
    };
    // No relay configured: the outbox only waits.
    let without = check(None).await.unwrap();
    assert!(without.status.success(), "{without:?}");
    let with = check(Some(support::nats::shared_url().to_owned()))
        .await
        .unwrap();
    assert!(!with.status.success());
    let said = String::from_utf8_lossy(&with.stdout);
    assert!(said.contains("is not published yet"), "{said}");
}

/// Waits until the test's stream holds `count` messages; how long that took.
async fn until_stream_holds(bus: &events::BusSettings, count: u64) -> Duration {
    let client = async_nats::connect(bus.nats_url.as_str()).await.unwrap();
    let js = jetstream::new(client);
    let started = tokio::time::Instant::now();
    loop {
        if let Ok(mut stream) = js.get_stream(&bus.stream.name).await
            && stream
                .info()
                .await
                .is_ok_and(|info| info.state.messages >= count)
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the stream never held {count} events"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_idle_relay_publishes_a_new_event_at_once() {
    let app = spawn_app().await;
    let settings = settings();
    relay(&app, &settings);
    let seller = app.new_user().await;
    app.create_ticket(&seller, "First", json!(10)).await;
    until_stream_holds(&settings.bus, 1).await;
    // Idle for a while: on PostgreSQL the relay now waits for a notification (it would look
    // again only after 5 s), on SQLite it polls every 200 ms.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.create_ticket(&seller, "Second", json!(10)).await;
    let waited = until_stream_holds(&settings.bus, 2).await;
    assert!(
        waited < Duration::from_millis(2500),
        "the event waited {waited:?} for an idle relay"
    );
    delete_stream(&settings).await;
}

#[tokio::test]
async fn a_worker_relays_the_outbox_when_told_to() {
    let app = spawn_app().await;
    let settings = settings();
    let seller = app.new_user().await;
    app.create_ticket(&seller, "Relayed by a worker", json!(10))
        .await;
    let bus = &settings.bus;
    let metrics = support::ports::free_port();
    let mut worker = tokio::process::Command::new(support::binary::ticketing())
        .arg("worker")
        .env("METRICS_ADDR", format!("127.0.0.1:{metrics}"))
        .env("DATABASE_URL", &app.db.url)
        .env("TEMPORAL_ADDRESS", &app.worker_config.temporal.address)
        .env(
            "TEMPORAL_TASK_QUEUE",
            format!("relay-{}", uuid::Uuid::new_v4().simple()),
        )
        .env("RECONCILE_EVERY_SECONDS", "0")
        .env("RELAY_EVENTS", "true")
        .env("NATS_URL", &bus.nats_url)
        .env("EVENTS_STREAM", &bus.stream.name)
        .env("EVENTS_SUBJECT_PREFIX", &bus.stream.subject_prefix)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("ticketing worker starts");
    until_stream_holds(bus, 1).await;
    let seen = read_all(&settings, 1).await;
    assert_eq!(seen[0].kind, "ticket:created");
    assert_eq!(seen[0].data["title"], "Relayed by a worker");
    // Its /metrics (METRICS_ADDR) counts what the relay published.
    let text = reqwest::get(format!("http://127.0.0.1:{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let published = text
        .lines()
        .find_map(|l| l.strip_prefix("ticketing_relay_published_total "))
        .unwrap_or_else(|| panic!("no relay counter in\n{text}"));
    assert_eq!(published.trim(), "1", "{text}");
    for gauge in ["ticketing_relay_lag_events", "ticketing_relay_lag_seconds"] {
        assert!(text.contains(gauge), "{gauge}: {text}");
    }
    // It stops cleanly on SIGTERM, relay included.
    // SAFETY: a signal to our own child process.
    unsafe {
        libc::kill(worker.id().unwrap() as libc::pid_t, libc::SIGTERM);
    }
    let status = tokio::time::timeout(Duration::from_secs(30), worker.wait())
        .await
        .expect("the worker stops within 30 s")
        .unwrap();
    assert!(status.success(), "{status}");
    delete_stream(&settings).await;
}

#[test]
fn relaying_in_a_worker_without_nats_is_refused_with_one_line() {
    let output = std::process::Command::new(support::binary::ticketing())
        .arg("worker")
        .env("DATABASE_URL", "sqlite://unused.db?mode=rwc")
        .env("TEMPORAL_ADDRESS", "127.0.0.1:1")
        .env("RELAY_EVENTS", "true")
        .env_remove("NATS_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("RELAY_EVENTS") && stderr.contains("NATS_URL"),
        "{stderr}"
    );
}
