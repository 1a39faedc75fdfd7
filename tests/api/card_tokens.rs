//! The sandbox gateway follows the card processor's test tokens through the whole API: a decline
//! token is 402 with the processor's message and cancels the order; a token it does not know is
//! refused as invalid, charges nothing and leaves the order to be paid.

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{assert_error, listed_and_ordered, spawn_app};

use crate::orders::{get_order, pay};

#[tokio::test]
async fn insufficient_funds_is_declined_with_the_processors_message() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(10)).await;

    let response = pay(
        &app,
        &deal.buyer,
        &deal.order_id(),
        "tok_chargeDeclinedInsufficientFunds",
    )
    .await;

    assert_error(
        response,
        StatusCode::PAYMENT_REQUIRED,
        "Your card has insufficient funds.",
    )
    .await;
    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], "cancelled", "{order}");
    assert_eq!(order["cancelReason"], "declined", "{order}");
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn other_decline_tokens_are_declined_too() {
    let app = spawn_app().await;
    for (token, message) in [
        ("tok_chargeDeclinedExpiredCard", "Your card has expired."),
        (
            "tok_chargeDeclinedIncorrectCvc",
            "Your card's security code is incorrect.",
        ),
        ("tok_chargeDeclinedFraudulent", "Your card was declined."),
    ] {
        let deal = listed_and_ordered(&app, "Concert", json!(10)).await;
        let response = pay(&app, &deal.buyer, &deal.order_id(), token).await;
        assert_error(response, StatusCode::PAYMENT_REQUIRED, message).await;
    }
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn an_unknown_token_is_refused_and_the_order_can_still_be_paid() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Concert", json!(25)).await;

    for token in ["tok_nonsense", "tok_", "tok_Visa"] {
        let response = pay(&app, &deal.buyer, &deal.order_id(), token).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            &format!("No such token: '{token}'"),
        )
        .await;
    }
    assert!(app.sandbox.charges().is_empty(), "nothing was charged");
    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], "created", "still open: {order}");

    // A card brand of the processor's pays it.
    let response = pay(&app, &deal.buyer, &deal.order_id(), "tok_amex").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let paid: Value = response.json().await.unwrap();
    let charges = app.sandbox.charges();
    assert_eq!(charges.len(), 1, "{charges:?}");
    assert_eq!(charges[0].1, paid["chargeId"]);
    let order = get_order(&app, &deal.buyer, &deal.order_id()).await;
    assert_eq!(order["status"], "complete", "{order}");
}
