//! `Idempotency-Key` on `POST /api/orders` and `POST /api/payments`: a retry with the same key
//! gets the same answer (the same order, the same payment, the same refusal), including after its
//! first reply was lost on the way, and never makes a second order or charge; the key with a
//! different request is 422.

use entities::{order, payment};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::{
    TestApp, assert_error, assert_validation, error_entries,
    http::Api,
    proxy::{Loses, losing_replies},
    spawn_app,
};

use crate::orders::{
    assert_ticket_held_by, delete_order, id_of, listed_and_ordered, order_ticket, uuid,
};

/// The buyer's orders of a ticket, straight from the database.
async fn orders_of(app: &TestApp, ticket_id: &str, buyer: &str) -> Vec<order::Model> {
    order::Entity::find()
        .filter(order::Column::TicketId.eq(uuid(ticket_id)))
        .filter(order::Column::UserId.eq(uuid(buyer)))
        .all(&app.db.connection)
        .await
        .unwrap()
}

async fn payments_of(app: &TestApp, order_id: &str) -> Vec<payment::Model> {
    payment::Entity::find()
        .filter(payment::Column::OrderId.eq(uuid(order_id)))
        .all(&app.db.connection)
        .await
        .unwrap()
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    if status != StatusCode::CREATED {
        let entries = error_entries(response, status).await;
        panic!("answered {status}: {entries:?}");
    }
    response.json().await.unwrap()
}

fn a_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn an_order_retried_with_its_key_is_the_same_order() {
    let app = spawn_app().await;
    let (seller, buyer) = (app.new_user().await, app.new_user().await);
    let ticket = id_of(&app.create_ticket(&seller, "Once", json!(10)).await);
    let key = a_key();
    let api = app.api();

    let first = created(
        api.order_with_key(&buyer.token, &ticket, &key)
            .await
            .unwrap(),
    )
    .await;
    let again = created(
        api.order_with_key(&buyer.token, &ticket, &key)
            .await
            .unwrap(),
    )
    .await;

    assert_eq!(again["id"], first["id"]);
    assert_eq!(orders_of(&app, &ticket, &buyer.id).await.len(), 1);
    // Another key is another order: refused, the ticket is held by the first.
    let other = api
        .order_with_key(&buyer.token, &ticket, &a_key())
        .await
        .unwrap();
    assert_error(other, StatusCode::BAD_REQUEST, "Ticket is already reserved").await;
}

#[tokio::test]
async fn an_order_whose_reply_was_lost_is_found_again_with_its_key() {
    for loses in [Loses::TheAnswer, Loses::TheConnection] {
        let app = spawn_app().await;
        let (seller, buyer) = (app.new_user().await, app.new_user().await);
        let ticket = id_of(&app.create_ticket(&seller, "Lost reply", json!(10)).await);
        let key = a_key();
        let lossy = Api::new(&losing_replies(&app.address, loses).await);

        let lost = lossy.order_with_key(&buyer.token, &ticket, &key).await;
        assert!(lost.is_err(), "{loses:?}: the reply got through: {lost:?}");
        let retried = created(
            app.api()
                .order_with_key(&buyer.token, &ticket, &key)
                .await
                .unwrap(),
        )
        .await;

        let orders = orders_of(&app, &ticket, &buyer.id).await;
        assert_eq!(orders.len(), 1, "{loses:?}: {orders:#?}");
        assert_eq!(retried["id"], orders[0].id.to_string(), "{loses:?}");
        assert_ticket_held_by(&app, &ticket, &id_of(&retried)).await;
    }
}

#[tokio::test]
async fn a_retry_after_the_first_process_died_drives_the_same_order() {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let app = spawn_app().await;
    let (seller, buyer) = (app.new_user().await, app.new_user().await);
    let ticket = id_of(&app.create_ticket(&seller, "Died", json!(10)).await);
    let key = a_key();
    // What a process leaves behind when it dies after claiming the key and starting the order's
    // workflow: a key with no answer, and the workflow.
    let order_id = uuid::Uuid::new_v4();
    let request = api::idempotency::fingerprint("POST /api/orders", &[&ticket]);
    let claimed_at = entities::now();
    entities::idempotency_key::Entity::insert(entities::idempotency_key::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        user_id: Set(uuid(&buyer.id)),
        key: Set(key.clone()),
        request: Set(request),
        order_id: Set(order_id),
        answer: Set(None),
        created_at: Set(claimed_at),
    })
    .exec(&app.db.connection)
    .await
    .unwrap();
    let orders = workflows::OrderClient::new(
        app.temporal().await,
        app.worker_config.temporal.task_queue.clone(),
        900,
        telemetry::Metrics::new(),
    );
    let reserved = orders
        .reserve(order_id, uuid(&ticket), uuid(&buyer.id), claimed_at, None)
        .await
        .unwrap();
    assert_eq!(reserved, workflows::client::Reserved::Reserved);

    let retried = created(
        app.api()
            .order_with_key(&buyer.token, &ticket, &key)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(retried["id"], order_id.to_string());
    assert_eq!(orders_of(&app, &ticket, &buyer.id).await.len(), 1);
    // The same order asked of Temporal again joins it, and is the same answer.
    let again = orders
        .reserve(order_id, uuid(&ticket), uuid(&buyer.id), claimed_at, None)
        .await
        .unwrap();
    assert_eq!(again, workflows::client::Reserved::Reserved);
}

#[tokio::test]
async fn a_refusal_retried_with_its_key_is_the_same_refusal() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Taken", json!(10)).await;
    let late = app.new_user().await;
    let key = a_key();
    let api = app.api();
    let refused = api
        .order_with_key(&late.token, &deal.ticket_id(), &key)
        .await
        .unwrap();
    assert_error(
        refused,
        StatusCode::BAD_REQUEST,
        "Ticket is already reserved",
    )
    .await;

    // The ticket is free again, but the key's answer stays what it was.
    assert_eq!(
        delete_order(&app, &deal.buyer, &deal.order_id())
            .await
            .status(),
        204
    );
    let again = api
        .order_with_key(&late.token, &deal.ticket_id(), &key)
        .await
        .unwrap();
    assert_error(again, StatusCode::BAD_REQUEST, "Ticket is already reserved").await;
    assert!(
        orders_of(&app, &deal.ticket_id(), &late.id)
            .await
            .is_empty()
    );
    // A new key is a new request.
    created(
        api.order_with_key(&late.token, &deal.ticket_id(), &a_key())
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_key_reused_with_another_request_is_422() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let buyer = app.new_user().await;
    let first = id_of(&app.create_ticket(&seller, "First", json!(10)).await);
    let second = id_of(&app.create_ticket(&seller, "Second", json!(10)).await);
    let key = a_key();
    let api = app.api();
    created(
        api.order_with_key(&buyer.token, &first, &key)
            .await
            .unwrap(),
    )
    .await;

    let other_ticket = api
        .order_with_key(&buyer.token, &second, &key)
        .await
        .unwrap();
    assert_error(
        other_ticket,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Idempotency-Key was already used with a different request",
    )
    .await;
    // Nor for a payment.
    let order = id_of(&order_ticket(&app, &buyer, &second).await);
    let payment = api
        .pay_with_key(&buyer.token, &order, "tok_visa", &key)
        .await
        .unwrap();
    assert_eq!(payment.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Keys are the buyer's own: another buyer's same key is theirs.
    let other = app.new_user().await;
    let third = id_of(&app.create_ticket(&seller, "Third", json!(10)).await);
    created(
        api.order_with_key(&other.token, &third, &key)
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_malformed_key_is_400() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Keys", json!(10)).await;
    let api = app.api();
    for key in ["x".repeat(256), "two words".into()] {
        let response = api
            .pay_with_key(&deal.buyer.token, &deal.order_id(), "tok_visa", &key)
            .await
            .unwrap();
        let status = response.status();
        let entries = error_entries(response, status).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {entries:?}");
        assert_eq!(
            entries[0].1.as_deref(),
            Some("Idempotency-Key"),
            "{entries:?}"
        );
    }
    assert!(payments_of(&app, &deal.order_id()).await.is_empty());
}

#[tokio::test]
async fn a_payment_retried_with_its_key_charges_once_and_answers_the_same() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Pay once", json!(10)).await;
    let key = a_key();
    let api = app.api();
    let order_id = deal.order_id();
    let pay = || api.pay_with_key(&deal.buyer.token, &order_id, "tok_visa", &key);

    // Ten at once with one key, then once more after: one charge, one answer.
    let at_once = futures::future::join_all((0..10).map(|_| pay())).await;
    let mut answers = Vec::new();
    for response in at_once {
        answers.push(created(response.unwrap()).await);
    }
    answers.push(created(pay().await.unwrap()).await);
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0]["orderId"], deal.order_id());
    assert_eq!(payments_of(&app, &deal.order_id()).await.len(), 1);
    assert_eq!(app.sandbox.charges().len(), 1);
    // Another key for the paid order is a new request: refused as it always was.
    let other = api
        .pay_with_key(&deal.buyer.token, &deal.order_id(), "tok_visa", &a_key())
        .await
        .unwrap();
    assert_error(
        other,
        StatusCode::BAD_REQUEST,
        "Order has already been paid",
    )
    .await;
}

#[tokio::test]
async fn a_payment_whose_reply_was_lost_is_found_again_with_its_key() {
    for loses in [Loses::TheAnswer, Loses::TheConnection] {
        let app = spawn_app().await;
        let deal = listed_and_ordered(&app, "Lost payment reply", json!(10)).await;
        let key = a_key();
        let lossy = Api::new(&losing_replies(&app.address, loses).await);

        let lost = lossy
            .pay_with_key(&deal.buyer.token, &deal.order_id(), "tok_visa", &key)
            .await;
        assert!(lost.is_err(), "{loses:?}: the reply got through: {lost:?}");
        let retried = created(
            app.api()
                .pay_with_key(&deal.buyer.token, &deal.order_id(), "tok_visa", &key)
                .await
                .unwrap(),
        )
        .await;

        let payments = payments_of(&app, &deal.order_id()).await;
        assert_eq!(payments.len(), 1, "{loses:?}");
        assert_eq!(retried["id"], payments[0].id.to_string(), "{loses:?}");
        assert_eq!(app.sandbox.charges().len(), 1, "{loses:?}");
    }
}

#[tokio::test]
async fn a_declined_payment_retried_with_its_key_is_declined_again() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Declined", json!(10)).await;
    let key = a_key();
    let api = app.api();
    for _ in 0..2 {
        let response = api
            .pay_with_key(
                &deal.buyer.token,
                &deal.order_id(),
                "tok_chargeDeclined",
                &key,
            )
            .await
            .unwrap();
        assert_error(
            response,
            StatusCode::PAYMENT_REQUIRED,
            "Your card was declined.",
        )
        .await;
    }
    assert!(app.sandbox.charges().is_empty());
}

#[tokio::test]
async fn a_key_that_is_not_visible_ascii_is_refused_not_ignored() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Gala", json!(10)).await;
    let id = ticket["id"].as_str().unwrap();
    // Bytes a client may send that are not text: the request must not run as if without a key.
    let key = reqwest::header::HeaderValue::from_bytes("clé-1".as_bytes()).unwrap();
    for (method, path, body) in [
        (reqwest::Method::DELETE, format!("/api/tickets/{id}"), None),
        (
            reqwest::Method::POST,
            "/api/orders".to_owned(),
            Some(json!({ "ticketId": id })),
        ),
    ] {
        let mut request = app
            .api()
            .client()
            .request(method.clone(), app.url(&path))
            .bearer_auth(&seller.token)
            .header("Idempotency-Key", key.clone());
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        assert_validation(
            response,
            &[(
                "Idempotency-Key must be 1 to 255 visible ASCII characters without spaces",
                "Idempotency-Key",
            )],
        )
        .await;
    }
    let shown = app.get(&format!("/api/tickets/{id}"), None).await;
    let shown: Value = shown.json().await.unwrap();
    assert!(shown.get("withdrawnAt").is_none(), "{shown}");
}
