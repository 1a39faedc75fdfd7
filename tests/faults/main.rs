//! Fault tests against real processes on loopback: a `ticketing worker` process killed with
//! SIGKILL and restarted, the Temporal server stopped and restarted on its data file, the database
//! unreachable while activities run. After each, every order has reached the right end, nothing
//! is charged twice, no ticket stays held by a finished order, and the invariant checker
//! (`ticketing check`) finds no disagreement.

mod lost_tasks;
mod no_worker;
mod outage;
mod proxy;
mod system;

use std::time::Duration;

use entities::{
    order::{self, CancelReason, Status},
    payment, ticket,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use system::{Buyer, System, TemporalServer};

/// Every fault test must end within this.
const BOUND: Duration = Duration::from_secs(150);

async fn bounded(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(BOUND, test)
        .await
        .expect("the fault test ends within its bound");
}

/// Waits until the checker (`ticketing check`'s rules) finds the database and the workflows in
/// agreement, `within` at most: after a fault, they agree again within seconds.
async fn check_clean_within(system: &System, within: Duration) {
    let client = system.temporal_client().await;
    let started = std::time::Instant::now();
    loop {
        let found = workflows::check::find_disagreements(&system.db().connection, Some(&client))
            .await
            .unwrap();
        if found.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < within,
            "the checker still disagrees {} s after recovery: {found:#?}",
            within.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The checks every fault test ends with.
async fn assert_consistent(system: &System) {
    let db = &system.db().connection;
    let orders = order::Entity::find().all(db).await.unwrap();
    let charges = system.stripe.charges();
    for order in &orders {
        let key_prefix = order.id.to_string();
        let charged = charges
            .iter()
            .filter(|c| c.key.starts_with(&key_prefix))
            .count();
        let payments = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(order.id))
            .count(db)
            .await
            .unwrap();
        let held_by = ticket::Entity::find_by_id(order.ticket_id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .order_id;
        match order.status {
            Status::Complete => {
                assert_eq!(
                    (charged, payments),
                    (1, 1),
                    "order {}: one charge, one payment",
                    order.id
                );
                assert_eq!(
                    held_by,
                    Some(order.id),
                    "order {}: its ticket is sold",
                    order.id
                );
            }
            Status::Cancelled => {
                assert_eq!(
                    (charged, payments),
                    (0, 0),
                    "order {}: nothing charged",
                    order.id
                );
                assert_ne!(
                    held_by,
                    Some(order.id),
                    "order {}: its ticket is not held",
                    order.id
                );
            }
            other => panic!("order {} is still {other}", order.id),
        }
    }
    let client = system.temporal_client().await;
    let disagreements = workflows::check::find_disagreements(db, Some(&client))
        .await
        .unwrap();
    assert!(
        disagreements.is_empty(),
        "the checker disagrees: {disagreements:#?}"
    );

    // And as an operator runs it.
    let checked = tokio::process::Command::new(support::binary::ticketing())
        .arg("check")
        .env("DATABASE_URL", &system.db().url)
        .env("TEMPORAL_ADDRESS", system.temporal_address())
        .output()
        .await
        .unwrap();
    assert!(
        checked.status.success(),
        "ticketing check: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_killed_in_every_state_and_restarted_loses_nothing_and_charges_once() {
    bounded(async {
        let temporal = TemporalServer::shared();
        let mut system = System::start(&temporal, 8).await;
        system.start_worker(system.db().url.clone()).await;
        let buyer: Buyer = system.buyer().await;

        let expiring = system.order(&buyer).await; // created: will expire while no worker runs
        let paid = system.order(&buyer).await; // complete before the crash
        assert_eq!(system.pay(&buyer, paid, "tok_visa").await, 201);
        let cancelled = system.order(&buyer).await; // cancelled before the crash
        assert_eq!(system.cancel(&buyer, cancelled).await, 204);
        let charging = system.order(&buyer).await; // the provider is charging when the worker dies
        let slow_payment = {
            let (system, buyer) = (system.handle(), buyer.clone());
            tokio::spawn(async move { system.pay(&buyer, charging, "tok_slow").await })
        };
        system.stripe.wait_for_charge_of(charging).await;

        system.kill_worker();
        // Past the first orders' deadline with no worker at all.
        tokio::time::sleep(system.until_expired(expiring).await).await;
        system.start_worker(system.db().url.clone()).await;

        system
            .wait_until_settled(&[expiring, paid, cancelled, charging])
            .await;
        let _ = slow_payment.await;
        assert_eq!(
            system.status(expiring).await,
            (Status::Cancelled, Some(CancelReason::Expired))
        );
        assert_eq!(system.status(paid).await.0, Status::Complete);
        assert_eq!(
            system.status(cancelled).await,
            (Status::Cancelled, Some(CancelReason::Cancelled))
        );
        assert_eq!(
            system.status(charging).await.0,
            Status::Complete,
            "the interrupted charge completed"
        );

        // Business as usual afterwards.
        let after = system.order(&buyer).await;
        assert_eq!(system.pay(&buyer, after, "tok_visa").await, 201);
        assert_consistent(&system).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_after_the_temporal_server_restarts_on_its_data_file() {
    bounded(async {
        let mut temporal = TemporalServer::start_on_file();
        let mut system = System::start(&temporal, 6).await;
        system.start_worker(system.db().url.clone()).await;
        let buyer = system.buyer().await;
        let waiting = [
            system.order(&buyer).await,
            system.order(&buyer).await,
            system.order(&buyer).await,
        ];
        let paid = system.order(&buyer).await;
        assert_eq!(system.pay(&buyer, paid, "tok_visa").await, 201);

        temporal.stop();
        tokio::time::sleep(Duration::from_secs(3)).await;
        temporal.restart();
        system.keep_worker_alive().await;

        system.wait_until_settled(&waiting).await;
        for order in waiting {
            assert_eq!(
                system.status(order).await,
                (Status::Cancelled, Some(CancelReason::Expired))
            );
        }
        assert_eq!(system.status(paid).await.0, Status::Complete);
        assert_consistent(&system).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_retry_through_a_database_outage_and_lose_nothing() {
    bounded(async {
        let temporal = TemporalServer::shared();
        let mut system = System::start(&temporal, 60).await;
        // The worker reaches the database through a proxy that the test can cut.
        let outage = proxy::Outage::for_database(&system.db().url).await;
        system.start_worker(outage.url().to_owned()).await;
        let buyer = system.buyer().await;
        let to_pay = system.order(&buyer).await;
        let ticket = system.listed_ticket().await;

        outage.begin().await;
        let payment = {
            let (system, buyer) = (system.handle(), buyer.clone());
            tokio::spawn(async move { system.pay(&buyer, to_pay, "tok_visa").await })
        };
        let new_order = {
            let (system, buyer) = (system.handle(), buyer.clone());
            tokio::spawn(async move { system.order_ticket(&buyer, ticket).await })
        };
        tokio::time::sleep(outage.length()).await;
        outage.end().await;

        assert_eq!(
            payment.await.unwrap(),
            201,
            "the payment went through once the database was back"
        );
        let (status, ordered) = new_order.await.unwrap();
        assert_eq!(
            status, 201,
            "the reservation went through once the database was back"
        );
        system.wait_until_settled(&[to_pay]).await;
        assert_eq!(system.status(to_pay).await.0, Status::Complete);
        assert_eq!(system.status(ordered.unwrap()).await.0, Status::Created);
        system.cancel(&buyer, ordered.unwrap()).await;
        system.wait_until_settled(&[ordered.unwrap()]).await;
        assert_consistent(&system).await;
    })
    .await;
}
