//! What the Temporal UI shows of each order, read through Temporal's own API as the UI reads it:
//! a static summary (title and price) and details (order, ticket and buyer ids, no personal
//! data), the `OrderOutcome` and `ExpiresAt` search attributes, a summary on the expiry timer and
//! on every step, and current details (the metadata query, which the UI's Queries tab uses)
//! saying what an open order waits for.

use std::{process::Command, time::Duration};

use serde_json::{Value, json};
use support::{TestApp, listed_and_ordered, spawn_app_with, uuid};
use temporalio_client::{
    WorkflowCancelOptions, WorkflowDescribeOptions, WorkflowFetchHistoryOptions, WorkflowHandle,
};
use temporalio_common::protos::temporal::api::{
    common::v1::Payload, enums::v1::EventType, history::v1::HistoryEvent,
};
use workflows::{
    OrderWorkflow,
    search_attributes::{EXPIRES_AT, ORDER_OUTCOME, ORDER_STATUS},
};

async fn handle(
    app: &TestApp,
    order: &str,
) -> WorkflowHandle<temporalio_client::Client, OrderWorkflow> {
    app.temporal()
        .await
        .get_workflow_handle::<OrderWorkflow>(workflows::workflow_id(uuid(order)))
}

/// A text payload (the SDK writes summaries as JSON strings).
fn text(payload: &Payload) -> String {
    serde_json::from_slice::<String>(&payload.data)
        .unwrap_or_else(|_| String::from_utf8_lossy(&payload.data).into_owned())
}

/// The summaries on the history's events (timers, steps), in order.
fn summaries(events: &[HistoryEvent]) -> Vec<(EventType, String)> {
    events
        .iter()
        .filter_map(|event| {
            let summary = event.user_metadata.as_ref()?.summary.as_ref()?;
            Some((event.event_type(), text(summary)))
        })
        .collect()
}

/// `temporal workflow <command> <args>` for the workflow of `order`, as JSON.
fn cli(app: &TestApp, command: &[&str], order: &str) -> Value {
    let cli = std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".into());
    let output = Command::new(cli)
        .arg("workflow")
        .args(command)
        .arg("--workflow-id")
        .arg(workflows::workflow_id(uuid(order)))
        .args(["--address", &app.worker_config.temporal.address])
        .args(["--output", "json"])
        .output()
        .expect("the temporal CLI runs");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_temporal_ui_explains_each_order() {
    let app = spawn_app_with(|s| s.order_expiration_seconds = 6).await;

    // An open order says what it waits for (the metadata query, which the UI shows), and the
    // `state` query answers (the Rust SDK does not list it in the metadata: the README says to
    // ask for it by name).
    let expiring = listed_and_ordered(&app, "Left to expire", json!(3)).await;
    let said = cli(&app, &["metadata"], &expiring.order_id()).to_string();
    assert!(said.contains("Waiting for the buyer to pay"), "{said}");
    let state = cli(&app, &["query", "--name", "state"], &expiring.order_id()).to_string();
    assert!(state.contains(r#""status":"created""#), "{state}");

    let paid = listed_and_ordered(&app, "Paid show", json!(19.99)).await;
    assert_eq!(
        app.pay(&paid.buyer, &paid.order_id(), "tok_visa")
            .await
            .status(),
        201
    );
    let declined = listed_and_ordered(&app, "Declined show", json!(7)).await;
    assert_eq!(
        app.pay(&declined.buyer, &declined.order_id(), "tok_chargeDeclined")
            .await
            .status(),
        402
    );
    let cancelled = listed_and_ordered(&app, "Cancelled show", json!(5)).await;
    let gone = app
        .api()
        .cancel(&cancelled.buyer.token, &cancelled.order_id())
        .await;
    assert_eq!(gone.status(), 204);
    let operator = listed_and_ordered(&app, "Support show", json!(8)).await;
    handle(&app, &operator.order_id())
        .await
        .cancel(WorkflowCancelOptions::default())
        .await
        .unwrap();
    // A reservation the workflow refuses (the API refuses taken tickets itself, so the order's
    // client is asked directly).
    let rejected = uuid::Uuid::new_v4();
    let orders = workflows::OrderClient::new(
        app.temporal().await,
        app.worker_config.temporal.task_queue.clone(),
        6,
        telemetry::Metrics::new(),
    );
    let refused = orders
        .reserve(
            rejected,
            uuid(&paid.ticket_id()),
            uuid(&declined.buyer.id),
            chrono::Utc::now(),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(refused, workflows::client::Reserved::Refused(_)));
    let rejected = rejected.to_string();

    let cases = [
        (
            &paid.order_id(),
            "complete",
            Some("Paid show · 19.99"),
            "charge card",
        ),
        (
            &declined.order_id(),
            "declined",
            Some("Declined show · 7"),
            "charge card",
        ),
        (
            &cancelled.order_id(),
            "cancelled",
            Some("Cancelled show · 5"),
            "cancel order",
        ),
        (
            &operator.order_id(),
            "operator_cancelled",
            Some("Support show · 8"),
            "cancel order",
        ),
        (
            &expiring.order_id(),
            "expired",
            Some("Left to expire · 3"),
            "cancel order",
        ),
        (&rejected, "rejected", None, "reserve ticket"),
    ];
    for (order, outcome, summary, step) in cases {
        let handle = handle(&app, order).await;
        // Wait for the end (the expiring one expires after 6 s).
        let started = tokio::time::Instant::now();
        let described = loop {
            let described = handle
                .describe(WorkflowDescribeOptions::default())
                .await
                .unwrap();
            if described.search_attributes().get(&ORDER_OUTCOME).is_some() {
                break described;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "order {order} ({outcome}) never ended"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let attributes = described.search_attributes();
        assert_eq!(
            attributes.get(&ORDER_OUTCOME).as_deref(),
            Some(outcome),
            "{order}"
        );
        assert!(attributes.get(&ORDER_STATUS).is_some());
        assert_eq!(described.static_summary(), summary, "{order} ({outcome})");
        let details = described.static_details().unwrap_or_default();
        assert!(details.contains(order.as_str()), "{details}");
        assert!(!details.contains('@'), "no e-mail in Temporal: {details}");
        let events = handle
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .unwrap();
        let summaries = summaries(&events);
        assert!(
            summaries.iter().any(|(_, s)| s == "reserve ticket"),
            "{outcome}: {summaries:?}"
        );
        assert!(
            summaries.iter().any(|(_, s)| s.starts_with(step)),
            "{outcome}: no step {step:?} in {summaries:?}"
        );
        if outcome != "rejected" {
            assert!(
                attributes.get(&EXPIRES_AT).is_some(),
                "{outcome}: no ExpiresAt"
            );
            assert!(
                summaries
                    .iter()
                    .any(|(kind, s)| *kind == EventType::TimerStarted
                        && s.contains("expires the order at")),
                "{outcome}: the timer says what it is: {summaries:?}"
            );
        }
    }
}
