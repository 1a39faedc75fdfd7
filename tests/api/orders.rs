//! Orders: reserve a ticket (which starts its `OrderWorkflow`), list, show, cancel, expiry, and the
//! workflow's live state.
//!
//! Longer than 500 lines on purpose: one file per table of the HTTP contract
//! (`../shared/docs/api-contract.md`), each row a test here, so a reader finds every rule of an
//! area in one place; the shared helpers live in `tests/support`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::order::{self, CancelReason, Status};
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use support::{
    TestApp, TestUser, assert_error, assert_validation, error_entries, spawn_app,
    spawn_app_configured, spawn_app_with,
};

const TICKET_ID_REQUIRED: (&str, &str) = ("TicketId must be provided", "ticketId");
const LIMIT_INVALID: (&str, &str) = ("limit must be an integer between 1 and 500", "limit");
const OFFSET_INVALID: (&str, &str) = ("offset must be a non-negative integer", "offset");
const RESERVED: &str = "Ticket is already reserved";
/// The default order window of the harness (`order_expiration_seconds`).
const DEFAULT_WINDOW: i64 = 900;
/// The short window of the expiry tests.
pub(crate) const SHORT_WINDOW: u64 = 2;
/// How long a test waits for the workflow to do something by itself.
const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Local helpers (also used by the payment tests)
// ---------------------------------------------------------------------------------------------

pub(crate) use support::{Deal, id_of, listed_and_ordered, order_ticket, post_order, uuid};

/// `GET /api/orders/:id` as `user`, asserting 200.
pub(crate) async fn get_order(app: &TestApp, user: &TestUser, id: &str) -> Value {
    let response = app
        .get(&format!("/api/orders/{id}"), Some(&user.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "GET /api/orders/{id}");
    response.json().await.unwrap()
}

/// `DELETE /api/orders/:id` as `user`.
pub(crate) async fn delete_order(app: &TestApp, user: &TestUser, id: &str) -> Response {
    app.browser()
        .send(
            Method::DELETE,
            &format!("/api/orders/{id}"),
            Some(&user.token),
            None,
        )
        .await
}

/// `POST /api/payments {orderId, token}` as `user`.
pub(crate) async fn pay(app: &TestApp, user: &TestUser, order_id: &str, token: &str) -> Response {
    app.post(
        "/api/payments",
        Some(&user.token),
        &json!({"orderId": order_id, "token": token}),
    )
    .await
}

/// The seller's edit of a ticket an order holds is refused.
pub(crate) async fn assert_edit_refused_while_reserved(app: &TestApp, seller: &TestUser, id: &str) {
    let body = json!({"title": "Opera", "price": 20});
    let path = format!("/api/tickets/{id}");
    let response = app.put(&path, Some(&seller.token), &body).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "Cannot edit a reserved ticket",
    )
    .await;
}

/// `GET /api/tickets/:id` (anyone may look).
pub(crate) async fn get_ticket(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/api/tickets/{id}"), None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET /api/tickets/{id}");
    response.json().await.unwrap()
}

/// The ids `GET /api/tickets` lists (tickets that are not reserved).
pub(crate) async fn listed_ticket_ids(app: &TestApp) -> Vec<String> {
    let response = app.get("/api/tickets?limit=500", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body.as_array()
        .expect("an array")
        .iter()
        .map(id_of)
        .collect()
}

/// Asserts the ticket is free: no `orderId`, and listed again.
pub(crate) async fn assert_ticket_free(app: &TestApp, ticket_id: &str) {
    let ticket = get_ticket(app, ticket_id).await;
    assert!(
        ticket.get("orderId").is_none(),
        "the ticket is still reserved: {ticket}"
    );
    assert!(
        listed_ticket_ids(app).await.contains(&ticket_id.to_owned()),
        "the free ticket {ticket_id} is listed"
    );
}

/// Asserts the ticket is held by `order_id` and not listed.
pub(crate) async fn assert_ticket_held_by(app: &TestApp, ticket_id: &str, order_id: &str) {
    let ticket = get_ticket(app, ticket_id).await;
    assert_eq!(ticket["orderId"], order_id, "{ticket}");
    assert!(
        !listed_ticket_ids(app).await.contains(&ticket_id.to_owned()),
        "the reserved ticket {ticket_id} is not listed"
    );
}

/// Polls `GET /api/orders/:id` until the order has `status`, for up to [`PATIENCE`].
pub(crate) async fn wait_for_status(
    app: &TestApp,
    user: &TestUser,
    id: &str,
    status: &str,
) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let order = get_order(app, user, id).await;
        if order["status"] == status {
            return order;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "order {id} did not become {status} within {PATIENCE:?}: {order}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The order rows of a ticket, straight from the database.
pub(crate) async fn order_rows(app: &TestApp, ticket_id: &str) -> Vec<order::Model> {
    order::Entity::find()
        .filter(order::Column::TicketId.eq(uuid(ticket_id)))
        .all(&app.db.connection)
        .await
        .expect("the orders are read")
}

/// A price in major units as integer cents, without float surprises (`1.15` is 115).
pub(crate) fn cents(price: &Value) -> i64 {
    (price.as_f64().expect("a numeric price") * 100.0).round() as i64
}

/// Parses a time of the contract: ISO-8601 UTC with milliseconds (`2026-11-23T10:15:00.000Z`).
fn contract_time(text: &Value) -> DateTime<Utc> {
    let text = text.as_str().expect("a time string");
    assert_eq!(text.len(), 24, "ISO-8601 UTC with milliseconds: {text}");
    assert!(
        text.ends_with('Z') && &text[19..20] == ".",
        "ISO-8601 UTC with milliseconds: {text}"
    );
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text} is not ISO-8601: {e}"))
        .with_timezone(&Utc)
}

/// Asserts an order body: exactly the contract's keys (and, for a cancelled order, the additive
/// `cancelReason`) and these values.
fn assert_order(order: &Value, buyer: &TestUser, ticket: &Value, status: &str) {
    let object = order.as_object().expect("an order object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "createdAt",
        "expiresAt",
        "id",
        "status",
        "ticket",
        "updatedAt",
        "userId",
        "version",
    ];
    if status == "cancelled" {
        expected.push("cancelReason");
        let reason = order["cancelReason"].as_str().unwrap_or_default();
        assert!(
            ["buyer", "expired", "declined", "operator"].contains(&reason),
            "{order}"
        );
    }
    if status == "complete" {
        expected.push("payment");
        let payment = &order["payment"];
        assert_eq!(
            payment["priceCents"], order["ticket"]["priceCents"],
            "{order}"
        );
        assert_eq!(payment["currency"], "usd", "{order}");
        assert!(payment["chargeId"].is_string(), "{order}");
        contract_time(&payment["paidAt"]);
    }
    expected.sort_unstable();
    assert_eq!(keys, expected, "{order}");
    contract_time(&order["createdAt"]);
    contract_time(&order["updatedAt"]);
    uuid(order["id"].as_str().expect("an id"));
    assert_eq!(order["userId"], buyer.id.as_str(), "{order}");
    assert_eq!(order["status"], status, "{order}");
    assert!(order["version"].is_i64(), "{order}");
    contract_time(&order["expiresAt"]);
    let embedded = order["ticket"].as_object().expect("a ticket object");
    let mut keys: Vec<&str> = embedded.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["currency", "id", "price", "priceCents", "title", "version"],
        "{order}"
    );
    assert_eq!(order["ticket"]["currency"], "usd", "{order}");
    assert_eq!(
        order["ticket"]["priceCents"].as_i64(),
        ticket["priceCents"].as_i64(),
        "the integer cents of the price: {order}"
    );
    assert_eq!(order["ticket"]["id"], ticket["id"], "{order}");
    assert_eq!(order["ticket"]["title"], ticket["title"], "{order}");
    assert!(order["ticket"]["price"].is_number(), "{order}");
    assert_eq!(
        order["ticket"]["price"].as_f64(),
        ticket["price"].as_f64(),
        "the captured price: {order}"
    );
    assert!(order["ticket"]["version"].is_i64(), "{order}");
}

/// `GET /api/orders<query>` as `user`, and the ids it lists, in order.
async fn list_order_ids(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    let response = app
        .get(&format!("/api/orders{query}"), Some(&user.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "GET /api/orders{query}");
    let body: Value = response.json().await.unwrap();
    body.as_array()
        .expect("an array")
        .iter()
        .map(id_of)
        .collect()
}

/// `GET /api/orders/:id/workflow` as `user`, asserting 200.
async fn get_workflow(app: &TestApp, user: &TestUser, id: &str) -> Value {
    let response = app
        .get(&format!("/api/orders/{id}/workflow"), Some(&user.token))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "GET /api/orders/{id}/workflow"
    );
    response.json().await.unwrap()
}

/// `count` new users, signed up at once.
async fn new_users(app: &TestApp, count: usize) -> Vec<TestUser> {
    futures_util::future::join_all((0..count).map(|_| app.new_user())).await
}

// ---------------------------------------------------------------------------------------------
// POST /api/orders
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_reserves_the_ticket_at_its_price_until_the_window_ends() {
    let app = spawn_app().await;
    let (seller, buyer) = (app.new_user().await, app.new_user().await);
    let ticket = app.create_ticket(&seller, "Concert", json!(19.99)).await;
    let ticket_id = id_of(&ticket);

    let before = Utc::now();
    let response = post_order(&app, &buyer, &ticket_id).await;
    let after = Utc::now();

    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_order(&order, &buyer, &ticket, "created");
    assert_eq!(order["version"], 0, "{order}");
    assert_eq!(order["ticket"]["price"].as_f64(), Some(19.99), "{order}");
    let expires_at = contract_time(&order["expiresAt"]);
    let window = chrono::Duration::seconds(DEFAULT_WINDOW);
    let slack = chrono::Duration::seconds(2);
    assert!(
        expires_at >= before + window - slack && expires_at <= after + window + slack,
        "expiresAt {expires_at} is now + {DEFAULT_WINDOW}s (asked between {before} and {after})"
    );

    let order_id = id_of(&order);
    assert_ticket_held_by(&app, &ticket_id, &order_id).await;
    let stored = get_ticket(&app, &ticket_id).await;
    assert_eq!(order["ticket"]["version"], stored["version"], "{order}");
    let rows = order_rows(&app, &ticket_id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id.to_string(), order_id);
    assert_eq!(rows[0].price_cents, 1999);
    assert_eq!(rows[0].status, Status::Created);
}

#[tokio::test]
async fn create_requires_sign_in_before_validation() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Concert", json!(10)).await;

    for body in [
        json!({"ticketId": id_of(&ticket)}),
        json!({}),
        json!({"ticketId": "not-a-uuid"}),
    ] {
        let response = app.post("/api/orders", None, &body).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
    assert_ticket_free(&app, &id_of(&ticket)).await;
    assert!(order_rows(&app, &id_of(&ticket)).await.is_empty());
}

#[tokio::test]
async fn create_requires_a_ticket_id_that_is_a_uuid() {
    let app = spawn_app().await;
    let buyer = app.new_user().await;
    for body in [
        json!({}),
        json!({"ticketId": null}),
        json!({"ticketId": ""}),
        json!({"ticketId": "   "}),
        json!({"ticketId": "not-a-uuid"}),
        json!({"ticketId": "1234"}),
        json!({"ticketId": 42}),
        json!({"ticketId": true}),
        json!({"ticketId": ["0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"]}),
        json!({"ticketId": {"id": "0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}}),
    ] {
        let response = app.post("/api/orders", Some(&buyer.token), &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "POST {body}");
        assert_validation(response, &[TICKET_ID_REQUIRED]).await;
    }
    assert!(list_order_ids(&app, &buyer, "").await.is_empty());
}

#[tokio::test]
async fn create_answers_404_for_an_unknown_ticket() {
    let app = spawn_app().await;
    let buyer = app.new_user().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let response = post_order(&app, &buyer, &unknown).await;

    assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    assert!(list_order_ids(&app, &buyer, "").await.is_empty());
}

#[tokio::test]
async fn nobody_can_buy_their_own_ticket() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Concert", json!(10)).await;

    let response = post_order(&app, &seller, &id_of(&ticket)).await;

    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "You cannot buy your own ticket",
    )
    .await;
    assert_ticket_free(&app, &id_of(&ticket)).await;
    assert!(order_rows(&app, &id_of(&ticket)).await.is_empty());
}

#[tokio::test]
async fn a_reserved_ticket_cannot_be_ordered_again() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let other = app.new_user().await;

    for buyer in [&other, &deal.buyer] {
        let response = post_order(&app, buyer, &deal.ticket_id()).await;
        assert_error(response, StatusCode::BAD_REQUEST, RESERVED).await;
    }

    assert_ticket_held_by(&app, &deal.ticket_id(), &deal.order_id()).await;
    assert_eq!(order_rows(&app, &deal.ticket_id()).await.len(), 1);
    assert!(list_order_ids(&app, &other, "").await.is_empty());
}

#[tokio::test]
async fn twenty_buyers_racing_for_one_ticket_make_exactly_one_order() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Final", json!(50)).await;
    let ticket_id = id_of(&ticket);
    let buyers = new_users(&app, 20).await;

    let responses = futures_util::future::join_all(
        buyers
            .iter()
            .map(|buyer| post_order(&app, buyer, &ticket_id)),
    )
    .await;

    let mut orders = Vec::new();
    let mut refused = 0;
    for (buyer, response) in buyers.iter().zip(responses) {
        match response.status() {
            StatusCode::CREATED => orders.push((buyer, response.json::<Value>().await.unwrap())),
            StatusCode::BAD_REQUEST => {
                assert_error(response, StatusCode::BAD_REQUEST, RESERVED).await;
                refused += 1;
            }
            other => {
                let entries = error_entries(response, other).await;
                panic!("a racing POST /api/orders answered {other}: {entries:?}");
            }
        }
    }
    let won: Vec<&Value> = orders.iter().map(|(_, order)| order).collect();
    assert_eq!(orders.len(), 1, "exactly one buyer wins: {won:?}");
    assert_eq!(refused, 19, "the nineteen others are refused");
    let (winner, order) = &orders[0];
    assert_order(order, winner, &ticket, "created");
    assert_ticket_held_by(&app, &ticket_id, &id_of(order)).await;
    let rows = order_rows(&app, &ticket_id).await;
    assert_eq!(rows.len(), 1, "exactly one order row: {rows:?}");
    assert_eq!(rows[0].id.to_string(), id_of(order));
}

// ---------------------------------------------------------------------------------------------
// GET /api/orders
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_shows_the_callers_orders_of_every_status_oldest_first() {
    let app = spawn_app().await;
    let (seller, buyer, other) = (
        app.new_user().await,
        app.new_user().await,
        app.new_user().await,
    );
    let mut tickets = Vec::new();
    for (title, price) in [("A", 10), ("B", 20), ("C", 30), ("D", 40)] {
        tickets.push(app.create_ticket(&seller, title, json!(price)).await);
    }
    let cancelled = order_ticket(&app, &buyer, &id_of(&tickets[0])).await;
    let paid = order_ticket(&app, &buyer, &id_of(&tickets[1])).await;
    let open = order_ticket(&app, &buyer, &id_of(&tickets[2])).await;
    let others = order_ticket(&app, &other, &id_of(&tickets[3])).await;
    let response = delete_order(&app, &buyer, &id_of(&cancelled)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = pay(&app, &buyer, &id_of(&paid), "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let response = app.get("/api/orders", Some(&buyer.token)).await;

    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = response.json().await.unwrap();
    let listed = listed.as_array().expect("an array");
    let expected = [
        (&cancelled, &tickets[0], "cancelled"),
        (&paid, &tickets[1], "complete"),
        (&open, &tickets[2], "created"),
    ];
    assert_eq!(listed.len(), expected.len(), "{listed:?}");
    for (shown, (order, ticket, status)) in listed.iter().zip(expected) {
        assert_eq!(shown["id"], order["id"], "oldest first: {listed:?}");
        assert_order(shown, &buyer, ticket, status);
        assert_eq!(
            shown,
            &get_order(&app, &buyer, &id_of(order)).await,
            "the list shows the same order as GET /api/orders/:id"
        );
    }
    assert_eq!(list_order_ids(&app, &other, "").await, vec![id_of(&others)]);
    assert!(list_order_ids(&app, &seller, "").await.is_empty());
}

#[tokio::test]
async fn list_pages_with_limit_and_offset() {
    let app = spawn_app().await;
    let (seller, buyer) = (app.new_user().await, app.new_user().await);
    let mut ids = Vec::new();
    for i in 0..4 {
        let ticket = app
            .create_ticket(&seller, &format!("T{i}"), json!(10))
            .await;
        ids.push(id_of(&order_ticket(&app, &buyer, &id_of(&ticket)).await));
    }

    assert_eq!(list_order_ids(&app, &buyer, "").await, ids);
    assert_eq!(list_order_ids(&app, &buyer, "?limit=2").await, ids[0..2]);
    assert_eq!(
        list_order_ids(&app, &buyer, "?limit=2&offset=2").await,
        ids[2..4]
    );
    assert_eq!(
        list_order_ids(&app, &buyer, "?offset=1&limit=1").await,
        ids[1..2]
    );
    assert_eq!(list_order_ids(&app, &buyer, "?offset=3").await, ids[3..4]);
    assert_eq!(list_order_ids(&app, &buyer, "?limit=500").await, ids);
    assert!(list_order_ids(&app, &buyer, "?offset=10").await.is_empty());
}

#[tokio::test]
async fn list_rejects_a_bad_limit_or_offset() {
    let app = spawn_app().await;
    let buyer = app.new_user().await;
    for query in ["limit=0", "limit=501", "limit=abc", "limit=-1", "limit=1.5"] {
        let response = app
            .get(&format!("/api/orders?{query}"), Some(&buyer.token))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_validation(response, &[LIMIT_INVALID]).await;
    }
    for query in ["offset=-1", "offset=x", "offset=1.5"] {
        let response = app
            .get(&format!("/api/orders?{query}"), Some(&buyer.token))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_validation(response, &[OFFSET_INVALID]).await;
    }
}

#[tokio::test]
async fn list_requires_sign_in() {
    let app = spawn_app().await;
    for path in ["/api/orders", "/api/orders?limit=0"] {
        let response = app.get(path, None).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
}

// ---------------------------------------------------------------------------------------------
// GET /api/orders/:id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn show_returns_the_buyers_order() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(12.5)).await;

    let shown = get_order(&app, &deal.buyer, &deal.order_id()).await;

    assert_order(&shown, &deal.buyer, &deal.ticket, "created");
    assert_eq!(shown, deal.order);
}

#[tokio::test]
async fn show_answers_404_for_an_unknown_or_malformed_id() {
    let app = spawn_app().await;
    let buyer = app.new_user().await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/orders/{unknown}"),
        "/api/orders/not-a-uuid".to_owned(),
    ] {
        let response = app.get(&path, Some(&buyer.token)).await;
        assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    }
}

#[tokio::test]
async fn show_answers_401_for_someone_elses_order_or_when_signed_out() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let path = format!("/api/orders/{}", deal.order_id());

    for token in [Some(deal.seller.token.as_str()), None] {
        let response = app.get(&path, token).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
}

// ---------------------------------------------------------------------------------------------
// DELETE /api/orders/:id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cancel_frees_the_ticket_for_another_buyer() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;

    let response = delete_order(&app, &deal.buyer, &deal.order_id()).await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "204 has an empty body"
    );
    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_order(&order, &deal.buyer, &deal.ticket, "cancelled");
    assert_eq!(order["cancelReason"], "buyer", "{order}");
    assert_ticket_free(&app, &deal.ticket_id()).await;

    let second = app.new_user().await;
    let reordered = order_ticket(&app, &second, &deal.ticket_id()).await;
    assert_order(&reordered, &second, &deal.ticket, "created");
    assert_ne!(reordered["id"], deal.order["id"]);
    assert_ticket_held_by(&app, &deal.ticket_id(), &id_of(&reordered)).await;
}

#[tokio::test]
async fn cancelling_a_cancelled_order_answers_204_again() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;

    for _ in 0..2 {
        let response = delete_order(&app, &deal.buyer, &deal.order_id()).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.bytes().await.unwrap().is_empty());
    }

    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], "cancelled", "{order}");
    assert_ticket_free(&app, &deal.ticket_id()).await;
}

#[tokio::test]
async fn cancel_answers_404_for_an_unknown_or_malformed_id() {
    let app = spawn_app().await;
    let buyer = app.new_user().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid"] {
        let response = delete_order(&app, &buyer, id).await;
        assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    }
}

#[tokio::test]
async fn cancel_answers_401_for_someone_elses_order_or_when_signed_out() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;

    let response = delete_order(&app, &deal.seller, &deal.order_id()).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    let response = app
        .browser()
        .send(
            Method::DELETE,
            &format!("/api/orders/{}", deal.order_id()),
            None,
            None,
        )
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;

    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], "created", "{order}");
    assert_ticket_held_by(&app, &deal.ticket_id(), &deal.order_id()).await;
}

#[tokio::test]
async fn a_completed_order_cannot_be_cancelled() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let response = delete_order(&app, &deal.buyer, &deal.order_id()).await;

    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "Cannot cancel a completed order",
    )
    .await;
    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], "complete", "{order}");
    assert_ticket_held_by(&app, &deal.ticket_id(), &deal.order_id()).await;
}

// ---------------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unpaid_order_expires_by_itself_and_frees_the_ticket() {
    let app = spawn_app_with(|c| c.order_expiration_seconds = SHORT_WINDOW).await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let expires_at = contract_time(&deal.order["expiresAt"]);
    assert_eq!(deal.order["status"], "created");

    let order = wait_for_status(&app, &deal.buyer, &deal.order_id(), "cancelled").await;

    assert_order(&order, &deal.buyer, &deal.ticket, "cancelled");
    assert_eq!(order["cancelReason"], "expired", "{order}");
    let state = get_workflow(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(
        state["cancelReason"], "expired",
        "the workflow says why too: {state}"
    );
    assert!(
        Utc::now() >= expires_at,
        "cancelled no earlier than expiresAt {expires_at}"
    );
    assert_ticket_free(&app, &deal.ticket_id()).await;
    let rows = order_rows(&app, &deal.ticket_id()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cancel_reason, Some(CancelReason::Expired));

    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_error(response, StatusCode::BAD_REQUEST, "Order has expired").await;
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");

    let second = app.new_user().await;
    order_ticket(&app, &second, &deal.ticket_id()).await;
}

// ---------------------------------------------------------------------------------------------
// GET /api/orders/:id/workflow
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn workflow_shows_the_live_state_of_an_open_order() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;

    let state = get_workflow(&app, &deal.buyer, &deal.order_id()).await;

    let object = state.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["expiresAt", "runId", "secondsLeft", "status", "workflowId"],
        "{state}"
    );
    assert_eq!(
        state["workflowId"],
        format!("order-{}", deal.order_id()),
        "{state}"
    );
    assert!(
        !state["runId"].as_str().expect("a run id").is_empty(),
        "{state}"
    );
    assert_eq!(state["status"], "created", "{state}");
    assert_eq!(state["expiresAt"], deal.order["expiresAt"], "{state}");
    let seconds_left = state["secondsLeft"].as_i64().expect("an integer");
    assert!(
        seconds_left > 0 && seconds_left <= DEFAULT_WINDOW,
        "secondsLeft {seconds_left} in (0, {DEFAULT_WINDOW}]"
    );
}

#[tokio::test]
async fn workflow_shows_the_payment_once_paid() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let before = get_workflow(&app, &deal.buyer, &deal.order_id()).await;
    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let payment: Value = response.json().await.unwrap();

    let state = get_workflow(&app, &deal.buyer, &deal.order_id()).await;

    assert_eq!(
        state["workflowId"],
        format!("order-{}", deal.order_id()),
        "{state}"
    );
    assert_eq!(state["runId"], before["runId"], "{state}");
    assert_eq!(state["status"], "complete", "{state}");
    assert_eq!(state["secondsLeft"], 0, "{state}");
    assert_eq!(state["paymentId"], payment["id"], "{state}");
    assert_eq!(state["expiresAt"], deal.order["expiresAt"], "{state}");
}

#[tokio::test]
async fn workflow_shows_a_cancelled_order_with_no_time_left() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let response = delete_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let state = get_workflow(&app, &deal.buyer, &deal.order_id()).await;

    assert_eq!(state["status"], "cancelled", "{state}");
    assert_eq!(state["secondsLeft"], 0, "{state}");
    assert!(state.get("paymentId").is_none(), "{state}");
}

#[tokio::test]
async fn workflow_answers_404_and_401_like_show() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/orders/{unknown}/workflow"),
        "/api/orders/not-a-uuid/workflow".to_owned(),
    ] {
        let response = app.get(&path, Some(&deal.buyer.token)).await;
        assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    }
    let path = format!("/api/orders/{}/workflow", deal.order_id());
    for token in [Some(deal.seller.token.as_str()), None] {
        let response = app.get(&path, token).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Admission control
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reservations_beyond_the_limit_in_flight_are_shed_at_once() {
    // One reservation may wait for its workflow at a time; twenty arrive together.
    let app = spawn_app_with(|c| c.max_reservations_in_flight = 1).await;
    let (seller, buyer) = (app.new_user().await, app.new_user().await);
    let mut tickets = Vec::new();
    for i in 0..20 {
        tickets.push(id_of(
            &app.create_ticket(&seller, &format!("T{i}"), json!(10))
                .await,
        ));
    }
    let api = app.api();
    let answers = futures::future::join_all(tickets.iter().map(|ticket| {
        let (api, token) = (api.clone(), buyer.token.clone());
        async move {
            let started = std::time::Instant::now();
            let response = api.order(&token, ticket).await;
            let retry_after = response.headers().get("retry-after").cloned();
            (response.status(), retry_after, started.elapsed())
        }
    }))
    .await;
    let created = answers
        .iter()
        .filter(|a| a.0 == StatusCode::CREATED)
        .count();
    let shed: Vec<_> = answers
        .iter()
        .zip(&tickets)
        .filter(|(a, _)| a.0 == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(created >= 1, "{answers:?}");
    assert!(!shed.is_empty(), "none shed: {answers:?}");
    assert_eq!(created + shed.len(), tickets.len(), "{answers:?}");
    for ((_, retry_after, took), ticket) in shed {
        assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("1"));
        assert!(*took < Duration::from_secs(2), "shed after {took:?}");
        assert!(
            order_rows(&app, ticket).await.is_empty(),
            "no order was made"
        );
    }
}

#[tokio::test]
async fn without_a_worker_an_order_is_refused_at_once_and_never_made_later() {
    let mut app = spawn_app_configured(|c| c.in_process_worker = false).await;
    let deal_ticket = {
        let seller = app.new_user().await;
        app.create_ticket(&seller, "Nobody works", json!(10)).await
    };
    let buyer = app.new_user().await;
    let started = std::time::Instant::now();
    let response = post_order(&app, &buyer, &id_of(&deal_ticket)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered after {:?}",
        started.elapsed()
    );
    assert!(response.headers().contains_key("retry-after"));
    assert_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "no worker is taking orders right now; try again in a few seconds",
    )
    .await;

    // A worker comes later: nothing reserves the ticket for the buyer who was told no.
    app.start_worker();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(order_rows(&app, &id_of(&deal_ticket)).await.is_empty());
    assert_ticket_free(&app, &id_of(&deal_ticket)).await;
    // And the buyer's retry goes through.
    let started = std::time::Instant::now();
    loop {
        let response = post_order(&app, &buyer, &id_of(&deal_ticket)).await;
        if response.status() == StatusCode::CREATED {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "never created: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
