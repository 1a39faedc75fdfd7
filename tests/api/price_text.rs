//! A price sent as a string is taken exactly when it matches the pattern the OpenAPI document
//! declares for it (digits and an optional decimal point: no sign, exponent or spaces); a JSON
//! number is taken as before.

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, TestUser, assert_validation, id_of, spawn_app};

const NOT_PLAIN: (&str, &str) = (
    "Price must be written as digits with an optional decimal point, like 19.99",
    "price",
);
const POSITIVE: (&str, &str) = ("Price must be greater than 0", "price");
const DECIMALS: (&str, &str) = ("Price must have at most 2 decimal places", "price");
const MAX: (&str, &str) = ("Price must be at most 1000000", "price");

/// Strings the documented pattern matches, with the price they are.
const MATCHING: &[(&str, f64)] = &[
    ("19.99", 19.99),
    ("10", 10.0),
    ("0.5", 0.5),
    (".5", 0.5),
    (".05", 0.05),
    ("007", 7.0),
    ("1000000", 1_000_000.0),
    ("1000000.00", 1_000_000.0),
];

/// Strings it does not match, with the refusal (the rule they break).
fn not_matching() -> Vec<(&'static str, (&'static str, &'static str))> {
    vec![
        ("+5", NOT_PLAIN),
        ("1e2", NOT_PLAIN),
        ("1E2", NOT_PLAIN),
        ("2.5e1", NOT_PLAIN),
        (" 5", NOT_PLAIN),
        ("5 ", NOT_PLAIN),
        ("5.", NOT_PLAIN),
        ("+0", POSITIVE),
        ("0", POSITIVE),
        ("-5", POSITIVE),
        ("abc", POSITIVE),
        ("", POSITIVE),
        ("1.999", DECIMALS),
        ("1e-3", DECIMALS),
        ("1000000.01", MAX),
        ("1e7", MAX),
    ]
}

/// The price string pattern of `TicketInput` in the served document.
async fn documented_pattern(app: &TestApp) -> String {
    let document: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let any_of = document["components"]["schemas"]["TicketInput"]["properties"]["price"]["anyOf"]
        .as_array()
        .expect("price is a number or a string");
    any_of
        .iter()
        .find(|s| s["type"] == "string")
        .and_then(|s| s["pattern"].as_str())
        .expect("the string's pattern")
        .to_owned()
}

async fn create(app: &TestApp, seller: &TestUser, price: Value) -> reqwest::Response {
    app.post(
        "/api/tickets",
        Some(&seller.token),
        &json!({"title": "Gig", "price": price}),
    )
    .await
}

#[tokio::test]
async fn a_price_string_is_taken_exactly_when_it_matches_the_documented_pattern() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    assert_eq!(documented_pattern(&app).await, api::input::PRICE_PATTERN);

    for (text, price) in MATCHING {
        let response = create(&app, &seller, json!(text)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{text:?}");
        let ticket: Value = response.json().await.unwrap();
        assert_eq!(ticket["price"].as_f64(), Some(*price), "{text:?}");
    }
    for (text, refusal) in not_matching() {
        let response = create(&app, &seller, json!(text)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{text:?}");
        assert_validation(response, &[refusal]).await;
    }

    // An edit follows the same rule.
    let ticket = app.create_ticket(&seller, "Gig", json!(10)).await;
    let path = format!("/api/tickets/{}", id_of(&ticket));
    for text in ["+5", "1e2"] {
        let body = json!({"title": "Gig", "price": text});
        let response = app.put(&path, Some(&seller.token), &body).await;
        assert_validation(response, &[NOT_PLAIN]).await;
    }
    let ticket: Value = app.get(&path, None).await.json().await.unwrap();
    assert_eq!(ticket["price"].as_f64(), Some(10.0), "unchanged: {ticket}");
    assert_eq!(ticket["version"], 0, "unchanged: {ticket}");
}

#[tokio::test]
async fn json_numbers_are_taken_as_before() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    // serde_json writes `1e2` back as `100.0` and `19.990` as `19.99`.
    for (body, price) in [
        (r#"19.99"#, 19.99),
        (r#"19.990"#, 19.99),
        (r#"1e2"#, 100.0),
        (r#"2.5E1"#, 25.0),
        (r#"1000000"#, 1_000_000.0),
    ] {
        let number: Value = serde_json::from_str(body).unwrap();
        let response = create(&app, &seller, number).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{body}");
        let ticket: Value = response.json().await.unwrap();
        assert_eq!(ticket["price"].as_f64(), Some(price), "{body}");
    }
    for (number, refusal) in [
        (json!(0), POSITIVE),
        (json!(-5), POSITIVE),
        (json!(1.999), DECIMALS),
        (json!(1e7), MAX),
    ] {
        let response = create(&app, &seller, number.clone()).await;
        assert_validation(response, &[refusal]).await;
    }
}

#[tokio::test]
async fn the_sell_form_takes_a_price_typed_with_spaces_around_it() {
    let app = spawn_app().await;
    let csrf = "0123456789abcdef0123456789abcdef0123456789abcdef";
    let seller = crate::cross_site::cookie_user(&app).await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/tickets/new"))
        .header(
            reqwest::header::COOKIE,
            format!("{}; csrf={csrf}", seller.cookie),
        )
        .form(&[("title", "Gig"), ("price", " 12.50 "), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let id = location
        .strip_prefix("/tickets/")
        .expect("to the new ticket");
    let ticket: Value = app
        .get(&format!("/api/tickets/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["price"].as_f64(), Some(12.5), "{ticket}");
}
