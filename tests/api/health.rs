//! Liveness and readiness.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use support::{spawn_app, spawn_app_configured};

#[tokio::test]
async fn healthz_is_200() {
    let app = spawn_app().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_200_once_the_database_temporal_and_a_worker_answer() {
    let app = spawn_app().await;
    // The worker's first poll may take a moment to reach Temporal.
    let started = Instant::now();
    let body: Value = loop {
        let response = app.get("/readyz", None).await;
        if response.status() == StatusCode::OK {
            break response.json().await.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "not ready after 20 s: {}",
            response.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["status"], "ready");
    for dependency in ["database", "temporal", "orderWorkers"] {
        assert_eq!(body["dependencies"][dependency], "ok", "{body}");
    }
}

#[tokio::test]
async fn readyz_names_a_missing_worker() {
    let app = spawn_app_configured(|config| config.in_process_worker = false).await;
    let response = app.get("/readyz", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["dependencies"]["database"], "ok");
    assert_eq!(body["dependencies"]["temporal"], "ok");
    let workers = body["dependencies"]["orderWorkers"].as_str().unwrap();
    assert!(
        workers.starts_with("no worker polls the task queue test-"),
        "{body}"
    );
    // The error's message names what is missing too.
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Not ready: order workers: no worker polls the task queue test-"),
        "{body}"
    );
}
