//! We eat our own cooking: the whole buy flow through the Rust client that progenitor generates
//! from the committed `openapi.json` (`clients/rust`), against the real app. Typed all the way:
//! ids are UUIDs, statuses are enums, money comes as integer cents with its currency.

use std::str::FromStr;

use support::spawn_app;
use ticketing_client::{Client, types};

/// A client that sends `token` as a bearer token on every request.
fn signed_in(base: &str, token: &str) -> Client {
    let mut headers = reqwest13::header::HeaderMap::new();
    headers.insert(
        reqwest13::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let http = reqwest13::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    Client::new_with_client(base, http)
}

/// Signs a new user up and returns a client signed in as them.
async fn new_user(anonymous: &Client, base: &str, who: &str) -> (Client, uuid::Uuid) {
    let email = format!("{who}-{}@example.com", uuid::Uuid::new_v4().simple());
    let account = types::NewAccount {
        email: types::NewAccountEmail::from_str(&email).unwrap(),
        password: types::NewAccountPassword::from_str("correct horse").unwrap(),
    };
    let user = anonymous.sign_up(&account).await.unwrap().into_inner();
    let credentials = types::Credentials {
        email: types::CredentialsEmail::from_str(&email).unwrap(),
        password: types::CredentialsPassword::from_str("correct horse").unwrap(),
    };
    let token = anonymous
        .get_token(&credentials)
        .await
        .unwrap()
        .into_inner();
    assert!(token.expires_at > chrono::Utc::now());
    (signed_in(base, &token.token), user.id)
}

#[tokio::test]
async fn a_ticket_is_bought_through_the_generated_rust_client() {
    let app = spawn_app().await;
    let anonymous = Client::new(&app.address);
    let (seller, seller_id) = new_user(&anonymous, &app.address, "seller").await;
    let (buyer, buyer_id) = new_user(&anonymous, &app.address, "buyer").await;

    let me = buyer.get_current_user().await.unwrap().into_inner();
    assert_eq!(me.current_user.map(|u| u.id), Some(buyer_id));
    let nobody = anonymous.get_current_user().await.unwrap().into_inner();
    assert!(
        nobody.current_user.is_none(),
        "signed out is null, and typed so"
    );

    let input = types::TicketInput {
        title: types::TicketInputTitle::from_str("Generated concert").unwrap(),
        price: types::TicketInputPrice::String(
            types::TicketInputPriceString::from_str("19.99").unwrap(),
        ),
    };
    let ticket = seller.create_ticket(&input).await.unwrap().into_inner();
    assert_eq!(ticket.user_id, seller_id);
    assert_eq!(ticket.price_cents, 1999);
    assert_eq!(&*ticket.currency, "usd");

    let key =
        types::CreateOrderIdempotencyKey::from_str(&uuid::Uuid::new_v4().to_string()).unwrap();
    let order = buyer
        .create_order(
            Some(&key),
            &types::NewOrder {
                ticket_id: ticket.id,
            },
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(order.status, types::OrderStatus::Created);
    assert_eq!(order.ticket.price_cents, 1999);
    assert!(order.expires_at > chrono::Utc::now());

    // A refusal comes back typed too: the contract's error body.
    let taken = seller
        .create_order(
            None,
            &types::NewOrder {
                ticket_id: ticket.id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(taken.status().map(|s| s.as_u16()), Some(400));

    let payment = types::NewPayment {
        order_id: order.id,
        token: types::NewPaymentToken::from_str("tok_visa").unwrap(),
    };
    let paid = buyer.pay_order(None, &payment).await.unwrap().into_inner();
    assert_eq!(paid.order_id, order.id);

    let now = buyer.get_order(&order.id).await.unwrap().into_inner();
    assert_eq!(now.status, types::OrderStatus::Complete);
    let mine = buyer.list_orders(None, None).await.unwrap().into_inner();
    assert_eq!(mine.iter().map(|o| o.id).collect::<Vec<_>>(), [order.id]);
}
