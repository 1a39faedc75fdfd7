//! What an operator's actions on an order's workflow do: a cancellation from the Temporal UI or
//! CLI cancels an unpaid order (reason `operator`, the ticket free again); a paid order is never
//! undone.

use std::time::{Duration, Instant};

use entities::order::{CancelReason, Status};
use serde_json::json;
use support::{TestApp, listed_and_ordered, spawn_app, uuid};
use temporalio_client::{WorkflowCancelOptions, WorkflowHandle};
use uuid::Uuid;
use workflows::OrderWorkflow;

use crate::orders::{assert_ticket_free, assert_ticket_held_by, pay};

async fn handle(
    app: &TestApp,
    order: Uuid,
) -> WorkflowHandle<temporalio_client::Client, OrderWorkflow> {
    app.temporal()
        .await
        .get_workflow_handle::<OrderWorkflow>(workflows::workflow_id(order))
}

/// An open order whose workflow an operator terminated (the order stays `created`).
async fn terminated_order(app: &TestApp, title: &str) -> (support::Deal, Uuid) {
    let deal = listed_and_ordered(app, title, json!(10)).await;
    let order = uuid(&deal.order_id());
    handle(app, order)
        .await
        .terminate(temporalio_client::WorkflowTerminateOptions::default())
        .await
        .unwrap();
    (deal, order)
}

/// Waits (20 s at most) until the order is no longer open; its status and cancel reason.
async fn settled(app: &TestApp, order: Uuid) -> (Status, Option<CancelReason>) {
    use sea_orm::EntityTrait;
    let started = Instant::now();
    loop {
        let row = entities::order::Entity::find_by_id(order)
            .one(&app.db.connection)
            .await
            .unwrap()
            .unwrap();
        if !row.is_open() {
            return (row.status, row.cancel_reason);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still {}",
            row.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_operators_cancellation_cancels_an_open_order() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Cancelled by support", json!(10)).await;
    let order = uuid(&deal.order_id());
    let cancel = WorkflowCancelOptions::builder()
        .reason("the buyer asked support".to_owned())
        .build();
    handle(&app, order).await.cancel(cancel).await.unwrap();

    assert_eq!(
        settled(&app, order).await,
        (Status::Cancelled, Some(CancelReason::Operator))
    );
    assert_ticket_free(&app, &deal.ticket_id()).await;
    let client = app.temporal().await;
    let found = workflows::check::find_disagreements(&app.db.connection, Some(&client))
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:#?}");
}

#[tokio::test]
async fn an_operators_cancellation_never_undoes_a_paid_order() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Paid", json!(10)).await;
    assert_eq!(
        pay(&app, &deal.buyer, &deal.order_id(), "tok_visa")
            .await
            .status(),
        201
    );
    let order = uuid(&deal.order_id());
    // The workflow has ended: the request is refused, or does nothing.
    let _ = handle(&app, order)
        .await
        .cancel(WorkflowCancelOptions::default())
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(settled(&app, order).await, (Status::Complete, None));
    assert_ticket_held_by(&app, &deal.ticket_id(), &deal.order_id()).await;
}

#[tokio::test]
async fn a_terminated_order_is_repaired_by_check_repair() {
    let app = spawn_app().await;
    let (deal, order) = terminated_order(&app, "Terminated").await;

    let check = |repair: bool| {
        let mut command = tokio::process::Command::new(support::binary::ticketing());
        command.arg("check");
        if repair {
            command.arg("--repair");
        }
        command
            .env("DATABASE_URL", &app.db.url)
            .env("TEMPORAL_ADDRESS", &app.worker_config.temporal.address)
            .env("TEMPORAL_NAMESPACE", &app.worker_config.temporal.namespace)
            .output()
    };
    // Without --repair it only says so (and fails).
    let said = check(false).await.unwrap();
    assert!(!said.status.success());
    assert!(
        String::from_utf8_lossy(&said.stdout).contains("is terminated, not running"),
        "{said:?}"
    );
    let repaired = check(true).await.unwrap();
    let out = String::from_utf8_lossy(&repaired.stdout);
    assert!(
        repaired.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&repaired.stderr)
    );
    assert!(out.contains(&format!("repaired order {order}")), "{out}");
    assert_eq!(
        settled(&app, order).await,
        (Status::Cancelled, Some(CancelReason::Operator))
    );
    assert_ticket_free(&app, &deal.ticket_id()).await;
    // Nothing left to repair, and all agrees.
    let again = check(true).await.unwrap();
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("repaired"));
}

#[tokio::test]
async fn a_terminated_order_is_repaired_by_the_reconciler() {
    let app = support::spawn_app_configured(|config| {
        config.worker.reconcile_every = Some(Duration::from_secs(2));
    })
    .await;
    let (deal, order) = terminated_order(&app, "Terminated, reconciled").await;

    // Within a few runs of the schedule, through the same cancel step.
    assert_eq!(
        settled(&app, order).await,
        (Status::Cancelled, Some(CancelReason::Operator))
    );
    assert_ticket_free(&app, &deal.ticket_id()).await;
    // What it did is on record: the reconcile workflow's result names the order.
    let client = app.temporal().await;
    let schedule = workflows::reconciler::schedule_id(&app.worker_config.temporal.task_queue);
    let started = Instant::now();
    let said = loop {
        let said = reconciled(&client, &schedule).await;
        if said.iter().any(|line| line.contains(&order.to_string())) {
            break said;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{said:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        said.iter()
            .any(|line| line.contains("cancelled it (reason operator)")),
        "{said:?}"
    );
    let found = workflows::check::find_disagreements(&app.db.connection, Some(&client))
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:#?}");
    // Not left firing at a task queue nobody polls after the test.
    client
        .get_schedule_handle(schedule)
        .delete(Default::default())
        .await
        .unwrap();
}

/// The `repaired` lines of the reconcile workflows the schedule has started and that completed.
async fn reconciled(client: &temporalio_client::Client, schedule: &str) -> Vec<String> {
    use futures::StreamExt;
    use temporalio_client::{WorkflowGetResultOptions, WorkflowListOptions};
    let query = format!(
        "WorkflowType = 'ReconcileWorkflow' AND WorkflowId STARTS_WITH '{schedule}' AND ExecutionStatus = 'Completed'"
    );
    let runs: Vec<_> = client
        .list_workflows(query, WorkflowListOptions::default())
        .collect()
        .await;
    let mut lines = Vec::new();
    for run in runs.into_iter().flatten() {
        let handle =
            client.get_workflow_handle::<workflows::reconciler::ReconcileWorkflow>(run.id());
        if let Ok(done) = handle.get_result(WorkflowGetResultOptions::default()).await {
            lines.extend(done.repaired);
        }
    }
    lines
}
