//! What an operator sees: `/metrics` after orders of every ending (this file), the logs of real
//! `serve` and `worker` processes ([`logs`]), what the Temporal UI shows of each order
//! ([`temporal_ui`]), and what `ticketing users` grants ([`users`]).

mod logs;
mod temporal_ui;
mod users;

use std::time::Duration;

use serde_json::json;
use support::{TestApp, listed_and_ordered, spawn_app_with};

/// The Prometheus text of `/metrics`.
pub async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.expect("/metrics answers");
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    response.text().await.unwrap()
}

/// The value of the series `series` (`name{label="value",...}` exactly as written) in `text`; 0
/// when it is not there.
pub fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// Waits until the order's status is `status` (30 s at most).
async fn wait_for_status(app: &TestApp, token: &str, order_id: &str, status: &str) {
    let started = tokio::time::Instant::now();
    loop {
        let order: serde_json::Value = app
            .get(&format!("/api/orders/{order_id}"), Some(token))
            .await
            .json()
            .await
            .unwrap();
        if order["status"] == status {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "order {order_id} is {}, not {status}",
            order["status"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn metrics_count_the_orders_of_each_ending_by_route_template() {
    let app = spawn_app_with(|s| s.order_expiration_seconds = 4).await;
    let metrics_url = app.url("/metrics");
    let before = scrape(&metrics_url).await;

    let expiring = listed_and_ordered(&app, "Left to expire", json!(3)).await;
    let paid = listed_and_ordered(&app, "Paid", json!(19.99)).await;
    let pay = app.pay(&paid.buyer, &paid.order_id(), "tok_visa").await;
    assert_eq!(pay.status(), 201);
    let declined = listed_and_ordered(&app, "Declined", json!(7)).await;
    let pay = app
        .pay(&declined.buyer, &declined.order_id(), "tok_chargeDeclined")
        .await;
    assert_eq!(pay.status(), 402);
    let cancelled = listed_and_ordered(&app, "Cancelled", json!(5)).await;
    let gone = app
        .api()
        .cancel(&cancelled.buyer.token, &cancelled.order_id())
        .await;
    assert_eq!(gone.status(), 204);
    wait_for_status(
        &app,
        &expiring.buyer.token,
        &expiring.order_id(),
        "cancelled",
    )
    .await;
    // The workflows write their last steps a moment after the HTTP answers.
    let started = tokio::time::Instant::now();
    let after = loop {
        let after = scrape(&metrics_url).await;
        let finished: f64 = ["complete", "expired", "declined", "cancelled"]
            .iter()
            .map(|o| {
                value(
                    &after,
                    &format!("ticketing_orders_finished_total{{outcome=\"{o}\"}}"),
                )
            })
            .sum();
        if finished >= 4.0 || started.elapsed() > Duration::from_secs(20) {
            break after;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let moved = |series: &str| value(&after, series) - value(&before, series);

    assert_eq!(moved("ticketing_orders_started_total"), 4.0, "{after}");
    for outcome in ["complete", "expired", "declined", "cancelled"] {
        let series = format!("ticketing_orders_finished_total{{outcome=\"{outcome}\"}}");
        assert_eq!(moved(&series), 1.0, "{series} in\n{after}");
    }
    for outcome in ["operator_cancelled", "rejected"] {
        let series = format!("ticketing_orders_finished_total{{outcome=\"{outcome}\"}}");
        assert_eq!(moved(&series), 0.0, "{series}");
        assert!(after.contains(&series), "every outcome is listed: {series}");
    }
    assert_eq!(moved("ticketing_reservation_seconds_count"), 4.0);
    assert_eq!(moved("ticketing_payment_seconds_count"), 2.0);
    assert_eq!(
        moved(r#"ticketing_gateway_charges_total{result="charged"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"ticketing_gateway_charges_total{result="declined"}"#),
        1.0
    );
    // HTTP requests by route template: four orders made, one fetched by id (twice or more).
    let created = r#"http_requests_total{method="POST",route="/api/orders",status="201"}"#;
    assert_eq!(moved(created), 4.0, "{after}");
    let shown = format!(
        "http_requests_total{{method=\"GET\",route=\"{}\",status=\"200\"}}",
        order_route(&after)
    );
    assert!(moved(&shown) >= 1.0, "{shown} in\n{after}");
    assert!(
        moved(r#"http_request_duration_seconds_count{method="POST",route="/api/payments"}"#) >= 2.0
    );
    // Templates, never raw paths: no id in any route label.
    for line in after.lines().filter(|l| l.contains("route=\"")) {
        let route = line
            .split("route=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            !route.contains(&paid.order_id()) && !route.contains(&paid.ticket_id()),
            "a raw path as a route: {line}"
        );
    }
    // The worker in this process adds the Temporal SDK's own metrics.
    assert!(
        after.lines().any(|l| l.starts_with("temporal_")),
        "no temporal_ metrics in\n{after}"
    );
    // The Grafana dashboard asks only for metrics that exist (the relay's are on a process that
    // relays: the events tests scrape them from `ticketing worker` with RELAY_EVENTS).
    let dashboard = include_str!("../../deploy/grafana/dashboards/ticketing.json");
    let names = metric_names(dashboard);
    for name in names.iter().filter(|n| !n.starts_with("ticketing_relay_")) {
        assert!(
            after.lines().any(|l| l.starts_with(name.as_str())),
            "the dashboard asks for {name}, which /metrics does not have"
        );
    }
}

/// The metric names a dashboard's queries use.
fn metric_names(dashboard: &str) -> std::collections::BTreeSet<String> {
    let document: serde_json::Value = serde_json::from_str(dashboard).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for panel in document["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if ["http_", "ticketing_", "temporal_"]
                    .iter()
                    .any(|prefix| word.starts_with(prefix))
                {
                    names.insert(word.to_owned());
                }
            }
        }
    }
    assert!(names.len() > 5, "{names:?}");
    names
}

/// The route template of `GET /api/orders/<id>` as the metrics show it.
fn order_route(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.split("route=\"").nth(1))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .find(|route| route.starts_with("/api/orders/") && !route.ends_with("/workflow"))
        .expect("a route for one order")
}
