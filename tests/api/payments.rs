//! Payments: charge an order once through its workflow, declines, invalid cards, refusals, and
//! concurrent payments.

use entities::payment;
use reqwest::{Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::orders::{
    Deal, SHORT_WINDOW, assert_edit_refused_while_reserved, assert_ticket_free,
    assert_ticket_held_by, cents, delete_order, get_order, id_of, listed_and_ordered, order_rows,
    pay, uuid, wait_for_status,
};
use support::{TestApp, assert_error, assert_validation, error_entries, spawn_app, spawn_app_with};

const ORDER_ID_REQUIRED: (&str, &str) = ("Order ID is required", "orderId");
const TOKEN_REQUIRED: (&str, &str) = ("Token is required", "token");
const DECLINED: &str = "Your card was declined.";
/// The sandbox gateway's message for `tok_invalid`.
const INVALID_TOKEN: &str = "Invalid card token: tok_invalid";

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/// The payment rows of an order, straight from the database.
async fn payment_rows(app: &TestApp, order_id: &str) -> Vec<payment::Model> {
    payment::Entity::find()
        .filter(payment::Column::OrderId.eq(uuid(order_id)))
        .all(&app.db.connection)
        .await
        .expect("the payments are read")
}

/// Pays the deal's order with `tok_visa`, asserting 201, and returns the payment.
async fn pay_with_visa(app: &TestApp, deal: &Deal) -> Value {
    let response = pay(app, &deal.buyer, &deal.order_id(), "tok_visa").await;
    expect_created(response).await
}

async fn expect_created(response: Response) -> Value {
    let status = response.status();
    if status != StatusCode::CREATED {
        let entries = error_entries(response, status).await;
        panic!("POST /api/payments answered {status}: {entries:?}");
    }
    response.json().await.unwrap()
}

/// Asserts the order's status as its buyer sees it.
async fn assert_order_status(app: &TestApp, deal: &Deal, status: &str) {
    let order = get_order(app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], status, "{order}");
}

// ---------------------------------------------------------------------------------------------
// POST /api/payments: success
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn paying_completes_the_order_and_charges_its_price_once() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(19.99)).await;
    let order_id = deal.order_id();

    let response = pay(&app, &deal.buyer, &order_id, "tok_visa").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let paid: Value = response.json().await.unwrap();
    let object = paid.as_object().expect("a payment object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["chargeId", "id", "orderId"], "{paid}");
    uuid(paid["id"].as_str().expect("an id"));
    assert_eq!(paid["orderId"], order_id.as_str(), "{paid}");
    let charge_id = paid["chargeId"].as_str().expect("a charge id").to_owned();
    assert!(!charge_id.is_empty());

    assert_order_status(&app, &deal, "complete").await;
    let rows = payment_rows(&app, &order_id).await;
    assert_eq!(rows.len(), 1, "exactly one payment row: {rows:?}");
    assert_eq!(rows[0].id.to_string(), id_of(&paid));
    assert_eq!(rows[0].charge_id, charge_id);
    assert_eq!(rows[0].amount_cents, 1999);
    assert_eq!(rows[0].currency, "usd");
    assert_eq!(
        app.sandbox.charges(),
        vec![(order_id.clone(), charge_id, 1999)],
        "one charge of the captured price, keyed by the order id"
    );
    // Sold: the ticket stays with this order and is not for sale any more.
    assert_ticket_held_by(&app, &deal.ticket_id(), &order_id).await;
    assert_eq!(order_rows(&app, &deal.ticket_id()).await.len(), 1);
}

#[tokio::test]
async fn the_amount_charged_is_the_price_captured_at_order_time() {
    let app = spawn_app().await;
    for price in [
        json!(19.99),
        json!(1.15),
        json!(0.29),
        json!("12.50"),
        json!(1000000),
    ] {
        let deal = listed_and_ordered(&app, "Gig", price.clone()).await;
        let captured = cents(&deal.order["ticket"]["price"]);
        assert_eq!(
            captured,
            cents(&deal.ticket["price"]),
            "the order captured the ticket's price {price}"
        );
        // The seller cannot change the price of a reserved ticket.
        assert_edit_refused_while_reserved(&app, &deal.seller, &deal.ticket_id()).await;

        let paid = pay_with_visa(&app, &deal).await;

        let charge = app
            .sandbox
            .charges()
            .into_iter()
            .find(|(key, _, _)| *key == deal.order_id())
            .unwrap_or_else(|| panic!("no charge for the order at {price}"));
        assert_eq!(charge.1, paid["chargeId"], "price {price}");
        assert_eq!(charge.2, captured, "price {price} charged in cents");
        let rows = payment_rows(&app, &deal.order_id()).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].amount_cents, captured, "price {price} recorded");
    }
    assert_eq!(app.sandbox.charges().len(), 5, "one charge per order");
}

// ---------------------------------------------------------------------------------------------
// POST /api/payments: validation and access
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn payment_requires_an_order_id_and_a_token() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let order_id = deal.order_id();
    let cases = [
        (json!({"token": "tok_visa"}), vec![ORDER_ID_REQUIRED]),
        (
            json!({"orderId": null, "token": "tok_visa"}),
            vec![ORDER_ID_REQUIRED],
        ),
        (
            json!({"orderId": "", "token": "tok_visa"}),
            vec![ORDER_ID_REQUIRED],
        ),
        (
            json!({"orderId": "not-a-uuid", "token": "tok_visa"}),
            vec![ORDER_ID_REQUIRED],
        ),
        (
            json!({"orderId": 42, "token": "tok_visa"}),
            vec![ORDER_ID_REQUIRED],
        ),
        (json!({"orderId": order_id}), vec![TOKEN_REQUIRED]),
        (
            json!({"orderId": order_id, "token": null}),
            vec![TOKEN_REQUIRED],
        ),
        (
            json!({"orderId": order_id, "token": ""}),
            vec![TOKEN_REQUIRED],
        ),
        (
            json!({"orderId": order_id, "token": "   "}),
            vec![TOKEN_REQUIRED],
        ),
        (
            json!({"orderId": order_id, "token": 42}),
            vec![TOKEN_REQUIRED],
        ),
        (json!({}), vec![ORDER_ID_REQUIRED, TOKEN_REQUIRED]),
        (
            json!({"orderId": "", "token": " "}),
            vec![ORDER_ID_REQUIRED, TOKEN_REQUIRED],
        ),
    ];
    for (body, expected) in cases {
        let response = app
            .post("/api/payments", Some(&deal.buyer.token), &body)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "POST {body}");
        assert_validation(response, &expected).await;
    }
    assert_order_status(&app, &deal, "created").await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn payment_requires_sign_in_before_validation() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    for body in [
        json!({"orderId": deal.order_id(), "token": "tok_visa"}),
        json!({}),
    ] {
        let response = app.post("/api/payments", None, &body).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
    assert_order_status(&app, &deal, "created").await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn paying_an_unknown_order_answers_404() {
    let app = spawn_app().await;
    let buyer = app.new_user().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let response = pay(&app, &buyer, &unknown, "tok_visa").await;

    assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn paying_someone_elses_order_answers_401() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let stranger = app.new_user().await;

    for user in [&stranger, &deal.seller] {
        let response = pay(&app, user, &deal.order_id(), "tok_visa").await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }

    assert_order_status(&app, &deal, "created").await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
    assert!(payment_rows(&app, &deal.order_id()).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// POST /api/payments: the card's answers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_declined_card_answers_402_and_cancels_the_order() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;

    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_chargeDeclined").await;

    assert_error(response, StatusCode::PAYMENT_REQUIRED, DECLINED).await;
    assert_order_status(&app, &deal, "cancelled").await;
    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(
        order["cancelReason"], "declined",
        "the order says why: {order}"
    );
    assert_ticket_free(&app, &deal.ticket_id()).await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
    assert!(payment_rows(&app, &deal.order_id()).await.is_empty());

    // The cancelled order cannot be paid with another card either.
    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "Cannot pay for a cancelled order",
    )
    .await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn an_invalid_card_charges_nothing_and_the_order_can_still_be_paid() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(25)).await;

    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_invalid").await;

    assert_error(response, StatusCode::BAD_REQUEST, INVALID_TOKEN).await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
    assert!(payment_rows(&app, &deal.order_id()).await.is_empty());
    assert_order_status(&app, &deal, "created").await;
    assert_ticket_held_by(&app, &deal.ticket_id(), &deal.order_id()).await;

    let paid = pay_with_visa(&app, &deal).await;

    assert_eq!(paid["orderId"], deal.order_id().as_str(), "{paid}");
    assert_order_status(&app, &deal, "complete").await;
    let charges = app.sandbox.charges();
    assert_eq!(charges.len(), 1, "exactly one charge: {charges:?}");
    assert_eq!(charges[0].1, paid["chargeId"]);
    assert_eq!(charges[0].2, 2500);
    assert_eq!(payment_rows(&app, &deal.order_id()).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// POST /api/payments: refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_cancelled_order_cannot_be_paid() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let response = delete_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_visa").await;

    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "Cannot pay for a cancelled order",
    )
    .await;
    assert_order_status(&app, &deal, "cancelled").await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
    assert!(payment_rows(&app, &deal.order_id()).await.is_empty());
}

#[tokio::test]
async fn an_expired_order_cannot_be_paid() {
    let app = spawn_app_with(|c| c.order_expiration_seconds = SHORT_WINDOW).await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    wait_for_status(&app, &deal.buyer, &deal.order_id(), "cancelled").await;

    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_visa").await;

    assert_error(response, StatusCode::BAD_REQUEST, "Order has expired").await;
    assert_order_status(&app, &deal, "cancelled").await;
    assert_ticket_free(&app, &deal.ticket_id()).await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
    assert!(payment_rows(&app, &deal.order_id()).await.is_empty());
}

#[tokio::test]
async fn a_paid_order_cannot_be_paid_again() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let paid = pay_with_visa(&app, &deal).await;

    for token in ["tok_visa", "tok_mastercard"] {
        let response = pay(&app, &deal.buyer, &deal.order_id(), token).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "Order has already been paid",
        )
        .await;
    }

    assert_order_status(&app, &deal, "complete").await;
    let rows = payment_rows(&app, &deal.order_id()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id.to_string(), id_of(&paid));
    assert_eq!(app.sandbox.charges().len(), 1, "charged once");
}

#[tokio::test]
async fn two_payments_at_once_charge_the_order_once() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(42.5)).await;
    let order_id = deal.order_id();

    let (first, second) = tokio::join!(
        pay(&app, &deal.buyer, &order_id, "tok_visa"),
        pay(&app, &deal.buyer, &order_id, "tok_visa"),
    );

    let mut paid = Vec::new();
    let mut refused = Vec::new();
    for response in [first, second] {
        match response.status() {
            StatusCode::CREATED => paid.push(response.json::<Value>().await.unwrap()),
            StatusCode::BAD_REQUEST => {
                refused.extend(error_entries(response, StatusCode::BAD_REQUEST).await)
            }
            other => {
                let entries = error_entries(response, other).await;
                panic!("a concurrent payment answered {other}: {entries:?}");
            }
        }
    }
    assert_eq!(paid.len(), 1, "exactly one payment succeeds: {refused:?}");
    assert_eq!(refused.len(), 1, "the other is refused: {refused:?}");
    let (message, field) = &refused[0];
    assert!(
        message == "Order has already been paid" || message == "Order is already being paid",
        "refused with {message:?}"
    );
    assert_eq!(field, &None);

    assert_order_status(&app, &deal, "complete").await;
    let rows = payment_rows(&app, &order_id).await;
    assert_eq!(rows.len(), 1, "exactly one payment row: {rows:?}");
    assert_eq!(rows[0].id.to_string(), id_of(&paid[0]));
    let charges = app.sandbox.charges();
    assert_eq!(charges.len(), 1, "exactly one charge: {charges:?}");
    assert_eq!(charges[0], (order_id, rows[0].charge_id.clone(), 4250));
}
