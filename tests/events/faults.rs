//! The relay under faults: killed with SIGKILL in the middle of a batch and started again; NATS
//! stopped and started again while events are written. Afterwards the stream holds every event
//! of the outbox exactly once (JetStream drops the copies a restarted relay sends again, by
//! `Nats-Msg-Id`), in the outbox's order, and a consumer that de-duplicates by `ce-id` sees the
//! same.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use devtools::process::{ChildProcess, Launch, Output};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use support::{nats::OwnNats, spawn_app};

use crate::{Seen, delete_stream, read_all};

/// How many messages the stream holds now.
async fn stream_len(bus: &events::BusSettings) -> u64 {
    let client = async_nats::connect(bus.nats_url.as_str()).await.unwrap();
    match jetstream::new(client).get_stream(&bus.stream.name).await {
        Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
        Err(_) => 0,
    }
}

/// Outbox rows the relay marked published.
async fn marked(db: &sea_orm::DatabaseConnection) -> u64 {
    entities::event::Entity::find()
        .filter(entities::event::Column::PublishedAt.is_not_null())
        .count(db)
        .await
        .unwrap()
}

/// Writes `n` events straight into the outbox (as many tickets' creations).
async fn write_events(db: &sea_orm::DatabaseConnection, n: usize) {
    let rows: Vec<_> = (0..n)
        .map(|i| {
            let id = uuid::Uuid::new_v4();
            entities::event::new(
                entities::event::kind::TICKET_CREATED,
                id,
                0,
                json!({"id": id, "title": format!("Ticket {i}"), "priceCents": 1000 + i,
                       "userId": uuid::Uuid::nil(), "version": 0, "orderId": null}),
            )
        })
        .collect();
    for chunk in rows.chunks(200) {
        entities::event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .unwrap();
    }
}

/// `ticketing relay` for the database at `url`, publishing to `bus`.
/// Its warnings go to our standard error.
fn relay_process(url: &str, bus: &events::BusSettings) -> ChildProcess {
    let launch = Launch::new("the relay", support::binary::ticketing())
        .args(["relay"])
        .env("DATABASE_URL", url)
        .env("NATS_URL", &bus.nats_url)
        .env("EVENTS_STREAM", &bus.stream.name)
        .env("EVENTS_SUBJECT_PREFIX", &bus.stream.subject_prefix)
        .env("RUST_LOG", "warn")
        .stderr(Output::Inherit);
    ChildProcess::start(launch).expect("ticketing relay starts")
}

/// Every outbox id, once each, in order, and nothing else: what the stream must hold.
fn assert_each_once_in_order(seen: &[Seen], written: i64) {
    let ids: Vec<i64> = seen.iter().map(|s| s.id.parse().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=written).collect::<Vec<_>>(),
        "the stream holds each event once, in order"
    );
    // A consumer that de-duplicates by `ce-id` sees the same thing.
    let mut unique = std::collections::BTreeSet::new();
    let first_sight: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| unique.insert(*id))
        .collect();
    assert_eq!(first_sight.len() as i64, written);
    assert!(first_sight.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn a_relay_killed_mid_batch_and_started_again_loses_and_repeats_nothing() {
    let app = spawn_app().await;
    let settings = crate::settings();
    let bus = &settings.bus;
    const WRITTEN: usize = 1_500;
    write_events(&app.db.connection, WRITTEN).await;

    // Killed three times while it publishes: at least once with events published but not yet
    // marked (the middle of a batch), which the next relay publishes again.
    let mut mid_batch = 0;
    let mut kills = 0;
    while kills < 3 {
        let before = stream_len(bus).await;
        let mut relay = relay_process(&app.db.url, bus);
        let started = Instant::now();
        while stream_len(bus).await < before + 150 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the relay publishes nothing"
            );
            assert!(relay.try_wait().unwrap().is_none(), "the relay exited");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        relay.kill(); // SIGKILL, and reaped
        kills += 1;
        let (published, marked) = (stream_len(bus).await, marked(&app.db.connection).await);
        if published > marked {
            mid_batch += 1;
        }
        if published as usize >= WRITTEN {
            break;
        }
    }
    assert!(
        mid_batch > 0,
        "no kill fell between a publication and its mark"
    );

    // Started again, it finishes the outbox.
    let mut relay = relay_process(&app.db.url, bus);
    let started = Instant::now();
    while marked(&app.db.connection).await < WRITTEN as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the restarted relay did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.terminate();
    relay.wait().unwrap();

    assert_eq!(
        stream_len(bus).await,
        WRITTEN as u64,
        "no copy in the stream"
    );
    let seen = read_all(&settings, WRITTEN).await;
    assert_each_once_in_order(&seen, WRITTEN as i64);
    delete_stream(&settings).await;
}

#[tokio::test]
async fn nats_stopped_and_started_again_while_events_are_written_loses_and_repeats_nothing() {
    let app = spawn_app().await;
    let mut nats = OwnNats::start();
    let settings = support::nats::relay_settings(support::nats::bus_on(&nats.url()));
    crate::relay(&app, &settings);
    let seller = app.new_user().await;

    // Tickets are listed all along; NATS goes away for two seconds in the middle.
    let writer = {
        let api = app.api();
        let token = seller.token.clone();
        tokio::spawn(async move {
            let mut listed = 0;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(6) {
                let response = api
                    .send(
                        reqwest::Method::POST,
                        "/api/tickets",
                        Some(&token),
                        Some(&json!({"title": format!("Outage {listed}"), "price": 10})),
                    )
                    .await;
                assert_eq!(response.status(), 201, "the API works without NATS");
                listed += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            listed
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nats.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.restart();
    let listed: i64 = writer.await.unwrap();
    assert!(listed > 50, "only {listed} tickets listed");
    let written = crate::outbox_len(&app).await as i64;
    assert!(written >= listed);

    let started = Instant::now();
    while marked(&app.db.connection).await < written as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the relay did not catch up after NATS came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stream_len(&settings.bus).await, written as u64);
    let seen = read_all(&settings, written as usize).await;
    assert_each_once_in_order(&seen, written);
}
