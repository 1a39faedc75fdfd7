//! Tickets: create, list, show, update, and optimistic concurrency.
//!
//! Longer than 500 lines on purpose: one file per table of the HTTP contract
//! (`../shared/docs/api-contract.md`), each row a test here, so a reader finds every rule of an
//! area in one place; the shared helpers live in `tests/support`.

use entities::ticket;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use support::{TestApp, TestUser, assert_error, assert_validation, error_entries, spawn_app};

use crate::orders::assert_edit_refused_while_reserved;

const TITLE_REQUIRED: (&str, &str) = ("Title is required", "title");
const TITLE_TOO_LONG: (&str, &str) = ("Title must be at most 200 characters", "title");
const PRICE_POSITIVE: (&str, &str) = ("Price must be greater than 0", "price");
const PRICE_DECIMALS: (&str, &str) = ("Price must have at most 2 decimal places", "price");
const PRICE_MAX: (&str, &str) = ("Price must be at most 1000000", "price");
const LIMIT_INVALID: (&str, &str) = ("limit must be an integer between 1 and 500", "limit");
const OFFSET_INVALID: (&str, &str) = ("offset must be a non-negative integer", "offset");
const CHANGED: &str = "Ticket was changed by another request; reload and try again";

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/// Marks the ticket reserved by a (made-up) order, straight in the database.
async fn reserve(app: &TestApp, id: &str) -> uuid::Uuid {
    let order_id = uuid::Uuid::new_v4();
    let result = ticket::Entity::update_many()
        .col_expr(ticket::Column::OrderId, Expr::value(Some(order_id)))
        .filter(ticket::Column::Id.eq(uuid::Uuid::parse_str(id).unwrap()))
        .exec(&app.db.connection)
        .await
        .expect("the ticket is reserved");
    assert_eq!(result.rows_affected, 1);
    order_id
}

/// Asserts a ticket body: exactly these keys, and returns it.
fn assert_ticket(ticket: &Value, title: &str, price: f64, owner: &TestUser, version: i64) {
    let object = ticket.as_object().expect("a ticket object");
    assert!(
        object.keys().all(|k| [
            "id",
            "title",
            "price",
            "priceCents",
            "currency",
            "userId",
            "version",
            "orderId"
        ]
        .contains(&k.as_str())),
        "unexpected keys in {ticket}"
    );
    // The price as integer cents too, and its currency: a typed client needs no float.
    assert_eq!(
        ticket["priceCents"].as_i64(),
        Some((price * 100.0).round() as i64),
        "{ticket}"
    );
    assert_eq!(ticket["currency"], "usd", "{ticket}");
    uuid::Uuid::parse_str(ticket["id"].as_str().expect("an id")).expect("the id is a UUID");
    assert_eq!(ticket["title"], title, "{ticket}");
    assert!(
        ticket["price"].is_number(),
        "the price is a JSON number: {ticket}"
    );
    assert_eq!(ticket["price"].as_f64(), Some(price), "{ticket}");
    assert_eq!(ticket["userId"], owner.id.as_str(), "{ticket}");
    assert_eq!(ticket["version"], version, "{ticket}");
}

fn id_of(ticket: &Value) -> String {
    ticket["id"].as_str().unwrap().to_owned()
}

async fn get_ticket(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/api/tickets/{id}"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `GET /api/tickets<query>` and the titles it lists, in order.
async fn list_titles(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.get(&format!("/api/tickets{query}"), None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET /api/tickets{query}");
    let body: Value = response.json().await.unwrap();
    body.as_array()
        .expect("an array")
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates tickets titled `T0`, `T1`... in order, and returns them.
async fn create_numbered(app: &TestApp, user: &TestUser, count: usize) -> Vec<Value> {
    let mut tickets = Vec::with_capacity(count);
    for i in 0..count {
        tickets.push(app.create_ticket(user, &format!("T{i}"), json!(10)).await);
    }
    tickets
}

fn titles(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("T{i}")).collect()
}

/// Bodies that break the field rules, shared by POST and PUT, with the entries they produce.
fn invalid_bodies() -> Vec<(Value, Vec<(&'static str, &'static str)>)> {
    let long = "a".repeat(201);
    vec![
        (json!({"title": "", "price": 10}), vec![TITLE_REQUIRED]),
        (json!({"title": "   ", "price": 10}), vec![TITLE_REQUIRED]),
        (
            json!({"title": " \t\n ", "price": 10}),
            vec![TITLE_REQUIRED],
        ),
        (json!({"price": 10}), vec![TITLE_REQUIRED]),
        (json!({"title": 42, "price": 10}), vec![TITLE_REQUIRED]),
        (json!({"title": long, "price": 10}), vec![TITLE_TOO_LONG]),
        (
            json!({"title": format!("  {long}  "), "price": 10}),
            vec![TITLE_TOO_LONG],
        ),
        (
            json!({"title": "é".repeat(201), "price": 10}),
            vec![TITLE_TOO_LONG],
        ),
        (json!({"title": "Gig"}), vec![PRICE_POSITIVE]),
        (
            json!({"title": "Gig", "price": "abc"}),
            vec![PRICE_POSITIVE],
        ),
        (json!({"title": "Gig", "price": ""}), vec![PRICE_POSITIVE]),
        (json!({"title": "Gig", "price": true}), vec![PRICE_POSITIVE]),
        (json!({"title": "Gig", "price": 0}), vec![PRICE_POSITIVE]),
        (json!({"title": "Gig", "price": 0.0}), vec![PRICE_POSITIVE]),
        (json!({"title": "Gig", "price": "0"}), vec![PRICE_POSITIVE]),
        (json!({"title": "Gig", "price": -10}), vec![PRICE_POSITIVE]),
        (json!({"title": "Gig", "price": "-5"}), vec![PRICE_POSITIVE]),
        (
            json!({"title": "Gig", "price": 10.001}),
            vec![PRICE_DECIMALS],
        ),
        (
            json!({"title": "Gig", "price": "10.001"}),
            vec![PRICE_DECIMALS],
        ),
        (
            json!({"title": "Gig", "price": 1000000.01}),
            vec![PRICE_MAX],
        ),
        (json!({"title": "Gig", "price": 1000001}), vec![PRICE_MAX]),
        (json!({"title": "Gig", "price": 1e20}), vec![PRICE_MAX]),
        (
            json!({"title": "", "price": -1}),
            vec![TITLE_REQUIRED, PRICE_POSITIVE],
        ),
        (json!({}), vec![TITLE_REQUIRED, PRICE_POSITIVE]),
        (
            json!({"title": long, "price": "x"}),
            vec![TITLE_TOO_LONG, PRICE_POSITIVE],
        ),
    ]
}

/// Valid `(price in, price out)` pairs.
fn valid_prices() -> Vec<(Value, f64)> {
    vec![
        (json!(19.99), 19.99),
        (json!("10"), 10.0),
        (json!("0.1"), 0.1),
        (json!(0.01), 0.01),
        (json!(0.29), 0.29),
        (json!(1.15), 1.15),
        (json!("12.50"), 12.5),
        (json!(1000000), 1000000.0),
        (json!("1000000"), 1000000.0),
    ]
}

// ---------------------------------------------------------------------------------------------
// POST /api/tickets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_returns_201_and_the_ticket_at_version_0() {
    let app = spawn_app().await;
    let user = app.new_user().await;

    let response = app
        .post(
            "/api/tickets",
            Some(&user.token),
            &json!({"title": "Concert", "price": 19.99}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let ticket: Value = response.json().await.unwrap();
    assert_ticket(&ticket, "Concert", 19.99, &user, 0);
    assert!(
        ticket.get("orderId").is_none(),
        "no orderId while unreserved: {ticket}"
    );
    assert_eq!(get_ticket(&app, &id_of(&ticket)).await, ticket);
}

#[tokio::test]
async fn create_accepts_prices_as_numbers_or_numeric_strings() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for (price, expected) in valid_prices() {
        let ticket = app.create_ticket(&user, "Gig", price.clone()).await;
        assert_ticket(&ticket, "Gig", expected, &user, 0);
        let stored = get_ticket(&app, &id_of(&ticket)).await;
        assert_eq!(
            stored["price"].as_f64(),
            Some(expected),
            "price {price} stored"
        );
    }
}

#[tokio::test]
async fn create_stores_the_title_trimmed_up_to_200_characters() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let cases = [
        ("  Concert \t".to_owned(), "Concert".to_owned()),
        ("a".repeat(200), "a".repeat(200)),
        (format!("   {}   ", "b".repeat(200)), "b".repeat(200)),
        ("é".repeat(200), "é".repeat(200)),
    ];
    for (title, stored) in cases {
        let ticket = app.create_ticket(&user, &title, json!(5)).await;
        assert_ticket(&ticket, &stored, 5.0, &user, 0);
        assert_eq!(get_ticket(&app, &id_of(&ticket)).await["title"], stored);
    }
}

#[tokio::test]
async fn create_requires_sign_in_before_validation() {
    let app = spawn_app().await;
    for body in [
        json!({"title": "Concert", "price": 10}),
        json!({}),
        json!({"title": ""}),
    ] {
        let response = app.post("/api/tickets", None, &body).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
    assert!(
        list_titles(&app, "").await.is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn create_validates_title_and_price() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for (body, expected) in invalid_bodies() {
        let response = app.post("/api/tickets", Some(&user.token), &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "POST {body}");
        assert_validation(response, &expected).await;
    }
    assert!(
        list_titles(&app, "").await.is_empty(),
        "nothing was created"
    );
}

// ---------------------------------------------------------------------------------------------
// GET /api/tickets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_returns_unreserved_tickets_oldest_first() {
    let app = spawn_app().await;
    let (alice, bob) = (app.new_user().await, app.new_user().await);
    let first = app.create_ticket(&alice, "First", json!(10)).await;
    let second = app.create_ticket(&bob, "Second", json!(20)).await;
    let third = app.create_ticket(&alice, "Third", json!(30)).await;
    reserve(&app, &id_of(&second)).await;

    let response = app.get("/api/tickets", None).await;

    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = response.json().await.unwrap();
    assert_eq!(listed, json!([first, third]));
}

#[tokio::test]
async fn list_is_empty_without_tickets() {
    let app = spawn_app().await;
    let response = app.get("/api/tickets", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test]
async fn list_pages_with_limit_and_offset() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    create_numbered(&app, &user, 5).await;

    assert_eq!(list_titles(&app, "?limit=2").await, titles(0..2));
    assert_eq!(list_titles(&app, "?limit=2&offset=2").await, titles(2..4));
    assert_eq!(list_titles(&app, "?offset=4").await, titles(4..5));
    assert_eq!(list_titles(&app, "?offset=0&limit=500").await, titles(0..5));
    assert_eq!(list_titles(&app, "?offset=10").await, Vec::<String>::new());
}

#[tokio::test]
async fn list_returns_100_by_default_and_up_to_500() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    create_numbered(&app, &user, 101).await;

    assert_eq!(list_titles(&app, "").await, titles(0..100));
    assert_eq!(list_titles(&app, "?limit=500").await, titles(0..101));
    assert_eq!(list_titles(&app, "?offset=100").await, titles(100..101));
}

#[tokio::test]
async fn list_rejects_a_bad_limit_or_offset() {
    let app = spawn_app().await;
    for query in ["limit=0", "limit=501", "limit=abc", "limit=-1", "limit=1.5"] {
        let response = app.get(&format!("/api/tickets?{query}"), None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_validation(response, &[LIMIT_INVALID]).await;
    }
    for query in ["offset=-1", "offset=x", "offset=1.5"] {
        let response = app.get(&format!("/api/tickets?{query}"), None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_validation(response, &[OFFSET_INVALID]).await;
    }
}

/// `GET /api/tickets<query>`: its titles in order and its `X-Total-Count`.
async fn search_titles(app: &TestApp, query: &str) -> (Vec<String>, u64) {
    let response = app.get(&format!("/api/tickets{query}"), None).await;
    assert_eq!(response.status(), StatusCode::OK, "GET /api/tickets{query}");
    let total = support::total_count(&response);
    let body: Value = response.json().await.unwrap();
    let titles = body
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    (titles, total)
}

fn owned(titles: &[&str]) -> Vec<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

#[tokio::test]
async fn list_searches_titles_in_any_case_with_a_price_range_and_a_sort() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for (title, price) in [
        ("Jazz night", json!(20)),
        ("Cup final", json!(1000)),
        ("JAZZ brunch", json!(35.5)),
        ("100% jazz_club", json!(5)),
        ("Opera", json!(60)),
    ] {
        app.create_ticket(&user, title, price).await;
    }
    let reserved = app.create_ticket(&user, "Jazz reserved", json!(25)).await;
    reserve(&app, &id_of(&reserved)).await;

    // The default answer is the original one: every ticket for sale, oldest first.
    let every = owned(&[
        "Jazz night",
        "Cup final",
        "JAZZ brunch",
        "100% jazz_club",
        "Opera",
    ]);
    assert_eq!(search_titles(&app, "").await, (every.clone(), 5));
    assert_eq!(
        search_titles(&app, "?q=jazz").await,
        (owned(&["Jazz night", "JAZZ brunch", "100% jazz_club"]), 3)
    );
    // `%` and `_` are letters in a search, not patterns.
    assert_eq!(
        search_titles(&app, "?q=100%25").await,
        (owned(&["100% jazz_club"]), 1)
    );
    assert_eq!(
        search_titles(&app, "?q=z_c").await,
        (owned(&["100% jazz_club"]), 1)
    );
    assert_eq!(search_titles(&app, "?q=a_z").await, (vec![], 0));
    assert_eq!(
        search_titles(&app, "?minPrice=20&maxPrice=60&sort=priceHigh").await,
        (owned(&["Opera", "JAZZ brunch", "Jazz night"]), 3)
    );
    assert_eq!(
        search_titles(&app, "?minPrice=35.50&sort=priceLow").await,
        (owned(&["JAZZ brunch", "Opera", "Cup final"]), 3)
    );
    assert_eq!(
        search_titles(&app, "?sort=newest&limit=2").await,
        (owned(&["Opera", "100% jazz_club"]), 5)
    );
    assert_eq!(
        search_titles(&app, "?sort=newest&limit=2&offset=4").await,
        (owned(&["Jazz night"]), 5)
    );
    assert_eq!(
        search_titles(&app, "?sort=oldest").await,
        (every.clone(), 5)
    );
    // An empty bound is none (as a form sends it); a range upside down matches nothing.
    assert_eq!(
        search_titles(&app, "?minPrice=&maxPrice=").await,
        (every.clone(), 5)
    );
    // No ticket costs more than 1,000,000: a bound above it bounds nothing.
    assert_eq!(
        search_titles(&app, "?maxPrice=9999999.99").await,
        (every, 5)
    );
    assert_eq!(
        search_titles(&app, "?minPrice=30&maxPrice=20").await,
        (vec![], 0)
    );
}

#[tokio::test]
async fn list_rejects_a_bad_search_with_the_field_at_fault() {
    let app = spawn_app().await;
    for (query, expected) in [
        (
            "minPrice=abc",
            ("minPrice must be an amount like 19.99", "minPrice"),
        ),
        (
            "maxPrice=-1",
            ("maxPrice must be an amount like 19.99", "maxPrice"),
        ),
        (
            "minPrice=1e2",
            ("minPrice must be an amount like 19.99", "minPrice"),
        ),
        (
            "minPrice=%205",
            ("minPrice must be an amount like 19.99", "minPrice"),
        ),
        (
            "sort=cheapest",
            ("sort must be oldest, newest, priceLow or priceHigh", "sort"),
        ),
    ] {
        let response = app.get(&format!("/api/tickets?{query}"), None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_validation(response, &[expected]).await;
    }
    let long = "x".repeat(201);
    let response = app.get(&format!("/api/tickets?q={long}"), None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_validation(response, &[("q must be at most 200 characters", "q")]).await;
}

// ---------------------------------------------------------------------------------------------
// GET /api/tickets/:id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn show_returns_a_ticket_with_its_order_while_reserved() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(25)).await;
    let id = id_of(&ticket);
    assert_eq!(get_ticket(&app, &id).await, ticket);

    let order_id = reserve(&app, &id).await;

    let shown = get_ticket(&app, &id).await;
    assert_ticket(&shown, "Concert", 25.0, &user, 0);
    assert_eq!(shown["orderId"], order_id.to_string());
}

#[tokio::test]
async fn show_answers_404_for_an_unknown_or_malformed_id() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/tickets/{unknown}"),
        "/api/tickets/not-a-uuid".to_owned(),
    ] {
        let response = app.get(&path, None).await;
        assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    }
}

#[tokio::test]
async fn show_keeps_answering_after_the_database_closes_its_connections() {
    // On PostgreSQL, ticket reads have connections of their own, reused without a ping: one the
    // server closed in the meantime (a restart, an administrator) must cost no request an error.
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(25)).await;
    let id = id_of(&ticket);
    let reads = futures::future::join_all((0..8).map(|_| get_ticket(&app, &id))).await;
    assert!(reads.iter().all(|read| *read == ticket));

    if app.db.url.starts_with("postgres") {
        let closed = app
            .db
            .connection
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        assert!(
            closed.rows_affected() >= 1,
            "the reads' connections were open"
        );
    }

    let reads = futures::future::join_all((0..8).map(|_| get_ticket(&app, &id))).await;
    assert!(reads.iter().all(|read| *read == ticket));
}

#[tokio::test]
async fn show_sees_a_change_at_once() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(25)).await;
    let id = id_of(&ticket);
    assert_eq!(get_ticket(&app, &id).await["version"], 0);
    let body = json!({"title": "Opera", "price": "30"});
    let response = app
        .put(&format!("/api/tickets/{id}"), Some(&user.token), &body)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let shown = get_ticket(&app, &id).await;
    assert_ticket(&shown, "Opera", 30.0, &user, 1);
}

// ---------------------------------------------------------------------------------------------
// PUT /api/tickets/:id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn update_changes_the_ticket_and_bumps_its_version() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));

    let response = app
        .put(
            &path,
            Some(&user.token),
            &json!({"title": "  Opera  ", "price": "99.95"}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_ticket(&updated, "Opera", 99.95, &user, 1);
    assert_eq!(updated["id"], ticket["id"]);
    assert_eq!(get_ticket(&app, &id_of(&ticket)).await, updated);
}

#[tokio::test]
async fn an_update_that_changes_nothing_still_bumps_the_version() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));

    for version in 1..=2 {
        let response = app
            .put(
                &path,
                Some(&user.token),
                &json!({"title": "Concert", "price": 10}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let updated: Value = response.json().await.unwrap();
        assert_ticket(&updated, "Concert", 10.0, &user, version);
    }
}

#[tokio::test]
async fn update_requires_sign_in() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));

    for body in [json!({"title": "Opera", "price": 20}), json!({"title": ""})] {
        let response = app.put(&path, None, &body).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    }
    assert_eq!(get_ticket(&app, &id_of(&ticket)).await, ticket);
}

#[tokio::test]
async fn update_answers_404_for_an_unknown_or_malformed_id() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let body = json!({"title": "Opera", "price": 20});
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/tickets/{unknown}"),
        "/api/tickets/not-a-uuid".to_owned(),
    ] {
        let response = app.put(&path, Some(&user.token), &body).await;
        assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
    }
}

#[tokio::test]
async fn only_the_owner_may_update_even_a_reserved_ticket() {
    let app = spawn_app().await;
    let (owner, other) = (app.new_user().await, app.new_user().await);
    let ticket = app.create_ticket(&owner, "Concert", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));
    let body = json!({"title": "Mine now", "price": 1});

    let response = app.put(&path, Some(&other.token), &body).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;

    reserve(&app, &id_of(&ticket)).await;
    let response = app.put(&path, Some(&other.token), &body).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;

    let stored = get_ticket(&app, &id_of(&ticket)).await;
    assert_ticket(&stored, "Concert", 10.0, &owner, 0);
}

#[tokio::test]
async fn a_reserved_ticket_cannot_be_edited() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    reserve(&app, &id_of(&ticket)).await;

    assert_edit_refused_while_reserved(&app, &user, &id_of(&ticket)).await;
    let stored = get_ticket(&app, &id_of(&ticket)).await;
    assert_ticket(&stored, "Concert", 10.0, &user, 0);
}

#[tokio::test]
async fn update_applies_the_same_field_rules_as_create() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));

    for (body, expected) in invalid_bodies() {
        let response = app.put(&path, Some(&user.token), &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "PUT {body}");
        assert_validation(response, &expected).await;
    }
    for (price, expected) in valid_prices() {
        let response = app
            .put(
                &path,
                Some(&user.token),
                &json!({"title": " Gig ", "price": price}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "price {price}");
        let updated: Value = response.json().await.unwrap();
        assert_eq!(updated["title"], "Gig");
        assert_eq!(updated["price"].as_f64(), Some(expected), "price {price}");
    }
    let stored = get_ticket(&app, &id_of(&ticket)).await;
    assert_eq!(
        stored["version"],
        valid_prices().len(),
        "only valid updates count"
    );
}

#[tokio::test]
async fn concurrent_updates_never_lose_an_update() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let ticket = app.create_ticket(&user, "Concert", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));

    let bodies: Vec<Value> = (1..=8)
        .map(|i| json!({"title": format!("Title {i}"), "price": i}))
        .collect();
    let responses = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| app.put(&path, Some(&user.token), body)),
    )
    .await;

    let mut accepted = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::OK => accepted.push(response.json::<Value>().await.unwrap()),
            StatusCode::CONFLICT => assert_error(response, StatusCode::CONFLICT, CHANGED).await,
            other => {
                let entries = error_entries(response, other).await;
                panic!("a concurrent PUT answered {other}: {entries:?}");
            }
        }
    }
    assert!(!accepted.is_empty(), "at least one update succeeds");
    let stored = get_ticket(&app, &id_of(&ticket)).await;
    assert_eq!(
        stored["version"],
        accepted.len(),
        "one version per accepted update"
    );
    let mut versions: Vec<i64> = accepted
        .iter()
        .map(|t| t["version"].as_i64().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=accepted.len() as i64).collect::<Vec<_>>());
    let last = accepted
        .iter()
        .find(|t| t["version"] == stored["version"])
        .unwrap();
    assert_eq!(
        &stored, last,
        "the stored ticket is the last accepted update"
    );
}
