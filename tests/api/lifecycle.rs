//! The order lifecycle as operators and crashes see it: durable timers, search attributes and memo,
//! and the 15-minute default window.

use std::time::{Duration, Instant};

use entities::{
    event,
    order::{self, CancelReason, Status},
};
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use temporalio_client::{WorkflowFetchHistoryOptions, WorkflowListOptions};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use uuid::Uuid;
use workflows::OrderWorkflow;

use support::{TestApp, TestUser, listed_and_ordered, spawn_app, spawn_app_with, uuid};

/// A seller lists a ticket and a buyer orders it; returns the buyer, the ticket id and the order.
async fn ordered(app: &TestApp) -> (TestUser, Uuid, Value) {
    let deal = listed_and_ordered(app, "Opera night", json!("42.50")).await;
    let ticket_id = uuid(&deal.ticket_id());
    (deal.buyer, ticket_id, deal.order)
}

fn id_of(order: &Value) -> Uuid {
    order["id"].as_str().unwrap().parse().unwrap()
}

async fn stored_order(app: &TestApp, id: Uuid) -> order::Model {
    order::Entity::find_by_id(id)
        .one(&app.db.connection)
        .await
        .unwrap()
        .expect("the order row")
}

/// Polls `check` every 200 ms until it holds or `within` has passed.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_order_expires_once_its_worker_is_back_after_missing_the_deadline() {
    let mut app = spawn_app_with(|c| c.order_expiration_seconds = 3).await;
    let (_, ticket_id, order) = ordered(&app).await;
    let order_id = id_of(&order);

    // The worker goes away before the window closes and stays away past it.
    app.stop_worker().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        stored_order(&app, order_id).await.status,
        Status::Created,
        "nothing can cancel the order while no worker runs"
    );

    // Back again: the durable timer has fired and the order is cancelled, the ticket freed.
    app.start_worker();
    eventually(
        Duration::from_secs(40),
        "the order is cancelled",
        || async { stored_order(&app, order_id).await.status == Status::Cancelled },
    )
    .await;
    let ticket = app.ticket_row(ticket_id).await;
    assert_eq!(ticket.order_id, None, "the ticket is free again");
    assert_eq!(
        stored_order(&app, order_id).await.cancel_reason,
        Some(CancelReason::Expired)
    );
    let expirations = event::Entity::find()
        .filter(event::Column::AggregateId.eq(order_id))
        .filter(event::Column::Kind.eq(event::kind::EXPIRATION_COMPLETE))
        .count(&app.db.connection)
        .await
        .unwrap();
    assert_eq!(expirations, 1, "expired exactly once");
}

#[tokio::test]
async fn operators_find_orders_by_status_ticket_and_buyer_with_the_title_in_the_memo() {
    let app = spawn_app().await;
    let (buyer, ticket_id, order) = ordered(&app).await;
    let order_id = id_of(&order);
    let response = app
        .post(
            "/api/payments",
            Some(&buyer.token),
            &json!({"orderId": order_id, "token": "tok_visa"}),
        )
        .await;
    assert_eq!(response.status(), 201);

    let client = app.temporal().await;
    let query = format!(
        "OrderStatus = 'complete' AND TicketId = '{ticket_id}' AND BuyerId = '{}'",
        buyer.id
    );
    // Visibility is eventually consistent: poll.
    let started = Instant::now();
    let found = loop {
        let found: Vec<String> = client
            .list_workflows(query.clone(), WorkflowListOptions::default())
            .filter_map(|w| async move { w.ok().map(|w| w.id().to_owned()) })
            .collect()
            .await;
        if !found.is_empty() || started.elapsed() > Duration::from_secs(20) {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(found, vec![workflows::workflow_id(order_id)]);

    let described = client
        .get_workflow_handle::<OrderWorkflow>(workflows::workflow_id(order_id))
        .describe(Default::default())
        .await
        .unwrap();
    let title: Option<String> = described.memo().get("title").unwrap();
    assert_eq!(title.as_deref(), Some("Opera night"));
}

#[tokio::test]
async fn the_default_window_is_15_minutes_on_a_durable_timer() {
    let app = spawn_app().await;
    let (_, _, order) = ordered(&app).await;
    let order_id = id_of(&order);

    // What the buyer sees: about 900 seconds left.
    let expires_at: chrono::DateTime<chrono::Utc> =
        order["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = (expires_at - chrono::Utc::now()).num_seconds();
    assert!((890..=900).contains(&left), "{left} s left");

    // What the workflow did: one timer of exactly 900 s.
    let events = app
        .temporal()
        .await
        .get_workflow_handle::<OrderWorkflow>(workflows::workflow_id(order_id))
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .unwrap();
    let timers: Vec<i64> = events
        .iter()
        .filter_map(|e| match &e.attributes {
            Some(Attributes::TimerStartedEventAttributes(timer)) => {
                timer.start_to_fire_timeout.as_ref().map(|d| d.seconds)
            }
            _ => None,
        })
        .collect();
    assert_eq!(timers, vec![900]);
}

/// The workflow's refusals reach the API as typed values (the failure's type), not as text: an
/// empty card token, which the API itself never sends, is refused by the workflow's validator.
#[tokio::test]
async fn the_workflow_refuses_with_a_typed_refusal() {
    let app = spawn_app().await;
    let (_, _, order) = ordered(&app).await;
    let orders = workflows::OrderClient::new(
        app.temporal().await,
        app.worker_config.temporal.task_queue.clone(),
        900,
        telemetry::Metrics::new(),
    );
    let answer = orders
        .pay(id_of(&order), String::new(), request())
        .await
        .expect("Temporal answers");
    assert_eq!(
        answer,
        workflows::client::Paid::Refused(workflows::Refusal::TokenRequired)
    );
    let answer = orders
        .cancel(id_of(&order))
        .await
        .expect("Temporal answers");
    assert_eq!(answer, workflows::client::Cancelled::Cancelled);
    let answer = orders
        .pay(id_of(&order), "tok_visa".into(), request())
        .await
        .expect("Temporal answers");
    assert!(
        matches!(
            answer,
            workflows::client::Paid::Refused(workflows::Refusal::Cancelled)
                | workflows::client::Paid::Ended
        ),
        "{answer:?}"
    );
}

/// A request id of its own for a payment sent straight to the workflow.
fn request() -> workflows::client::RequestId {
    workflows::client::RequestId(format!("payment:{}", uuid::Uuid::new_v4()))
}
