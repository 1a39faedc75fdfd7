//! A payment sent at the instant of expiry, many times over: every order ends either complete with
//! exactly one charge or cancelled with none, and its ticket sold or free accordingly.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{
    order::{self, CancelReason, Status},
    payment, ticket,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use support::spawn_app_with;

use crate::orders::{listed_and_ordered, pay, uuid};

/// Polls the order until it is complete or cancelled (30 s at most).
async fn settled(db: &sea_orm::DatabaseConnection, id: uuid::Uuid) -> order::Model {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = order::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        if !row.status.is_open() {
            return row;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "order {id} never settled: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many orders race their expiry.
const RACES: usize = 12;

#[tokio::test]
async fn payments_racing_expiry_end_complete_and_charged_once_or_cancelled_and_free() {
    let app = spawn_app_with(|c| c.order_expiration_seconds = 2).await;
    let mut deals = Vec::new();
    for n in 0..RACES {
        deals.push(listed_and_ordered(&app, &format!("Race {n}"), json!(10 + n)).await);
    }

    // Each payment leaves at its order's expiry, give or take up to 120 ms.
    let payments = deals.iter().enumerate().map(|(n, deal)| {
        let app = &app;
        async move {
            let expires_at: DateTime<Utc> =
                deal.order["expiresAt"].as_str().unwrap().parse().unwrap();
            let offset_ms = (n as i64 % 7 - 3) * 40;
            let at = expires_at + chrono::Duration::milliseconds(offset_ms);
            if let Ok(wait) = (at - Utc::now()).to_std() {
                tokio::time::sleep(wait).await;
            }
            pay(app, &deal.buyer, &deal.order_id(), "tok_visa")
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(payments).await;
    for status in &statuses {
        assert!(
            status.as_u16() == 201 || status.as_u16() == 400,
            "a payment at expiry answers 201 or 400, not {status}"
        );
    }

    let charges = app.sandbox.charges();
    let (mut paid, mut expired) = (0, 0);
    for (deal, status) in deals.iter().zip(&statuses) {
        let order_id = deal.order_id();
        let row = settled(&app.db.connection, uuid(&order_id)).await;
        let settled = row.status;
        let payments = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(uuid(&order_id)))
            .count(&app.db.connection)
            .await
            .unwrap();
        let charged = charges
            .iter()
            .filter(|(key, _, _)| key.starts_with(&order_id))
            .count();
        let held_by = ticket::Entity::find_by_id(uuid(&deal.ticket_id()))
            .one(&app.db.connection)
            .await
            .unwrap()
            .unwrap()
            .order_id;
        match settled {
            Status::Complete => {
                paid += 1;
                assert_eq!(
                    status.as_u16(),
                    201,
                    "a completed order's payment answered 201"
                );
                assert_eq!(
                    (payments, charged),
                    (1, 1),
                    "{order_id}: one payment, one charge"
                );
                assert_eq!(held_by, Some(row.id), "{order_id}: the ticket is sold");
            }
            _ => {
                expired += 1;
                assert_eq!(
                    status.as_u16(),
                    400,
                    "a cancelled order's payment was refused"
                );
                assert_eq!((payments, charged), (0, 0), "{order_id}: nothing charged");
                assert_eq!(row.cancel_reason, Some(CancelReason::Expired));
                assert_eq!(held_by, None, "{order_id}: the ticket is free");
            }
        }
    }
    assert_eq!(paid + expired, RACES);
    eprintln!("{paid} payments won, {expired} expiries won");
}
