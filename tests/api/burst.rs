//! A burst of orders at once over many tickets: whatever each buyer was told is the truth. Every
//! reserved ticket belongs to an order whose request got 201; every other request got a
//! documented refusal (400 taken, 503 shed or not in time) and left nothing behind, now or later.

use std::{collections::HashSet, time::Duration};

use entities::order;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use support::{id_of, spawn_app};

/// Tickets and buyers of the burst (every buyer orders every ticket at once); `BURST_TICKETS` and
/// `BURST_BUYERS` make it bigger by hand (e.g. 50 and 50: 2,500 at once).
fn size(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_orders_leaves_no_order_its_buyer_was_told_failed() {
    let app = spawn_app().await;
    let api = app.api();
    let seller = api.new_user().await;
    let mut tickets = Vec::new();
    let (ticket_count, buyer_count) = (size("BURST_TICKETS", 20), size("BURST_BUYERS", 15));
    for i in 0..ticket_count {
        tickets.push(id_of(
            &api.ticket(&seller.token, &format!("Burst {i}"), json!(20))
                .await,
        ));
    }
    let mut buyers = Vec::new();
    for _ in 0..buyer_count {
        buyers.push(api.new_user().await);
    }

    // Every buyer orders every ticket, all at once.
    let requests = buyers
        .iter()
        .flat_map(|buyer| tickets.iter().map(move |ticket| (buyer, ticket)));
    let started = std::time::Instant::now();
    let timed: Vec<(StatusCode, Value, Duration)> =
        futures::future::join_all(requests.map(|(buyer, ticket)| {
            let api = api.clone();
            async move {
                let response = api.order(&buyer.token, ticket).await;
                let status = response.status();
                let took = started.elapsed();
                (status, response.json().await.unwrap_or(Value::Null), took)
            }
        }))
        .await;
    let first_503 = timed
        .iter()
        .filter(|a| a.0 == StatusCode::SERVICE_UNAVAILABLE)
        .map(|a| a.2)
        .min();
    let last = timed.iter().map(|a| a.2).max().unwrap_or_default();
    let answers: Vec<(StatusCode, Value)> = timed.into_iter().map(|(s, b, _)| (s, b)).collect();

    let told_created: HashSet<String> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, order)| id_of(order))
        .collect();
    for (status, body) in &answers {
        assert!(
            [
                StatusCode::CREATED,
                StatusCode::BAD_REQUEST,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(status),
            "an undocumented answer: {status} {body}"
        );
    }
    assert!(!told_created.is_empty(), "nobody got a ticket");
    eprintln!(
        "{} orders at once: {} created, {} refused as taken, {} shed or not in time; first 503 after {first_503:?}, last answer after {last:?}",
        answers.len(),
        told_created.len(),
        answers
            .iter()
            .filter(|a| a.0 == StatusCode::BAD_REQUEST)
            .count(),
        answers
            .iter()
            .filter(|a| a.0 == StatusCode::SERVICE_UNAVAILABLE)
            .count()
    );

    // Now and once any late workflow could have run: the orders are exactly those told 201.
    for _ in 0..2 {
        let orders = order::Entity::find().all(&app.db.connection).await.unwrap();
        let made: HashSet<String> = orders.iter().map(|o| o.id.to_string()).collect();
        assert_eq!(
            made, told_created,
            "orders nobody was told about, or told of and missing"
        );
        let held: HashSet<_> = orders.iter().map(|o| o.ticket_id).collect();
        assert_eq!(held.len(), orders.len(), "one order per ticket at most");
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let client = app.temporal().await;
    let disagreements = workflows::check::find_disagreements(&app.db.connection, Some(&client))
        .await
        .unwrap();
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
