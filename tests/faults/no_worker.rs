//! No worker, or no Temporal: the only `ticketing worker` process killed (SIGKILL) or stopped
//! (SIGTERM), the Temporal server stopped. An order is then refused at once (503 within 5 s, with
//! `Retry-After` and a message that says which), not after the 30 s a reservation waits;
//! `/readyz` turns 503 within 10 s of the last worker stopping, and 200 again moments after one
//! is back, when orders go through again.

use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use support::TestUser;

use crate::{
    bounded,
    system::{System, TemporalServer},
};

/// How soon an order must be refused.
const REFUSED_WITHIN: Duration = Duration::from_secs(5);
/// How soon `/readyz` must say 503 after the last worker stopped.
const NOT_READY_WITHIN: Duration = Duration::from_secs(10);
/// How soon `/readyz` must say 200 again once a worker is back (it announces itself as it
/// starts).
const READY_AGAIN_WITHIN: Duration = Duration::from_secs(5);

async fn readyz(system: &System) -> (StatusCode, Value) {
    let response = system.api().send(Method::GET, "/readyz", None, None).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until `/readyz` answers `wanted`, for `within` at most; how long it took, and the body.
async fn until_readyz(system: &System, wanted: StatusCode, within: Duration) -> (Duration, Value) {
    let started = Instant::now();
    loop {
        let (status, body) = readyz(system).await;
        if status == wanted {
            return (started.elapsed(), body);
        }
        assert!(
            started.elapsed() < within,
            "/readyz did not answer {wanted} within {within:?}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `POST /api/orders` for a new ticket; the answer and how long it took.
async fn order(system: &System, buyer: &TestUser) -> (Response, Duration) {
    let ticket = system.listed_ticket().await;
    let started = Instant::now();
    let response = system.api().order(&buyer.token, &ticket.to_string()).await;
    (response, started.elapsed())
}

/// Asserts a 503 within [`REFUSED_WITHIN`], with `Retry-After` and the contract's body whose one
/// message starts with `message`; returns how long it took.
async fn assert_refused(system: &System, buyer: &TestUser, message: &str) -> Duration {
    let (response, took) = order(system, buyer).await;
    let status = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(took < REFUSED_WITHIN, "refused after {took:?}: {body}");
    let retry_after = retry_after.expect("a Retry-After header");
    assert!(
        retry_after.to_str().unwrap().parse::<u32>().unwrap() > 0,
        "Retry-After: {retry_after:?}"
    );
    let errors = body["errors"].as_array().expect("the contract's body");
    assert_eq!(errors.len(), 1, "{body}");
    let said = errors[0]["message"].as_str().unwrap();
    assert!(said.starts_with(message), "{body}");
    took
}

async fn assert_ordered(system: &System, buyer: &TestUser) {
    let (response, took) = order(system, buyer).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "after {took:?}: {body}");
}

/// After `/readyz` turned 503, the API's own look at the workers (reused for a second) is stale
/// at most this long.
async fn past_the_apis_look() {
    tokio::time::sleep(workflows::client::workers::WORKERS_SEEN_FOR + Duration::from_millis(100))
        .await;
}

/// The only worker goes away (`stop`), then comes back: readiness and orders follow.
async fn the_only_worker_goes_and_comes_back(stop: fn(&mut System), how: &str) {
    let temporal = TemporalServer::shared();
    let mut system = System::start(&temporal, 60).await;
    system.start_worker(system.db().url.clone()).await;
    let buyer = system.api().new_user().await;
    let (took, _) = until_readyz(&system, StatusCode::OK, READY_AGAIN_WITHIN).await;
    eprintln!("{how}: ready {took:?} after the worker started");
    assert_ordered(&system, &buyer).await;

    let stopped = Instant::now();
    stop(&mut system);
    let (took, body) = until_readyz(
        &system,
        StatusCode::SERVICE_UNAVAILABLE,
        NOT_READY_WITHIN.saturating_sub(stopped.elapsed()),
    )
    .await;
    let not_ready_after = stopped.elapsed();
    eprintln!(
        "{how}: not ready {not_ready_after:?} after the stop began ({took:?} after it ended)"
    );
    let workers = body["dependencies"]["orderWorkers"].as_str().unwrap();
    assert!(
        workers.starts_with("no worker polls the task queue ")
            && workers.contains("none has been seen"),
        "{body}"
    );
    assert_eq!(body["dependencies"]["temporal"], "ok", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("order workers: no worker polls the task queue"),
        "{body}"
    );

    past_the_apis_look().await;
    let took = assert_refused(&system, &buyer, "no worker is taking orders").await;
    eprintln!("{how}: an order refused in {took:?}");
    // Again, from the API's look of a moment ago.
    let took = assert_refused(&system, &buyer, "no worker is taking orders").await;
    eprintln!("{how}: the next order refused in {took:?}");

    let starting = Instant::now();
    system.start_worker(system.db().url.clone()).await;
    let (took, _) = until_readyz(&system, StatusCode::OK, READY_AGAIN_WITHIN).await;
    eprintln!(
        "{how}: ready again {took:?} after the worker said it runs ({:?} after it was started)",
        starting.elapsed()
    );
    past_the_apis_look().await;
    assert_ordered(&system, &buyer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_worker_after_the_only_one_is_killed_refuses_orders_at_once_until_one_is_back() {
    bounded(the_only_worker_goes_and_comes_back(
        System::kill_worker,
        "SIGKILL",
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_worker_after_the_only_one_stops_gracefully_refuses_orders_at_once_until_one_is_back() {
    bounded(the_only_worker_goes_and_comes_back(
        System::stop_worker_gracefully,
        "SIGTERM",
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_worker_matters_less_than_no_temporal_which_is_said_at_once() {
    bounded(async {
        let mut temporal = TemporalServer::start_on_file();
        let mut system = System::start(&temporal, 60).await;
        system.start_worker(system.db().url.clone()).await;
        let buyer = system.api().new_user().await;
        until_readyz(&system, StatusCode::OK, READY_AGAIN_WITHIN).await;
        assert_ordered(&system, &buyer).await;

        temporal.stop();
        let (_, body) =
            until_readyz(&system, StatusCode::SERVICE_UNAVAILABLE, NOT_READY_WITHIN).await;
        assert!(
            body["dependencies"]["temporal"]
                .as_str()
                .unwrap()
                .starts_with("unreachable"),
            "{body}"
        );
        past_the_apis_look().await;
        let took = assert_refused(&system, &buyer, "the workflow service cannot be reached").await;
        eprintln!("no Temporal: an order refused in {took:?}");

        temporal.restart();
        system.keep_worker_alive().await;
        // Back: orders go through again (the worker's connection may take a moment to recover).
        let back = Instant::now();
        loop {
            let (response, _) = order(&system, &buyer).await;
            if response.status() == StatusCode::CREATED {
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(60),
                "no order went through after Temporal came back: {}",
                response.text().await.unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_sent_the_moment_the_only_worker_is_killed_is_refused_within_5_s_and_never_made() {
    bounded(async {
        let temporal = TemporalServer::shared();
        let mut system = System::start(&temporal, 60).await;
        system.start_worker(system.db().url.clone()).await;
        let buyer = system.api().new_user().await;
        until_readyz(&system, StatusCode::OK, READY_AGAIN_WITHIN).await;
        assert_ordered(&system, &buyer).await;
        let ticket = system.listed_ticket().await;

        // Killed; the order comes at once, while the worker's heartbeat still looks fresh.
        system.kill_worker();
        let started = Instant::now();
        let response = system.api().order(&buyer.token, &ticket.to_string()).await;
        let took = started.elapsed();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        eprintln!("an order sent at the kill: {status} after {took:?}");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(took < REFUSED_WITHIN, "refused after {took:?}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("no worker is taking orders"),
            "{body}"
        );

        // A worker comes back: nothing reserves the ticket for the buyer who was told no.
        system.start_worker(system.db().url.clone()).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let held = entities::ticket::Entity::find_by_id(ticket)
            .one(&system.db().connection)
            .await
            .unwrap()
            .unwrap()
            .order_id;
        assert_eq!(held, None, "the ticket is free");
        let made = entities::order::Entity::find()
            .filter(entities::order::Column::TicketId.eq(ticket))
            .count(&system.db().connection)
            .await
            .unwrap();
        assert_eq!(made, 0, "no order was made for it");
    })
    .await;
}
