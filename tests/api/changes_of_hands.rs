//! Tickets change hands after their first sale: a holder gives one to a friend (who holds it with
//! a new code, the giver's code void), sells one on (at most `RESALE_PRICE_CAP_PERCENT` of its
//! last sale here, to a third user who then holds the original ticket), and a seller takes a free
//! listing off sale (keeping the ticket, to sell on uncapped or give away). Retries with an
//! `Idempotency-Key` change nothing twice; concurrent transfers, and a transfer racing a door
//! scan, leave one holder and never both admitted and given. On SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL`.

use entities::{event, ticket, transfer};
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use support::{
    Deal, TestApp, TestUser, assert_error, error_entries, id_of, listed_and_ordered, order_ticket,
    post_order, spawn_app, uuid,
};

/// The refusals the holdings' writes answer.
const LISTED: &str =
    "This ticket is listed for sale: take the listing off sale before giving it away";
const CHECKED_IN: &str = "This ticket was checked in at the door: it can no longer change hands";
const ALREADY_LISTED: &str = "This ticket is already listed for sale";
const WITHDRAWN_ORDER: &str = "Ticket is no longer for sale: its seller took it off sale";
const KEY_REUSED: &str = "Idempotency-Key was already used with a different request";

/// What `user` holds (`GET /api/holdings`).
async fn holdings(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let response = app.get("/api/holdings", Some(&user.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The holding of `ticket` among `user`'s, if they hold it.
async fn holding_of(app: &TestApp, user: &TestUser, ticket: &str) -> Option<Value> {
    holdings(app, user)
        .await
        .into_iter()
        .find(|h| h["ticketId"] == ticket)
}

/// The holding of `ticket` by `user`, who must hold it.
async fn held(app: &TestApp, user: &TestUser, ticket: &str) -> Value {
    holding_of(app, user, ticket)
        .await
        .unwrap_or_else(|| panic!("{} holds {ticket}", user.email))
}

/// The code `user` shows at the door for `ticket`.
async fn code_of(app: &TestApp, user: &TestUser, ticket: &str) -> String {
    held(app, user, ticket).await["code"]
        .as_str()
        .expect("a code")
        .to_owned()
}

/// `POST /api/checkins {code}` as `door`: the status and body.
async fn scan(app: &TestApp, door: &TestUser, code: &str) -> (StatusCode, Value) {
    let response = app
        .post("/api/checkins", Some(&door.token), &json!({ "code": code }))
        .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What the door says of `code` (asserting a 200).
async fn door_says(app: &TestApp, door: &TestUser, code: &str) -> String {
    let (status, answer) = scan(app, door, code).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["result"].as_str().expect("a result").to_owned()
}

/// A seller lists a ticket at 25.00 and a buyer buys it (pays with a card that works).
async fn bought(app: &TestApp) -> Deal {
    let deal = listed_and_ordered(app, "Opera", json!(25)).await;
    paid(app, &deal.buyer, &deal.order_id()).await;
    deal
}

/// `user` pays `order` with a card that works.
async fn paid(app: &TestApp, user: &TestUser, order: &str) {
    let response = app.pay(user, order, "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED, "POST /api/payments");
}

/// `POST /api/holdings/:ticket/transfer {email}` as `user`.
async fn transfer(app: &TestApp, user: &TestUser, ticket: &str, email: &str) -> Response {
    app.post(
        &format!("/api/holdings/{ticket}/transfer"),
        Some(&user.token),
        &json!({ "email": email }),
    )
    .await
}

/// `POST /api/holdings/:ticket/sell {price}` as `user`.
async fn sell(app: &TestApp, user: &TestUser, ticket: &str, price: Value) -> Response {
    app.post(
        &format!("/api/holdings/{ticket}/sell"),
        Some(&user.token),
        &json!({ "price": price }),
    )
    .await
}

/// `DELETE /api/tickets/:id` as `user`.
async fn withdraw(app: &TestApp, user: &TestUser, ticket: &str) -> Response {
    app.delete(&format!("/api/tickets/{ticket}"), Some(&user.token))
        .await
}

/// The JSON of a response with status `expected` (its body in the failure otherwise).
async fn answered(response: Response, expected: StatusCode, what: &str) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, expected, "{what}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Asserts a 409 whose message starts with `start`.
async fn assert_conflict(response: Response, start: &str) {
    let entries = error_entries(response, StatusCode::CONFLICT).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].0.starts_with(start), "{entries:?}");
    assert_eq!(entries[0].1, None, "{entries:?}");
}

/// Asserts a 400 with one entry on `field` whose message contains each of `parts`.
async fn assert_invalid(response: Response, field: &str, parts: &[&str]) {
    let entries = error_entries(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].1.as_deref(), Some(field), "{entries:?}");
    for part in parts {
        assert!(entries[0].0.contains(part), "{part:?} in {entries:?}");
    }
}

/// The outbox's events of `kind` about the record `id`, in the order they were written.
async fn events_of(app: &TestApp, id: &str, kind: &str) -> Vec<event::Model> {
    use sea_orm::QueryOrder;
    event::Entity::find()
        .filter(event::Column::AggregateId.eq(uuid(id)))
        .filter(event::Column::Kind.eq(kind))
        .order_by_asc(event::Column::Id)
        .all(&app.db.connection)
        .await
        .unwrap()
}

/// The `holding:changed` events of `ticket` that a transfer appended.
async fn transfer_events(app: &TestApp, ticket: &str) -> Vec<event::Model> {
    events_of(app, ticket, event::kind::HOLDING_CHANGED)
        .await
        .into_iter()
        .filter(|e| e.payload["acquiredBy"] == "transfer")
        .collect()
}

/// How many transfers of `ticket` are kept.
async fn transfer_rows(app: &TestApp, ticket: &str) -> u64 {
    transfer::Entity::find()
        .filter(transfer::Column::TicketId.eq(uuid(ticket)))
        .count(&app.db.connection)
        .await
        .unwrap()
}

/// The listings that sell `ticket` again.
async fn resale_listings(app: &TestApp, ticket: &str) -> Vec<ticket::Model> {
    ticket::Entity::find()
        .filter(ticket::Column::ResaleOf.eq(uuid(ticket)))
        .all(&app.db.connection)
        .await
        .unwrap()
}

/// The ids of the tickets for sale (`GET /api/tickets`).
async fn for_sale(app: &TestApp) -> Vec<String> {
    let response = app.get("/api/tickets?limit=100", None).await;
    let body = answered(response, StatusCode::OK, "GET /api/tickets").await;
    body.as_array()
        .expect("an array")
        .iter()
        .map(id_of)
        .collect()
}

/// The state `GET /api/listings` shows for `seller`'s listing `id`.
async fn listing_state(app: &TestApp, seller: &TestUser, id: &str) -> Value {
    let response = app.get("/api/listings", Some(&seller.token)).await;
    let body = answered(response, StatusCode::OK, "GET /api/listings").await;
    body.as_array()
        .expect("an array")
        .iter()
        .find(|l| l["ticket"]["id"] == id)
        .unwrap_or_else(|| panic!("{id} among the listings: {body}"))["state"]
        .clone()
}

/// `user`'s transfers (`GET /api/holdings/transfers`).
async fn transfers_of(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let response = app.get("/api/holdings/transfers", Some(&user.token)).await;
    let body = answered(response, StatusCode::OK, "GET /api/holdings/transfers").await;
    body.as_array().expect("an array").clone()
}

#[tokio::test]
async fn a_ticket_given_to_a_friend_is_theirs_with_a_new_code_and_the_givers_code_is_void() {
    let app = spawn_app().await;
    let deal = bought(&app).await;
    let ticket = deal.ticket_id();
    let friend = app.new_user().await;
    let givers_code = code_of(&app, &deal.buyer, &ticket).await;

    let response = transfer(&app, &deal.buyer, &ticket, &friend.email).await;
    let given = answered(response, StatusCode::OK, "the transfer").await;
    assert!(given["id"].is_string(), "{given}");
    assert_eq!(given["ticketId"], ticket.as_str(), "{given}");
    assert_eq!(given["title"], "Opera", "{given}");
    assert_eq!(given["from"], deal.buyer.email.as_str(), "{given}");
    assert_eq!(given["to"], friend.email.as_str(), "{given}");
    assert_eq!(given["given"], true, "{given}");
    assert!(given["transferredAt"].is_string(), "{given}");

    // The friend holds it, with a code of their own; they paid nothing, and its cap carries over.
    let theirs = held(&app, &friend, &ticket).await;
    let friends_code = theirs["code"].as_str().unwrap().to_owned();
    assert_ne!(
        friends_code, givers_code,
        "a change of hands issues a new code"
    );
    assert_eq!(theirs["title"], "Opera");
    assert_eq!(theirs["paidCents"], Value::Null, "{theirs}");
    assert_eq!(theirs["acquiredBy"], "transfer", "{theirs}");
    assert_eq!(theirs["resaleCapCents"], 2500, "{theirs}");
    assert_eq!(theirs["forSale"], false, "{theirs}");
    assert_eq!(theirs["checkedInAt"], Value::Null, "{theirs}");
    assert!(theirs.get("listingId").is_none(), "{theirs}");
    assert!(
        holdings(&app, &deal.buyer).await.is_empty(),
        "the giver holds it no more"
    );

    // The door turns the giver's code away and lets the friend in.
    let door = app.door_staff().await;
    assert_eq!(door_says(&app, &door, &givers_code).await, "void");
    assert_eq!(door_says(&app, &door, &friends_code).await, "admitted");

    // Both see the transfer, each from their side.
    let mine = transfers_of(&app, &deal.buyer).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0], given);
    let received = transfers_of(&app, &friend).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["id"], given["id"]);
    assert_eq!(received[0]["from"], deal.buyer.email.as_str());
    assert_eq!(received[0]["to"], friend.email.as_str());
    assert_eq!(received[0]["given"], false, "{received:?}");

    // The giver cannot give it again: they do not hold it.
    let again = app.new_user().await;
    let response = transfer(&app, &deal.buyer, &ticket, &again.email).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The transfer is one `holding:changed` in the outbox: the friend's, at the next generation.
    let changes = events_of(&app, &ticket, event::kind::HOLDING_CHANGED).await;
    assert_eq!(changes.len(), 2, "the sale and the transfer: {changes:?}");
    let given_event = &changes[1];
    assert_eq!(
        given_event.payload["acquiredBy"], "transfer",
        "{given_event:?}"
    );
    assert_eq!(given_event.payload["holderId"], friend.id.as_str());
    assert_eq!(given_event.payload["ticketId"], ticket.as_str());
    assert_eq!(
        given_event.payload["generation"],
        changes[0].payload["generation"].as_i64().unwrap() + 1
    );
    assert!(given_event.version > changes[0].version, "{changes:?}");
    assert_eq!(transfer_rows(&app, &ticket).await, 1);
}

#[tokio::test]
async fn a_ticket_listed_reserved_or_checked_in_cannot_be_given_nor_to_nobody_or_oneself() {
    let app = spawn_app().await;
    let friend = app.new_user().await;

    // Its lister's own listing, on sale.
    let lister = app.new_user().await;
    let listed = id_of(&app.create_ticket(&lister, "Listed", json!(10)).await);
    let response = transfer(&app, &lister, &listed, &friend.email).await;
    assert_error(response, StatusCode::CONFLICT, LISTED).await;

    // Reserved by an order.
    let reserved = listed_and_ordered(&app, "Reserved", json!(10)).await;
    let response = transfer(&app, &reserved.seller, &reserved.ticket_id(), &friend.email).await;
    assert_error(response, StatusCode::CONFLICT, LISTED).await;

    // Checked in at the door.
    let used = bought(&app).await;
    let door = app.door_staff().await;
    let code = code_of(&app, &used.buyer, &used.ticket_id()).await;
    assert_eq!(door_says(&app, &door, &code).await, "admitted");
    let response = transfer(&app, &used.buyer, &used.ticket_id(), &friend.email).await;
    assert_error(response, StatusCode::CONFLICT, CHECKED_IN).await;

    let deal = bought(&app).await;
    let ticket = deal.ticket_id();
    let code = code_of(&app, &deal.buyer, &ticket).await;
    // To an email nobody signed up with.
    let response = transfer(&app, &deal.buyer, &ticket, "nobody-here@example.com").await;
    assert_invalid(response, "email", &["No account has this email"]).await;
    // To oneself, however the email is written.
    for me in [deal.buyer.email.clone(), deal.buyer.email.to_uppercase()] {
        let response = transfer(&app, &deal.buyer, &ticket, &me).await;
        assert_invalid(response, "email", &["You hold this ticket already"]).await;
    }
    // Not an email at all.
    for malformed in ["not an email", "", "@example.com"] {
        let response = transfer(&app, &deal.buyer, &ticket, malformed).await;
        assert_invalid(response, "email", &["Email must be valid"]).await;
    }
    // By someone who does not hold it: a stranger, its seller once sold, about a ticket nobody has.
    let stranger = app.new_user().await;
    let response = transfer(&app, &stranger, &ticket, &friend.email).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = transfer(&app, &deal.seller, &ticket, &friend.email).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let nothing = uuid::Uuid::new_v4().to_string();
    let response = transfer(&app, &deal.buyer, &nothing, &friend.email).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = transfer(&app, &deal.buyer, "not-a-uuid", &friend.email).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Nothing changed hands: every ticket stays where it was, with its code.
    assert_eq!(code_of(&app, &deal.buyer, &ticket).await, code);
    assert!(held(&app, &lister, &listed).await["forSale"] == true);
    held(&app, &reserved.seller, &reserved.ticket_id()).await;
    held(&app, &used.buyer, &used.ticket_id()).await;
    assert!(holdings(&app, &friend).await.is_empty());
    assert!(transfers_of(&app, &friend).await.is_empty());
    for ticket in [listed, reserved.ticket_id(), used.ticket_id(), ticket] {
        assert_eq!(transfer_rows(&app, &ticket).await, 0);
        assert!(transfer_events(&app, &ticket).await.is_empty());
    }
}

#[tokio::test]
async fn a_ticket_sells_on_at_most_its_cap_and_its_next_buyer_holds_it() {
    let app = spawn_app().await;
    let deal = bought(&app).await;
    let ticket = deal.ticket_id();
    let reseller = &deal.buyer;
    let resellers_code = code_of(&app, reseller, &ticket).await;
    assert_eq!(held(&app, reseller, &ticket).await["resaleCapCents"], 2500);

    // Above the price it last sold for: refused, saying the cap.
    for above in [json!(25.01), json!("25.01"), json!(1000)] {
        let response = sell(&app, reseller, &ticket, above.clone()).await;
        assert_invalid(response, "price", &["at most 25.00 USD", "100%"]).await;
    }
    assert!(resale_listings(&app, &ticket).await.is_empty());

    // At the cap: a new listing by the reseller, naming the ticket it sells again.
    let response = sell(&app, reseller, &ticket, json!("25.00")).await;
    let listing = answered(response, StatusCode::CREATED, "the sell-on").await;
    let listing_id = id_of(&listing);
    assert_ne!(listing_id, ticket, "a new listing");
    assert_eq!(listing["title"], "Opera", "{listing}");
    assert_eq!(listing["price"].as_f64(), Some(25.0), "{listing}");
    assert_eq!(listing["priceCents"], 2500, "{listing}");
    assert_eq!(listing["currency"], "usd", "{listing}");
    assert_eq!(listing["userId"], reseller.id.as_str(), "{listing}");
    assert_eq!(listing["version"], 0, "{listing}");
    assert_eq!(listing["resaleOf"], ticket.as_str(), "{listing}");
    assert!(for_sale(&app).await.contains(&listing_id), "on sale");
    let holding = held(&app, reseller, &ticket).await;
    assert_eq!(holding["listingId"], listing_id.as_str(), "{holding}");
    assert_eq!(holding["forSale"], true, "{holding}");
    assert_eq!(holding["code"], resellers_code.as_str(), "kept until sold");

    // Listed already: neither a second listing nor a gift.
    let response = sell(&app, reseller, &ticket, json!(20)).await;
    assert_conflict(response, ALREADY_LISTED).await;
    let friend = app.new_user().await;
    let response = transfer(&app, reseller, &ticket, &friend.email).await;
    assert_error(response, StatusCode::CONFLICT, LISTED).await;
    assert_eq!(resale_listings(&app, &ticket).await.len(), 1);

    // Its edit keeps to the cap too.
    let path = format!("/api/tickets/{listing_id}");
    let response = app
        .put(
            &path,
            Some(&reseller.token),
            &json!({"title": "Opera", "price": 30}),
        )
        .await;
    assert_invalid(response, "price", &["at most 25.00 USD", "100%"]).await;
    let response = app
        .put(
            &path,
            Some(&reseller.token),
            &json!({"title": "Opera", "price": 24}),
        )
        .await;
    let edited = answered(response, StatusCode::OK, "an edit under the cap").await;
    assert_eq!(edited["priceCents"], 2400, "{edited}");

    // Its seller cannot buy it; a third user does.
    let response = post_order(&app, reseller, &listing_id).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "You cannot buy your own ticket",
    )
    .await;
    let third = app.new_user().await;
    let order = order_ticket(&app, &third, &listing_id).await;
    paid(&app, &third, &id_of(&order)).await;

    // The third user holds the original ticket, at what they paid, with a code of their own.
    let theirs = held(&app, &third, &ticket).await;
    assert_eq!(theirs["title"], "Opera", "{theirs}");
    assert_eq!(theirs["paidCents"], 2400, "{theirs}");
    assert_eq!(theirs["acquiredBy"], "sale", "{theirs}");
    assert_eq!(
        theirs["resaleCapCents"], 2400,
        "the cap of the last sale: {theirs}"
    );
    assert_eq!(theirs["forSale"], false, "{theirs}");
    assert!(theirs.get("listingId").is_none(), "{theirs}");
    let thirds_code = theirs["code"].as_str().unwrap().to_owned();
    assert_ne!(thirds_code, resellers_code);
    assert_eq!(holdings(&app, &third).await.len(), 1, "one ticket, not two");
    assert!(
        holding_of(&app, reseller, &ticket).await.is_none(),
        "the reseller holds it no more"
    );
    assert!(!for_sale(&app).await.contains(&listing_id), "sold");
    assert_eq!(listing_state(&app, reseller, &listing_id).await, "sold");

    let door = app.door_staff().await;
    assert_eq!(door_says(&app, &door, &resellers_code).await, "void");
    assert_eq!(door_says(&app, &door, &thirds_code).await, "admitted");

    // One change of hands for the resale, of the original ticket, to the third user.
    let changes = events_of(&app, &ticket, event::kind::HOLDING_CHANGED).await;
    assert_eq!(
        changes.len(),
        2,
        "the first sale and the resale: {changes:?}"
    );
    assert_eq!(changes[1].payload["holderId"], third.id.as_str());
    assert!(changes[1].version > changes[0].version, "{changes:?}");
    assert_eq!(
        events_of(&app, &listing_id, event::kind::TICKET_CREATED)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_seller_takes_a_free_listing_off_sale_keeps_it_and_may_sell_it_on_uncapped() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let buyer = app.new_user().await;
    let ticket = id_of(&app.create_ticket(&seller, "Ballet", json!(30)).await);
    let path = format!("/api/tickets/{ticket}");

    // Only its seller may.
    let response = withdraw(&app, &buyer, &ticket).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authorized").await;
    let response = app.delete(&path, None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(for_sale(&app).await.contains(&ticket));

    let response = withdraw(&app, &seller, &ticket).await;
    let withdrawn = answered(response, StatusCode::OK, "the withdrawal").await;
    assert_eq!(withdrawn["id"], ticket.as_str(), "{withdrawn}");
    assert!(withdrawn["withdrawnAt"].is_string(), "{withdrawn}");

    // Buyers no longer see it, nor can order it; it answers as withdrawn; it cannot be edited.
    assert!(!for_sale(&app).await.contains(&ticket));
    let response = app.get(&path, None).await;
    let shown = answered(response, StatusCode::OK, "GET the withdrawn ticket").await;
    assert_eq!(shown["withdrawnAt"], withdrawn["withdrawnAt"], "{shown}");
    let response = post_order(&app, &buyer, &ticket).await;
    assert_error(response, StatusCode::BAD_REQUEST, WITHDRAWN_ORDER).await;
    let response = app
        .put(
            &path,
            Some(&seller.token),
            &json!({"title": "Ballet", "price": 35}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(listing_state(&app, &seller, &ticket).await, "withdrawn");

    // The seller still holds it, offered nowhere.
    let holding = held(&app, &seller, &ticket).await;
    assert_eq!(holding["forSale"], false, "{holding}");
    assert!(holding.get("listingId").is_none(), "{holding}");
    assert_eq!(holding["acquiredBy"], "listing", "{holding}");
    assert_eq!(holding["resaleCapCents"], Value::Null, "{holding}");

    // Asking again answers the same withdrawn ticket; others still may not.
    let response = withdraw(&app, &seller, &ticket).await;
    let again = answered(response, StatusCode::OK, "the second withdrawal").await;
    assert_eq!(again["withdrawnAt"], withdrawn["withdrawnAt"], "{again}");
    let response = withdraw(&app, &buyer, &ticket).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let withdrawals = events_of(&app, &ticket, event::kind::TICKET_WITHDRAWN).await;
    assert_eq!(withdrawals.len(), 1, "{withdrawals:?}");
    assert!(withdrawals[0].payload["withdrawnAt"].is_string());

    // Never sold here: it sells on at any price.
    let response = sell(&app, &seller, &ticket, json!(5000)).await;
    let listing = answered(response, StatusCode::CREATED, "an uncapped sell-on").await;
    assert_eq!(listing["priceCents"], 500000, "{listing}");
    assert_eq!(listing["resaleOf"], ticket.as_str(), "{listing}");
    assert!(for_sale(&app).await.contains(&id_of(&listing)));
    let holding = held(&app, &seller, &ticket).await;
    assert_eq!(holding["listingId"], listing["id"], "{holding}");
    assert_eq!(holding["forSale"], true, "{holding}");
}

#[tokio::test]
async fn a_reserved_or_sold_listing_cannot_be_taken_off_sale() {
    let app = spawn_app().await;
    let deal = listed_and_ordered(&app, "Reserved", json!(10)).await;
    let response = withdraw(&app, &deal.seller, &deal.ticket_id()).await;
    assert_conflict(response, "Cannot take a reserved ticket off sale").await;

    paid(&app, &deal.buyer, &deal.order_id()).await;
    let response = withdraw(&app, &deal.seller, &deal.ticket_id()).await;
    assert_error(
        response,
        StatusCode::CONFLICT,
        "Cannot take a sold ticket off sale",
    )
    .await;
    let row = app.ticket_row(uuid(&deal.ticket_id())).await;
    assert_eq!(row.withdrawn_at, None);
    assert!(
        events_of(&app, &deal.ticket_id(), event::kind::TICKET_WITHDRAWN)
            .await
            .is_empty()
    );
    held(&app, &deal.buyer, &deal.ticket_id()).await;
}

#[tokio::test]
async fn a_resale_listing_taken_off_sale_leaves_its_holder_free_to_give_it_away() {
    let app = spawn_app().await;
    let deal = bought(&app).await;
    let ticket = deal.ticket_id();
    let response = sell(&app, &deal.buyer, &ticket, json!(20)).await;
    let listing = id_of(&answered(response, StatusCode::CREATED, "the sell-on").await);

    let response = withdraw(&app, &deal.buyer, &listing).await;
    answered(response, StatusCode::OK, "the withdrawal").await;
    assert!(!for_sale(&app).await.contains(&listing));
    let holding = held(&app, &deal.buyer, &ticket).await;
    assert!(holding.get("listingId").is_none(), "{holding}");
    assert_eq!(holding["forSale"], false, "{holding}");
    assert_eq!(holding["resaleCapCents"], 2500, "still capped: {holding}");

    let friend = app.new_user().await;
    let response = transfer(&app, &deal.buyer, &ticket, &friend.email).await;
    answered(response, StatusCode::OK, "a gift after the withdrawal").await;
    held(&app, &friend, &ticket).await;
}

#[tokio::test]
async fn retries_with_an_idempotency_key_change_nothing_twice() {
    let app = spawn_app().await;
    let deal = bought(&app).await;
    let ticket = deal.ticket_id();
    let (friend, other) = (app.new_user().await, app.new_user().await);
    let give = |email: &str| json!({ "email": email });
    let transfer_path = format!("/api/holdings/{ticket}/transfer");
    let key = format!("give-{}", uuid::Uuid::new_v4());

    // A transfer, retried.
    let first = app
        .send_with_key(
            Method::POST,
            &transfer_path,
            &deal.buyer.token,
            Some(&give(&friend.email)),
            &key,
        )
        .await;
    let first = answered(first, StatusCode::OK, "the transfer").await;
    let retry = app
        .send_with_key(
            Method::POST,
            &transfer_path,
            &deal.buyer.token,
            Some(&give(&friend.email)),
            &key,
        )
        .await;
    let retry = answered(retry, StatusCode::OK, "its retry").await;
    assert_eq!(retry, first, "the same answer");
    assert_eq!(transfer_rows(&app, &ticket).await, 1);
    assert_eq!(transfer_events(&app, &ticket).await.len(), 1);
    held(&app, &friend, &ticket).await;
    // The same key for another receiver.
    let response = app
        .send_with_key(
            Method::POST,
            &transfer_path,
            &deal.buyer.token,
            Some(&give(&other.email)),
            &key,
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, KEY_REUSED).await;
    assert!(holdings(&app, &other).await.is_empty());

    // A sell-on, retried.
    let sell_path = format!("/api/holdings/{ticket}/sell");
    let key = format!("sell-{}", uuid::Uuid::new_v4());
    let first = app
        .send_with_key(
            Method::POST,
            &sell_path,
            &friend.token,
            Some(&json!({"price": 20})),
            &key,
        )
        .await;
    let first = answered(first, StatusCode::CREATED, "the sell-on").await;
    let retry = app
        .send_with_key(
            Method::POST,
            &sell_path,
            &friend.token,
            Some(&json!({"price": "20.00"})),
            &key,
        )
        .await;
    let retry = answered(retry, StatusCode::CREATED, "its retry").await;
    assert_eq!(retry["id"], first["id"], "the same listing");
    assert_eq!(resale_listings(&app, &ticket).await.len(), 1);
    let listing = id_of(&first);
    assert_eq!(
        events_of(&app, &listing, event::kind::TICKET_CREATED)
            .await
            .len(),
        1
    );
    let response = app
        .send_with_key(
            Method::POST,
            &sell_path,
            &friend.token,
            Some(&json!({"price": 21})),
            &key,
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, KEY_REUSED).await;

    // A withdrawal, retried.
    let withdraw_path = format!("/api/tickets/{listing}");
    let key = format!("withdraw-{}", uuid::Uuid::new_v4());
    let first = app
        .send_with_key(Method::DELETE, &withdraw_path, &friend.token, None, &key)
        .await;
    let first = answered(first, StatusCode::OK, "the withdrawal").await;
    let retry = app
        .send_with_key(Method::DELETE, &withdraw_path, &friend.token, None, &key)
        .await;
    let retry = answered(retry, StatusCode::OK, "its retry").await;
    assert_eq!(retry, first, "the same answer");
    assert_eq!(
        events_of(&app, &listing, event::kind::TICKET_WITHDRAWN)
            .await
            .len(),
        1
    );

    // A refusal keeps no key: once the receiver signs up, the same request goes through.
    let newcomer = format!("newcomer-{}@example.com", uuid::Uuid::new_v4().simple());
    let key = format!("give-{}", uuid::Uuid::new_v4());
    let refused = app
        .send_with_key(
            Method::POST,
            &transfer_path,
            &friend.token,
            Some(&give(&newcomer)),
            &key,
        )
        .await;
    assert_invalid(refused, "email", &["No account has this email"]).await;
    let newcomer = app.api().user(&newcomer).await;
    let response = app
        .send_with_key(
            Method::POST,
            &transfer_path,
            &friend.token,
            Some(&give(&newcomer.email)),
            &key,
        )
        .await;
    answered(response, StatusCode::OK, "the same request, now possible").await;
    held(&app, &newcomer, &ticket).await;
}

#[tokio::test]
async fn ten_transfers_of_one_ticket_at_once_give_it_to_one_user() {
    let app = spawn_app().await;
    let deal = bought(&app).await;
    let ticket = deal.ticket_id();
    let mut receivers = Vec::new();
    for _ in 0..10 {
        receivers.push(app.new_user().await);
    }
    let attempts = receivers
        .iter()
        .map(|r| transfer(&app, &deal.buyer, &ticket, &r.email));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::OK, StatusCode::NOT_FOUND, StatusCode::CONFLICT].contains(s)),
        "{statuses:?}"
    );
    let mut holders = 0;
    for receiver in &receivers {
        holders += usize::from(holding_of(&app, receiver, &ticket).await.is_some());
    }
    assert_eq!(holders, 1, "one holder");
    assert!(holdings(&app, &deal.buyer).await.is_empty());
    assert_eq!(transfer_rows(&app, &ticket).await, 1);
    assert_eq!(transfer_events(&app, &ticket).await.len(), 1);
}

#[tokio::test]
async fn a_transfer_racing_a_door_scan_is_never_both_admitted_and_given() {
    let app = spawn_app().await;
    let door = app.door_staff().await;
    let friend = app.new_user().await;
    let mut outcomes = Vec::new();
    for round in 0..10 {
        let deal = bought(&app).await;
        let ticket = deal.ticket_id();
        let code = code_of(&app, &deal.buyer, &ticket).await;
        let (scanned, given) = tokio::join!(
            scan(&app, &door, &code),
            transfer(&app, &deal.buyer, &ticket, &friend.email)
        );
        let (status, answer) = scanned;
        assert_eq!(status, StatusCode::OK, "round {round}: {answer}");
        let result = answer["result"].as_str().unwrap().to_owned();
        let given_status = given.status();
        let given_body = given.text().await.unwrap();
        match (result.as_str(), given_status) {
            ("admitted", StatusCode::CONFLICT) => {
                assert!(
                    given_body.contains(CHECKED_IN),
                    "round {round}: {given_body}"
                );
                let holding = held(&app, &deal.buyer, &ticket).await;
                assert!(holding["checkedInAt"].is_string(), "{holding}");
                assert!(holding_of(&app, &friend, &ticket).await.is_none());
            }
            ("void", StatusCode::OK) => {
                assert!(holding_of(&app, &deal.buyer, &ticket).await.is_none());
                let holding = held(&app, &friend, &ticket).await;
                assert_eq!(holding["checkedInAt"], Value::Null, "{holding}");
            }
            other => panic!("round {round}: scan {answer}, transfer {other:?} {given_body}"),
        }
        outcomes.push(result);
    }
    eprintln!("scan outcomes: {outcomes:?}");
}
