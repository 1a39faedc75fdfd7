//! The invariant checker (`workflows::check`) against a real database and the Temporal dev server: a
//! normal day agrees; each corruption of the database, or of a workflow, is named plainly.

use entities::{
    order::{self, Status},
    payment, ticket,
};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, sea_query::Expr,
};
use serde_json::json;
use temporalio_client::WorkflowTerminateOptions;
use uuid::Uuid;
use workflows::OrderWorkflow;
use workflows::check::{Disagreement, check, find_disagreements};

use support::{TestApp, TestUser, id_of, order_ticket, spawn_app, uuid};

/// A seller's ticket ordered by `buyer`; returns the ticket id and the order id.
async fn ordered(app: &TestApp, seller: &TestUser, buyer: &TestUser, title: &str) -> (Uuid, Uuid) {
    let ticket = app.create_ticket(seller, title, json!("42.50")).await;
    let order = order_ticket(app, buyer, &id_of(&ticket)).await;
    (uuid(&id_of(&ticket)), uuid(&id_of(&order)))
}

fn subject_of_order(id: Uuid) -> String {
    format!("order {id}")
}

fn subject_of_ticket(id: Uuid) -> String {
    format!("ticket {id}")
}

fn order_said(id: Uuid, problem: &str) -> Disagreement {
    Disagreement {
        subject: subject_of_order(id),
        problem: problem.to_owned(),
    }
}

/// Asserts `expected` is among `found`, showing everything found when it is not.
fn assert_reported(found: &[Disagreement], expected: &Disagreement) {
    assert!(
        found.contains(expected),
        "expected «{expected}» among:\n{}",
        found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn a_normal_day_agrees_and_every_corruption_is_named() {
    let app = spawn_app().await;
    let db = &app.db.connection;
    let client = app.temporal().await;
    let seller = app.new_user().await;
    let buyer = app.new_user().await;

    // A paid order, a cancelled one and two open ones.
    let (_, paid) = ordered(&app, &seller, &buyer, "Paid").await;
    let response = app.pay(&buyer, &paid.to_string(), "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED, "POST /api/payments");
    let (cancelled_ticket, cancelled) = ordered(&app, &seller, &buyer, "Cancelled").await;
    let response = app
        .browser()
        .send(
            Method::DELETE,
            &format!("/api/orders/{cancelled}"),
            Some(&buyer.token),
            None,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "DELETE the order"
    );
    let (_, open) = ordered(&app, &seller, &buyer, "Open").await;
    let (_, abandoned) = ordered(&app, &seller, &buyer, "Abandoned").await;

    // Everything agrees, even right after the finished orders' workflows were told to finish.
    let report = check(db, Some(&client)).await.unwrap();
    assert_eq!(report.disagreements, vec![], "a normal day agrees");
    assert_eq!(
        (report.orders, report.tickets, report.payments),
        (4, 4, 1),
        "counts"
    );
    assert_eq!(find_disagreements(db, None).await.unwrap(), vec![]);

    // 1. The payment of the paid order is lost.
    payment::Entity::delete_many()
        .filter(payment::Column::OrderId.eq(paid))
        .exec(db)
        .await
        .unwrap();
    let found = find_disagreements(db, None).await.unwrap();
    let no_payment = order_said(paid, "complete, but has no payment");
    assert_eq!(found, vec![no_payment.clone()]);
    assert_eq!(
        no_payment.to_string(),
        format!("order {paid}: complete, but has no payment")
    );

    // 2. A freed ticket points at its cancelled order again.
    ticket::Entity::update_many()
        .col_expr(ticket::Column::OrderId, Expr::value(Some(cancelled)))
        .filter(ticket::Column::Id.eq(cancelled_ticket))
        .exec(db)
        .await
        .unwrap();
    let found = find_disagreements(db, None).await.unwrap();
    let held_by_cancelled = Disagreement {
        subject: subject_of_ticket(cancelled_ticket),
        problem: format!(
            "is held by order {cancelled}, which is cancelled (a cancelled order frees its ticket)"
        ),
    };
    assert_reported(&found, &held_by_cancelled);
    assert_eq!(found.len(), 2, "{found:?}");

    // 3. An open order is marked complete behind its workflow's back.
    let mut marked = order::Entity::find_by_id(open)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    marked.status = Set(Status::Complete);
    order::Entity::update(marked).exec(db).await.unwrap();
    let found = find_disagreements(db, Some(&client)).await.unwrap();
    assert_reported(&found, &order_said(open, "complete, but has no payment"));
    assert_reported(
        &found,
        &order_said(
            open,
            &format!(
                "complete, but its workflow {} is still running",
                workflows::workflow_id(open)
            ),
        ),
    );

    // 4. An open order's workflow is terminated: nothing will ever expire or complete it.
    client
        .get_workflow_handle::<OrderWorkflow>(workflows::workflow_id(abandoned))
        .terminate(
            WorkflowTerminateOptions::builder()
                .reason("the checker test")
                .build(),
        )
        .await
        .unwrap();
    // 5. An order that no workflow ever owned.
    let orphan = Uuid::new_v4();
    let model = order::Entity::find_by_id(cancelled)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    order::Entity::insert(order::ActiveModel::from(order::Model {
        id: orphan,
        ..model
    }))
    .exec_without_returning(db)
    .await
    .unwrap();

    let report = check(db, Some(&client)).await.unwrap();
    assert_eq!((report.orders, report.tickets, report.payments), (5, 4, 0));
    let mut expected = vec![
        no_payment,
        held_by_cancelled,
        order_said(open, "complete, but has no payment"),
        order_said(
            open,
            &format!(
                "complete, but its workflow {} is still running",
                workflows::workflow_id(open)
            ),
        ),
        order_said(
            abandoned,
            &format!(
                "created, but its workflow {} is terminated, not running",
                workflows::workflow_id(abandoned)
            ),
        ),
        order_said(
            orphan,
            &format!(
                "cancelled, but its workflow {} does not exist",
                workflows::workflow_id(orphan)
            ),
        ),
    ];
    expected.sort_by(|a, b| (&a.subject, &a.problem).cmp(&(&b.subject, &b.problem)));
    assert_eq!(
        report.disagreements,
        expected,
        "found:\n{}",
        report
            .disagreements
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn tickets_with_two_holders_and_orders_with_the_wrong_price_are_named() {
    let app = spawn_app().await;
    let db = &app.db.connection;
    let seller = app.new_user().await;
    let buyer = app.new_user().await;
    let (ticket_id, paid) = ordered(&app, &seller, &buyer, "Paid").await;
    let response = app.pay(&buyer, &paid.to_string(), "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED, "POST /api/payments");
    assert_eq!(find_disagreements(db, None).await.unwrap(), vec![]);

    // A second, open order for the sold ticket, and a paid price that is not the payment.
    let sold = order::Entity::find_by_id(paid)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let second = Uuid::new_v4();
    order::Entity::insert(order::ActiveModel::from(order::Model {
        id: second,
        status: Status::Created,
        ..sold.clone()
    }))
    .exec_without_returning(db)
    .await
    .unwrap();
    let mut repriced = sold.clone().into_active_model();
    repriced.price_cents = Set(9999);
    order::Entity::update(repriced).exec(db).await.unwrap();
    let payment = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(paid))
        .one(db)
        .await
        .unwrap()
        .unwrap();

    let found = find_disagreements(db, None).await.unwrap();
    assert_reported(
        &found,
        &order_said(
            paid,
            &format!(
                "complete at a price of 9999 cents, but its payment {} is of 4250 cents",
                payment.id
            ),
        ),
    );
    assert_reported(
        &found,
        &order_said(
            second,
            &format!(
                "created, but its ticket {ticket_id} is held by order {paid}, not by this order (which holds it)"
            ),
        ),
    );
    let crowded = found
        .iter()
        .find(|d| d.subject == subject_of_ticket(ticket_id))
        .unwrap_or_else(|| panic!("the ticket is named: {found:?}"));
    assert!(
        crowded
            .problem
            .starts_with("has 2 open or complete orders, not at most one: ")
            && crowded.problem.contains(&format!("{paid} (complete)"))
            && crowded.problem.contains(&format!("{second} (created)")),
        "{crowded}"
    );
    assert_eq!(found.len(), 3, "{found:?}");
}
