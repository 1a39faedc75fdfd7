//! A seller's listings (`GET /api/listings`): each ticket newest first with what became of it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{TestApp, TestUser, assert_error, listed_and_ordered, spawn_app};

/// The seller's listings and the `X-Total-Count` of the answer.
async fn listings(app: &TestApp, seller: &TestUser, query: &str) -> (Vec<Value>, u64) {
    let response = app
        .get(&format!("/api/listings{query}"), Some(&seller.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let total = support::total_count(&response);
    let body: Value = response.json().await.unwrap();
    (body.as_array().expect("an array").clone(), total)
}

fn keys(listing: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = listing
        .as_object()
        .expect("a listing")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn listings_need_sign_in() {
    let app = spawn_app().await;
    let response = app.get("/api/listings", None).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
}

#[tokio::test]
async fn a_seller_sees_each_ticket_for_sale_reserved_then_sold() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(1250)).await;
    let later = app
        .create_ticket(&deal.seller, "Later show", json!(10))
        .await;
    // Someone else's ticket is not among them.
    let stranger = app.new_user().await;
    app.create_ticket(&stranger, "Not mine", json!(5)).await;

    let (listed, total) = listings(&app, &deal.seller, "").await;
    assert_eq!(total, 2);
    assert_eq!(listed.len(), 2);
    // Newest first: the later one is for sale.
    assert_eq!(listed[0]["ticket"], later, "{listed:?}");
    assert_eq!(listed[0]["state"], "forSale");
    assert_eq!(keys(&listed[0]), ["state", "ticket"]);
    // The ordered one is reserved until its order expires.
    let reserved = &listed[1];
    assert_eq!(reserved["state"], "reserved", "{reserved}");
    assert_eq!(reserved["orderId"], deal.order["id"], "{reserved}");
    assert_eq!(
        reserved["reservedUntil"], deal.order["expiresAt"],
        "{reserved}"
    );
    assert_eq!(
        keys(reserved),
        ["orderId", "reservedUntil", "state", "ticket"]
    );

    let paid = app.pay(&deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let (listed, _) = listings(&app, &deal.seller, "").await;
    let sold = &listed[1];
    assert_eq!(sold["state"], "sold", "{sold}");
    assert_eq!(
        keys(sold),
        ["orderId", "soldAt", "soldFor", "state", "ticket"]
    );
    assert_eq!(
        sold["soldFor"],
        json!({"price": 1250, "priceCents": 125000, "currency": "usd"}),
        "{sold}"
    );
    assert!(sold["soldAt"].is_string(), "{sold}");

    // Pages: limit and offset, with the total unchanged.
    let (page, total) = listings(&app, &deal.seller, "?limit=1&offset=1").await;
    assert_eq!(total, 2);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["state"], "sold");
}

#[tokio::test]
async fn a_cancelled_order_puts_the_ticket_back_for_sale_in_the_listings() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(40)).await;
    let cancelled = app.api().cancel(&deal.buyer.token, &deal.order_id()).await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    let (listed, total) = listings(&app, &deal.seller, "").await;
    assert_eq!(total, 1);
    assert_eq!(listed[0]["state"], "forSale", "{listed:?}");
}
