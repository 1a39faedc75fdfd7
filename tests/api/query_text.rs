//! Control characters in query parameters (NUL above all, which PostgreSQL's text cannot hold):
//! refused on the field with the contract's body, on either database, and the home page says so in
//! words instead of failing.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use support::{TestApp, assert_validation, spawn_app, total_count};

const Q_CONTROL: (&str, &str) = ("q must not contain control characters", "q");
const MIN_PRICE: (&str, &str) = ("minPrice must be an amount like 19.99", "minPrice");
const MAX_PRICE: (&str, &str) = ("maxPrice must be an amount like 19.99", "maxPrice");
const LIMIT: (&str, &str) = ("limit must be an integer between 1 and 500", "limit");
const OFFSET: (&str, &str) = ("offset must be a non-negative integer", "offset");

/// The titles `GET /api/tickets<query>` lists, and how many match in all.
async fn titles(app: &TestApp, query: &str) -> (Vec<String>, u64) {
    let response = app.get(&format!("/api/tickets{query}"), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let total = total_count(&response);
    let tickets: Vec<Value> = response.json().await.unwrap();
    let titles = tickets
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    (titles, total)
}

#[tokio::test]
async fn nul_or_another_control_character_in_a_search_is_400_on_the_field() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    app.create_ticket(&seller, "Concert", json!(10)).await;

    // NUL alone, inside words, a line break, an escape sequence, a C1 control (U+0085).
    for q in [
        "%00",
        "con%00cert",
        "%00%00%00",
        "rock%0Aroll",
        "%1B%5B31m",
        "%C2%85",
    ] {
        let response = app.get(&format!("/api/tickets?q={q}"), None).await;
        assert_validation(response, &[Q_CONTROL]).await;
    }
    // Every malformed parameter at once, as for any other mistake.
    let response = app
        .get("/api/tickets?q=%00&minPrice=%00&maxPrice=1%00", None)
        .await;
    assert_validation(response, &[Q_CONTROL, MIN_PRICE, MAX_PRICE]).await;

    // The searches that were fine still are.
    assert_eq!(
        titles(&app, "?q=CERT").await,
        (vec!["Concert".to_owned()], 1)
    );
    assert_eq!(
        titles(&app, "?q=%20conc%20").await,
        (vec!["Concert".to_owned()], 1)
    );
    assert_eq!(titles(&app, "?q=").await, (vec!["Concert".to_owned()], 1));
}

#[tokio::test]
async fn nul_in_any_other_query_parameter_is_400_on_its_field() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let token = Some(seller.token.as_str());

    let response = app.get("/api/tickets?minPrice=%00", None).await;
    assert_validation(response, &[MIN_PRICE]).await;
    let response = app.get("/api/tickets?maxPrice=%00", None).await;
    assert_validation(response, &[MAX_PRICE]).await;
    let response = app.get("/api/tickets?sort=%00", None).await;
    assert_validation(
        response,
        &[("sort must be oldest, newest, priceLow or priceHigh", "sort")],
    )
    .await;
    for path in ["/api/tickets", "/api/listings", "/api/orders"] {
        let response = app
            .get(&format!("{path}?limit=%00&offset=%00"), token)
            .await;
        assert_validation(response, &[LIMIT, OFFSET]).await;
    }
}

#[tokio::test]
async fn the_home_page_answers_a_search_with_nul_in_words() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    app.create_ticket(&seller, "Concert", json!(10)).await;
    let page = |query: &'static str| {
        let client = app.client.clone();
        let url = app.url(query);
        async move {
            let response = client
                .get(url)
                .header(header::ACCEPT, "text/html")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let content_type = response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                content_type.starts_with("text/html"),
                "{query}: {content_type}"
            );
            (status, response.text().await.unwrap())
        }
    };

    for query in ["/?q=%00", "/?q=con%00cert&sort=priceLow", "/?q=a%0Ab"] {
        let (status, html) = page(query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            html.contains("Title: Enter words without control characters"),
            "{query} says what is wrong: {html}"
        );
        assert!(html.contains("form"), "{query} keeps the search form");
    }
    let (status, html) = page("/?min=%00").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Price from: Enter a number like 19.99"),
        "{html}"
    );
    // Parameters the page reads itself fall back to their defaults.
    for query in ["/?sort=%00", "/?page=%00", "/?sort=%00&page=1%00"] {
        let (status, html) = page(query).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(html.contains("Concert"), "{query} lists the tickets");
    }
    let (status, html) = page("/?q=conc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Concert"));
}
