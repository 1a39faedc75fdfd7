//! Tickets change hands: the buyer holds what they paid for, with a code to show at the door;
//! the seller's code is void from then on; door staff check a code in once, however many doors
//! scan it at once; forged and void codes admit no one. On SQLite, and on PostgreSQL with
//! `TEST_DATABASE_URL`.

use entities::event;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::{TestApp, TestUser, assert_error, listed_and_ordered, spawn_app, uuid};

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

/// The code of the ticket its buyer holds.
async fn buyers_code(app: &TestApp, deal: &support::Deal) -> String {
    let held = holding_of(app, &deal.buyer, &deal.ticket_id())
        .await
        .expect("the buyer holds the ticket");
    held["code"].as_str().expect("a code").to_owned()
}

/// `POST /api/checkins {code}` as `door`: the status and body.
async fn scan(app: &TestApp, door: &TestUser, code: &str) -> (StatusCode, Value) {
    let response = app
        .post("/api/checkins", Some(&door.token), &json!({ "code": code }))
        .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A seller lists a ticket at 25.00 and a buyer buys it: the seller's code before the sale,
/// and the deal's ticket id.
async fn bought(app: &TestApp) -> (support::Deal, String) {
    let deal = listed_and_ordered(app, "Opera", json!(25)).await;
    let listed = holding_of(app, &deal.seller, &deal.ticket_id())
        .await
        .expect("the lister holds a ticket they listed");
    assert_eq!(listed["paidCents"], Value::Null, "{listed}");
    assert_eq!(listed["forSale"], false, "reserved by the order: {listed}");
    let response = app.pay(&deal.buyer, &deal.order_id(), "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let seller_code = listed["code"].as_str().unwrap().to_owned();
    (deal, seller_code)
}

#[tokio::test]
async fn the_buyer_holds_what_they_paid_for_and_the_sellers_code_is_void() {
    let app = spawn_app().await;
    let (deal, seller_code) = bought(&app).await;
    let held = holding_of(&app, &deal.buyer, &deal.ticket_id())
        .await
        .expect("the buyer holds the ticket once the order is complete");
    assert_eq!(held["title"], "Opera");
    assert_eq!(held["paidCents"], 2500);
    assert_eq!(held["currency"], "usd");
    assert_eq!(held["checkedInAt"], Value::Null);
    assert_eq!(held["forSale"], false);
    let code = held["code"].as_str().unwrap();
    assert_ne!(code, seller_code, "a change of hands issues a new code");
    assert!(
        holding_of(&app, &deal.seller, &deal.ticket_id())
            .await
            .is_none(),
        "the seller holds it no more"
    );

    let door = app.door_staff().await;
    let (status, answer) = scan(&app, &door, &seller_code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["result"], "void", "{answer}");
    assert_eq!(answer["ticketId"], deal.ticket_id().as_str());

    let (_, answer) = scan(&app, &door, code).await;
    assert_eq!(answer["result"], "admitted", "{answer}");
    assert_eq!(answer["title"], "Opera");
    let held = holding_of(&app, &deal.buyer, &deal.ticket_id())
        .await
        .unwrap();
    assert_eq!(held["checkedInAt"], answer["checkedInAt"], "{held}");

    // Each change of hands and each check-in is one event in the outbox.
    let events = event::Entity::find()
        .filter(event::Column::AggregateId.eq(uuid(&deal.ticket_id())))
        .all(&app.db.connection)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == event::kind::HOLDING_CHANGED)
            .count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == event::kind::CHECKIN_ADMITTED)
            .count(),
        1,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn twenty_doors_scanning_one_code_at_once_admit_it_once() {
    let app = spawn_app().await;
    let (deal, _) = bought(&app).await;
    let code = buyers_code(&app, &deal).await;
    let door = app.door_staff().await;
    let scans = (0..20).map(|_| scan(&app, &door, &code));
    let answers = futures::future::join_all(scans).await;
    let results: Vec<&str> = answers
        .iter()
        .map(|(status, answer)| {
            assert_eq!(*status, StatusCode::OK, "{answer}");
            answer["result"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        results.iter().filter(|r| **r == "admitted").count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == "alreadyUsed").count(),
        19,
        "{results:?}"
    );
    // Every later answer says when the first scan was.
    let admitted_at = &answers
        .iter()
        .find(|(_, a)| a["result"] == "admitted")
        .unwrap()
        .1["checkedInAt"];
    for (_, answer) in &answers {
        assert_eq!(&answer["checkedInAt"], admitted_at, "{answer}");
    }
    let (_, again) = scan(&app, &door, &code).await;
    assert_eq!(again["result"], "alreadyUsed");
}

#[tokio::test]
async fn forged_and_foreign_codes_are_unknown_and_only_door_staff_may_scan() {
    let app = spawn_app().await;
    let (deal, _) = bought(&app).await;
    let code = buyers_code(&app, &deal).await;
    let door = app.door_staff().await;
    // Another generation with this MAC, a changed MAC digit, junk.
    let (head, mac) = code.rsplit_once('-').unwrap();
    let forged_generation = format!("{}-9-{mac}", &head[..32]);
    let mut changed = code.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'0' { b'1' } else { b'0' };
    for forged in [
        forged_generation,
        String::from_utf8(changed).unwrap(),
        "not a code".to_owned(),
        String::new(),
    ] {
        let (status, answer) = scan(&app, &door, &forged).await;
        assert_eq!(status, StatusCode::OK, "{forged:?}");
        assert_eq!(answer, json!({ "result": "unknown" }), "{forged:?}");
    }

    // The buyer cannot check their own ticket in; nor can anyone signed out.
    let response = app
        .post(
            "/api/checkins",
            Some(&deal.buyer.token),
            &json!({ "code": code }),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, api::checkins::DOOR_ONLY).await;
    let response = app
        .post("/api/checkins", None, &json!({ "code": code }))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, answer) = scan(&app, &door, &code).await;
    assert_eq!(answer["result"], "admitted", "nothing above used it up");

    let response = app.get("/api/holdings", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_scan_retried_with_its_key_is_admitted_again_and_without_it_already_used() {
    let app = spawn_app().await;
    let (deal, _) = bought(&app).await;
    let code = buyers_code(&app, &deal).await;
    let door = app.door_staff().await;
    let scan_with_key = |key: &'static str| {
        let (app, door, code) = (&app, &door, code.clone());
        async move {
            let response = app
                .send_with_key(
                    reqwest::Method::POST,
                    "/api/checkins",
                    &door.token,
                    Some(&json!({ "code": code })),
                    key,
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let first = scan_with_key("scan-1").await;
    assert_eq!(first["result"], "admitted", "{first}");
    // The door's reply was lost and it scans again with the same key: the same answer.
    let again = scan_with_key("scan-1").await;
    assert_eq!(again, first);
    // A new scan (another key, or none) is told the ticket was used, and when.
    let other = scan_with_key("scan-2").await;
    assert_eq!(other["result"], "alreadyUsed", "{other}");
    assert_eq!(other["checkedInAt"], first["checkedInAt"]);
    let (_, bare) = scan(&app, &door, &code).await;
    assert_eq!(bare["result"], "alreadyUsed", "{bare}");
    let admissions = event::Entity::find()
        .filter(event::Column::AggregateId.eq(uuid(&deal.ticket_id())))
        .filter(event::Column::Kind.eq(event::kind::CHECKIN_ADMITTED))
        .all(&app.db.connection)
        .await
        .unwrap();
    assert_eq!(admissions.len(), 1);
}

#[tokio::test]
async fn a_ticket_listed_for_sale_is_not_checked_in_until_taken_off_sale() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Listed night", json!(30)).await;
    let id = ticket["id"].as_str().unwrap();
    let listed = holding_of(&app, &seller, id).await.unwrap();
    let code = listed["code"].as_str().unwrap().to_owned();
    let door = app.door_staff().await;
    // Its holder offers it for sale: a buyer could still buy it, so it is not used up at the door.
    let (_, answer) = scan(&app, &door, &code).await;
    assert_eq!(answer["result"], "listed", "{answer}");
    assert_eq!(answer["checkedInAt"], Value::Null, "{answer}");
    // Taken off sale, it is admitted; and then it cannot be sold on.
    let response = app
        .delete(&format!("/api/tickets/{id}"), Some(&seller.token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, answer) = scan(&app, &door, &code).await;
    assert_eq!(answer["result"], "admitted", "{answer}");
    let response = app
        .post(
            &format!("/api/holdings/{id}/sell"),
            Some(&seller.token),
            &json!({ "price": 30 }),
        )
        .await;
    assert_error(
        response,
        StatusCode::CONFLICT,
        api::holdings::writes::CHECKED_IN,
    )
    .await;
}
