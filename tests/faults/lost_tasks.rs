//! Steps whose workflow task was lost: a local activity commits, then the workflow task that ran
//! it never completes (the worker loses Temporal and dies; Temporal itself goes away). The step
//! has happened all the same, and the retried task must adopt it, never decide as if it had not.

use std::time::{Duration, Instant};

use entities::{
    event, holding,
    order::{self, Status},
    payment, ticket,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    assert_consistent, bounded, check_clean_within, proxy,
    system::{System, TemporalServer},
};

/// The ticket's row locked by a transaction of the test's own (a write that changes nothing): the
/// `reserve` step's write waits for it until it is rolled back.
async fn lock_ticket(db: &DatabaseConnection, ticket: Uuid) -> DatabaseTransaction {
    let txn = db.begin().await.unwrap();
    ticket::Entity::update_many()
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(0),
        )
        .filter(ticket::Column::Id.eq(ticket))
        .exec(&txn)
        .await
        .unwrap();
    txn
}

/// Waits (20 s at most) until `found` finds something in the database.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut found: impl FnMut() -> F,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(it) = found().await {
            return it;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited 20 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The payment of `order_id` once it is recorded (20 s at most), recorded `how`.
async fn payment_recorded(db: &DatabaseConnection, order_id: Uuid, how: &str) -> payment::Model {
    until(&format!("the payment recorded {how}"), || async move {
        payment::Entity::find()
            .filter(payment::Column::OrderId.eq(order_id))
            .one(db)
            .await
            .unwrap()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_made_by_a_lost_workflow_task_is_adopted_after_the_deadline() {
    bounded(async {
        let temporal = TemporalServer::shared();
        let mut system = System::start(&temporal, 120).await;
        let link = proxy::Link::to(system.temporal_address()).await;
        let (url, through) = (system.db().url.clone(), link.address().to_owned());
        system.start_worker_through(url, through).await;
        let buyer = system.buyer().await;
        let ticket_id = system.listed_ticket().await;
        let db = system.db().connection.clone();

        // The reservation's step is held at its write; meanwhile the worker loses Temporal.
        let lock = lock_ticket(&db, ticket_id).await;
        let asked = Instant::now();
        let ordering = {
            let (system, buyer) = (system.handle(), buyer.clone());
            tokio::spawn(async move { system.order_ticket(&buyer, ticket_id).await })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        link.cut();
        lock.rollback().await.unwrap();
        // The step commits its order; the task that ran it cannot be completed.
        let made = until("the order row of the held reservation", || {
            let db = db.clone();
            async move {
                order::Entity::find()
                    .filter(order::Column::TicketId.eq(ticket_id))
                    .one(&db)
                    .await
                    .unwrap()
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        system.kill_worker();

        // The task is run again only after the reservation's deadline (20 s after it was asked
        // for): the workflow's clock says "too late", the database says "reserved".
        let deadline = workflows::client::RESERVE_WITHIN + Duration::from_secs(2);
        tokio::time::sleep(deadline.saturating_sub(asked.elapsed())).await;
        system.start_worker(system.db().url.clone()).await;

        let (status, answered) = ordering.await.unwrap();
        assert_eq!(
            (status, answered),
            (201, Some(made.id)),
            "the order that holds the ticket is the answer"
        );
        check_clean_within(&system, Duration::from_secs(10)).await;
        assert_eq!(system.status(made.id).await.0, Status::Created);
        let held_by = ticket::Entity::find_by_id(ticket_id)
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .order_id;
        assert_eq!(held_by, Some(made.id), "the open order holds its ticket");
        let state = system.workflow_state(made.id).await;
        assert_eq!(state, "created", "the workflow holds the order open too");

        // And it goes on as any order does.
        assert_eq!(system.pay(&buyer, made.id, "tok_visa").await, 201);
        system.wait_until_settled(&[made.id]).await;
        assert_consistent(&system).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_recorded_while_temporal_was_away_is_answered_201_to_its_request() {
    bounded(async {
        let mut temporal = TemporalServer::start_on_file();
        let mut system = System::start(&temporal, 120).await;
        system.start_worker(system.db().url.clone()).await;
        let buyer = system.buyer().await;
        let order_id = system.order(&buyer).await;
        let db = system.db().connection.clone();

        // The provider charges and answers 4 s later; Temporal goes away meanwhile, so the task
        // that charges and records the payment is never completed.
        let key = Uuid::new_v4().to_string();
        let paying = {
            let (system, buyer, key) = (system.handle(), buyer.clone(), key.clone());
            tokio::spawn(async move {
                system
                    .pay_with_key(&buyer, order_id, "tok_slow", &key)
                    .await
            })
        };
        system.stripe.wait_for_charge_of(order_id).await;
        temporal.stop();
        payment_recorded(&db, order_id, "while Temporal is away").await;
        temporal.restart();
        system.keep_worker_alive().await;

        let (status, body) = paying.await.unwrap();
        let recorded = payment_recorded(&db, order_id, "once").await;
        assert_eq!(
            status, 201,
            "the request whose charge is recorded is told so: {body}"
        );
        assert_eq!(body["id"], Value::from(recorded.id.to_string()));
        assert_eq!(body["chargeId"], Value::from(recorded.charge_id.clone()));

        // Another request to pay the same order is refused as before.
        let again = system
            .pay_with_key(&buyer, order_id, "tok_visa", &Uuid::new_v4().to_string())
            .await;
        assert_eq!(again.0, 400);
        assert_eq!(
            again.1["errors"][0]["message"],
            Value::from("Order has already been paid")
        );
        // The same request again gets its payment.
        let retried = system
            .pay_with_key(&buyer, order_id, "tok_slow", &key)
            .await;
        assert_eq!(retried.0, 201);
        assert_eq!(retried.1["id"], Value::from(recorded.id.to_string()));

        check_clean_within(&system, Duration::from_secs(10)).await;
        assert_eq!(system.workflow_state(order_id).await, "complete");
        assert_consistent(&system).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_whose_worker_died_after_recording_it_is_answered_from_the_record() {
    bounded(async {
        let temporal = TemporalServer::shared();
        let mut system = System::start(&temporal, 120).await;
        let link = proxy::Link::to(system.temporal_address()).await;
        let (url, through) = (system.db().url.clone(), link.address().to_owned());
        system.start_worker_through(url, through).await;
        let buyer = system.buyer().await;
        let order_id = system.order(&buyer).await;
        let db = system.db().connection.clone();

        let key = Uuid::new_v4().to_string();
        let paying = {
            let (system, buyer, key) = (system.handle(), buyer.clone(), key.clone());
            tokio::spawn(async move {
                system
                    .pay_with_key(&buyer, order_id, "tok_slow", &key)
                    .await
            })
        };
        // The charge is made; the worker loses Temporal before its answer comes, records the
        // payment, and dies with its task.
        system.stripe.wait_for_charge_of(order_id).await;
        link.cut();
        payment_recorded(&db, order_id, "by the cut-off worker").await;
        system.kill_worker();
        system.start_worker(system.db().url.clone()).await;

        let (status, body) = paying.await.unwrap();
        assert_eq!(status, 201, "the request that paid is told so: {body}");
        check_clean_within(&system, Duration::from_secs(10)).await;
        assert_eq!(system.workflow_state(order_id).await, "complete");
        assert_eq!(
            system.stripe.charges().len(),
            1,
            "charged once, however often the step ran"
        );
        // The ticket changed hands once: the buyer holds it at the second generation, and one
        // holding:changed went to the outbox, however often the step ran.
        let order = order::Entity::find_by_id(order_id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let held = holding::Entity::find_by_id(order.ticket_id)
            .one(&db)
            .await
            .unwrap()
            .expect("the ticket has a holder");
        assert_eq!(held.user_id, order.user_id, "the buyer holds it");
        assert_eq!(held.generation, 2, "handed over once");
        let handed = event::Entity::find()
            .filter(event::Column::AggregateId.eq(order.ticket_id))
            .filter(event::Column::Kind.eq(event::kind::HOLDING_CHANGED))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(handed.len(), 1, "{handed:?}");
        assert_consistent(&system).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repair_tells_a_workflow_behind_its_order_to_catch_up() {
    bounded(async {
        let temporal = TemporalServer::shared();
        let mut system = System::start(&temporal, 120).await;
        system.start_worker(system.db().url.clone()).await;
        let buyer = system.buyer().await;
        let order_id = system.order(&buyer).await;
        let db = system.db().connection.clone();
        // What a lost workflow task leaves: the order cancelled, its workflow none the wiser.
        activities::order::cancel::cancel_order(
            &db,
            order_id,
            activities::order::CancelReason::Operator,
        )
        .await
        .unwrap();
        assert_eq!(system.workflow_state(order_id).await, "created");

        // `ticketing check --repair` (and the reconciler, which runs the same) finds it through
        // Temporal's visibility, which may lag a moment behind.
        let client = system.temporal_client().await;
        let repaired = until("the repair of the order", || {
            let (db, client) = (db.clone(), client.clone());
            async move {
                let repairs = workflows::check::repair(&db, &client).await.unwrap();
                repairs.into_iter().find(|r| r.order_id == order_id)
            }
        })
        .await;
        assert!(repaired.done.contains("told it to catch up"), "{repaired}");
        check_clean_within(&system, Duration::from_secs(10)).await;
        assert_eq!(system.workflow_state(order_id).await, "cancelled");
        assert_consistent(&system).await;
    })
    .await;
}
