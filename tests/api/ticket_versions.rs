//! Optimistic concurrency at the data layer: two writers that read the same version race, and
//! exactly one of them wins; the loser writes nothing (no lost update, no orphan event).

use entities::{Money, TicketTitle, event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use support::spawn_app;

#[tokio::test]
async fn two_writers_of_the_same_version_race_and_exactly_one_wins() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Concert", json!(10)).await;
    let id = ticket["id"].as_str().unwrap().parse().unwrap();
    let db = &app.db.connection;

    // Both writers read version 0 before either writes.
    let read_a = api::tickets::queries::find(db, id).await.unwrap().unwrap();
    let read_b = read_a.clone();
    let write = |read, title: &str, cents| {
        let title = TicketTitle::parse(title).unwrap();
        api::tickets::writes::update(db, read, title, Money::from_cents(cents))
    };
    let (a, b) = tokio::join!(
        write(&read_a, "Writer A", 1100),
        write(&read_b, "Writer B", 1200)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.is_some() != b.is_some(),
        "exactly one writer wins: {a:?} / {b:?}"
    );
    let winner = a.or(b).unwrap();
    assert_eq!(winner.version, 1);

    let stored = api::tickets::queries::find(db, id).await.unwrap().unwrap();
    assert_eq!(stored, winner, "the database holds the winner's write");

    // A writer that read the old version cannot overwrite the new one afterwards either.
    let late = write(&read_a, "Too late", 1300).await.unwrap();
    assert!(late.is_none());

    // One event per change that happened: created, then the winner's update.
    let events = event::Entity::find()
        .filter(event::Column::AggregateId.eq(id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(events, 2);
}

#[tokio::test]
async fn every_change_appends_its_event_with_the_new_version() {
    let app = spawn_app().await;
    let seller = app.new_user().await;
    let ticket = app.create_ticket(&seller, "Concert", json!("19.99")).await;
    let id = ticket["id"].as_str().unwrap();
    let response = app
        .put(
            &format!("/api/tickets/{id}"),
            Some(&seller.token),
            &json!({"title": "Concert (row A)", "price": 25}),
        )
        .await;
    assert_eq!(response.status(), 200);

    let events = event::Entity::find()
        .filter(event::Column::AggregateId.eq(id.parse::<uuid::Uuid>().unwrap()))
        .all(&app.db.connection)
        .await
        .unwrap();
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.version, e.payload["priceCents"].as_i64()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ticket:created", 0, Some(1999)),
            ("ticket:updated", 1, Some(2500)),
        ]
    );
    assert!(events.iter().all(|e| e.published_at.is_none()));
}
