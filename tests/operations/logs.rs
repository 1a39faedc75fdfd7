//! The logs and metrics of real processes: `ticketing serve` and `ticketing worker` with
//! `LOG_FORMAT=json`, the worker serving `/metrics` on `METRICS_ADDR`. A request's id (sent or
//! made) comes back in its answer and is on its log line; every line about an order carries
//! `order_id`, in the API and in the worker's activities.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use devtools::process::{ChildProcess, Launch, Output};
use serde_json::{Value, json};
use support::{JWT_KEY, TICKET_CODE_KEY, TestDatabase, http::Api, ports::free_port};

use crate::{scrape, value};

/// `ticketing <command>` with JSON logs in `log`, killed on drop.
fn ticketing(command: &str, log: &Path, env: &[(&str, String)]) -> ChildProcess {
    let name = format!("`ticketing {command}`");
    let launch = Launch::new(name, support::binary::ticketing())
        .args([command])
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("NATS_URL")
        .envs(env.iter().cloned())
        .stderr(Output::NewLog(log.to_owned()));
    ChildProcess::start(launch).expect("ticketing starts")
}

/// The JSON lines of a log file.
fn lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// A field of a JSON log line, from the event or any span it is in.
fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line.get(name).or_else(|| {
        line["spans"]
            .as_array()?
            .iter()
            .rev()
            .find_map(|span| span.get(name))
    })
}

/// Waits until a line of `log` satisfies `test`; that line.
async fn wait_for_line(log: &Path, what: &str, test: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        if let Some(line) = lines(log).into_iter().find(&test) {
            return line;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no line {what} in {}:\n{}",
            log.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ticketing-ops-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn request_ids_and_order_ids_are_on_the_log_lines_and_the_worker_serves_its_metrics() {
    let db = TestDatabase::create().await;
    let dir = scratch_dir();
    let (http, metrics) = (free_port(), free_port());
    let queue = format!("ops-{}", uuid::Uuid::new_v4().simple());
    let common = [
        ("DATABASE_URL", db.url.clone()),
        (
            "TEMPORAL_ADDRESS",
            support::temporal::shared_address().to_owned(),
        ),
        ("TEMPORAL_TASK_QUEUE", queue),
    ];
    let serve_log = dir.join("serve.log");
    let worker_log = dir.join("worker.log");
    let mut serve_env = common.to_vec();
    serve_env.extend([
        ("HTTP_ADDR", format!("127.0.0.1:{http}")),
        ("JWT_KEY", JWT_KEY.to_owned()),
        ("TICKET_CODE_KEY", TICKET_CODE_KEY.to_owned()),
        ("COOKIE_SECURE", "false".to_owned()),
    ]);
    let _serve = ticketing("serve", &serve_log, &serve_env);
    let mut worker_env = common.to_vec();
    worker_env.extend([
        ("METRICS_ADDR", format!("127.0.0.1:{metrics}")),
        ("RECONCILE_EVERY_SECONDS", "0".to_owned()),
    ]);
    let _worker = ticketing("worker", &worker_log, &worker_env);
    let base = format!("http://127.0.0.1:{http}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve never got ready:\n{}",
            std::fs::read_to_string(&serve_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A request id sent comes back, and is on the request's line; one not sent is made.
    let api = Api::new(&base);
    let seller = api.new_user().await;
    let buyer = api.new_user().await;
    let ticket = api.ticket(&seller.token, "Logged", json!(12)).await;
    let sent = format!("trace-{}", uuid::Uuid::new_v4().simple());
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let response = client
        .post(format!("{base}/api/orders"))
        .bearer_auth(&buyer.token)
        .header("x-request-id", &sent)
        .header("traceparent", &traceparent)
        .json(&json!({"ticketId": ticket["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], sent.as_str());
    let order: Value = response.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let made = client.get(format!("{base}/healthz")).send().await.unwrap();
    let made = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(made.len() >= 16, "a request id is made: {made}");

    let line = wait_for_line(&serve_log, "for the order's request", |line| {
        line["message"] == "request" && field(line, "request_id") == Some(&json!(sent))
    })
    .await;
    assert_eq!(field(&line, "order_id"), Some(&json!(order_id)), "{line}");
    assert_eq!(field(&line, "trace_id"), Some(&json!(trace_id)), "{line}");
    assert_eq!(line["route"], "/api/orders", "{line}");
    assert_eq!(line["status"], 201, "{line}");
    // The trace context went on to the order's workflow: its start carries it.
    let temporal = workflows::temporal::connect(
        &workflows::TemporalSettings {
            address: support::temporal::shared_address().to_owned(),
            namespace: "default".into(),
            task_queue: String::new(),
            access: Default::default(),
        },
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    let events = temporal
        .get_workflow_handle::<workflows::OrderWorkflow>(format!("order-{order_id}"))
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .unwrap();
    let started = events
        .iter()
        .find_map(|event| match &event.attributes {
            Some(temporalio_common::protos::temporal::api::history::v1::history_event::Attributes::WorkflowExecutionStartedEventAttributes(started)) => Some(started.clone()),
            _ => None,
        })
        .expect("a start event");
    let header = started.header.expect("a header").fields["traceparent"].clone();
    assert_eq!(
        serde_json::from_slice::<String>(&header.data).unwrap(),
        traceparent
    );

    // The payment: its request line and the worker's activity lines carry the order.
    let paid = api.pay(&buyer.token, &order_id, "tok_visa").await;
    assert_eq!(paid.status(), 201);
    wait_for_line(&serve_log, "for the payment", |line| {
        line["message"] == "request"
            && line["route"] == "/api/payments"
            && field(line, "order_id") == Some(&json!(order_id))
    })
    .await;
    for message in [
        "order reserved its ticket",
        "card charged through the gateway",
        "order paid and complete",
    ] {
        let line = wait_for_line(&worker_log, message, |line| line["message"] == message).await;
        assert_eq!(field(&line, "order_id"), Some(&json!(order_id)), "{line}");
        let workflow = field(&line, "workflow_id").and_then(Value::as_str);
        assert_eq!(
            workflow,
            Some(format!("order-{order_id}").as_str()),
            "{line}"
        );
    }

    // The worker's /metrics: its orders, and the Temporal SDK's worker metrics.
    let text = scrape(&format!("http://127.0.0.1:{metrics}/metrics")).await;
    assert_eq!(
        value(&text, "ticketing_orders_started_total"),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"ticketing_orders_finished_total{outcome="complete"}"#
        ),
        1.0
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("temporal_workflow_task_") || l.starts_with("temporal_worker_")),
        "no temporal_ worker metrics:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
