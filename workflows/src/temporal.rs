//! Reaching Temporal: where it is, and a client that waits for a server that is still starting.

use std::time::Duration;

use anyhow::Context;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url, tonic};
use temporalio_common::protos::temporal::api::workflowservice::v1::GetSystemInfoRequest;

/// Where Temporal is and which queue the order workflows use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporalSettings {
    /// `host:port`
    pub address: String,
    pub namespace: String,
    pub task_queue: String,
}

/// How often a connection that keeps failing is reported.
const SAY_AGAIN_AFTER: Duration = Duration::from_secs(5);

/// Connects to Temporal, retrying for up to `patience` (a server that is still starting).
pub async fn connect(settings: &TemporalSettings, patience: Duration) -> anyhow::Result<Client> {
    let url = Url::parse(&format!("http://{}", settings.address))
        .with_context(|| format!("TEMPORAL_ADDRESS {} is not host:port", settings.address))?;
    let started = std::time::Instant::now();
    // Said once, then every few seconds with the count: not a line per retry.
    let mut attempts = 0u32;
    let mut said = None::<std::time::Instant>;
    let connection = loop {
        let options = ConnectionOptions::new(url.clone())
            .identity(format!("ticketing@{}", std::process::id()))
            .connect_timeout(Duration::from_secs(5))
            .build();
        attempts += 1;
        match Connection::connect(options).await {
            Ok(connection) => {
                if said.is_some() {
                    tracing::info!(address = %settings.address, attempts, "Temporal answers");
                }
                break connection;
            }
            Err(e) if started.elapsed() < patience => {
                if said.is_none_or(|at| at.elapsed() >= SAY_AGAIN_AFTER) {
                    tracing::warn!(
                        address = %settings.address,
                        attempts,
                        waited_seconds = started.elapsed().as_secs(),
                        error = %e,
                        "Temporal not reachable yet; trying again every half second"
                    );
                    said = Some(std::time::Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot reach Temporal at {} (TEMPORAL_ADDRESS): {e}",
                    settings.address
                ));
            }
        }
    };
    Client::new(
        connection,
        ClientOptions::new(settings.namespace.clone()).build(),
    )
    .context("creating the Temporal client")
}

/// Whether Temporal answers, for readiness.
pub async fn ping(client: &Client) -> anyhow::Result<()> {
    let mut service = client.connection().workflow_service();
    service
        .get_system_info(tonic::Request::new(GetSystemInfoRequest {}))
        .await
        .map(|_| ())
        .map_err(|status| anyhow::anyhow!("Temporal: {}", status.message()))
}
