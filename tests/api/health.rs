//! Liveness and readiness.

use reqwest::StatusCode;

use support::spawn_app;

#[tokio::test]
async fn healthz_is_200() {
    let app = spawn_app().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_200_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let response = app.get("/readyz", None).await;
    assert_eq!(response.status(), StatusCode::OK);
}
