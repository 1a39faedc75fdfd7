//! Temporal: the client the API uses, the search attributes every server must have, and the
//! worker that runs `OrderWorkflow` and its activities.

use std::{collections::HashMap, sync::Arc, time::Duration};

use activities::{
    OrderActivities, PaymentGateway,
    gateway::{SandboxGateway, StripeGateway},
};
use anyhow::Context;
use temporalio_client::{
    Client, ClientOptions, Connection, ConnectionOptions, Url,
    tonic::{self, Code},
};
use temporalio_common::protos::temporal::api::{
    enums::v1::IndexedValueType,
    operatorservice::v1::{AddSearchAttributesRequest, ListSearchAttributesRequest},
    workflowservice::v1::GetSystemInfoRequest,
};
use temporalio_sdk::{Runtime, Worker, WorkerOptions, runtime::WorkflowErrorType};
use workflows::{OrderWorkflow, SEARCH_ATTRIBUTES};

use crate::{
    config::{GatewayConfig, TemporalConfig, WorkerConfig},
    database,
};

/// Connects to Temporal, retrying for up to `patience` (a server that is still starting).
pub async fn connect(config: &TemporalConfig, patience: Duration) -> anyhow::Result<Client> {
    let url = Url::parse(&format!("http://{}", config.address))
        .with_context(|| format!("TEMPORAL_ADDRESS {} is not host:port", config.address))?;
    let started = std::time::Instant::now();
    let connection = loop {
        let options = ConnectionOptions::new(url.clone())
            .identity(format!("ticketing@{}", std::process::id()))
            .connect_timeout(Duration::from_secs(5))
            .build();
        match Connection::connect(options).await {
            Ok(connection) => break connection,
            Err(e) if started.elapsed() < patience => {
                tracing::warn!(address = %config.address, error = %e, "Temporal not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot reach Temporal at {} (TEMPORAL_ADDRESS): {e}",
                    config.address
                ));
            }
        }
    };
    Client::new(
        connection,
        ClientOptions::new(config.namespace.clone()).build(),
    )
    .context("creating the Temporal client")
}

/// Registers the search attributes the order workflow sets (`OrderStatus`, `TicketId`,
/// `BuyerId`, all Keyword) where they are missing. Idempotent, so every start-up can call it.
pub async fn ensure_search_attributes(client: &Client) -> anyhow::Result<()> {
    let namespace = client.options().namespace.clone();
    let mut operator = client.connection().operator_service();
    // Servers that cannot list (the time-skipping test server) are asked to add all of them.
    let listed = match operator
        .list_search_attributes(tonic::Request::new(ListSearchAttributesRequest {
            namespace: namespace.clone(),
        }))
        .await
    {
        Ok(listed) => listed.into_inner().custom_attributes,
        Err(status) if status.code() == Code::Unimplemented => HashMap::new(),
        Err(status) => {
            return Err(anyhow::anyhow!(
                "cannot list Temporal search attributes: {}",
                status.message()
            ));
        }
    };
    let missing: HashMap<String, i32> = SEARCH_ATTRIBUTES
        .iter()
        .filter(|name| !listed.contains_key(**name))
        .map(|name| (name.to_string(), IndexedValueType::Keyword as i32))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    tracing::info!(attributes = ?missing.keys().collect::<Vec<_>>(), "registering Temporal search attributes");
    match operator
        .add_search_attributes(tonic::Request::new(AddSearchAttributesRequest {
            search_attributes: missing,
            namespace,
        }))
        .await
    {
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        Err(status) => Err(anyhow::anyhow!(
            "cannot register the search attributes {SEARCH_ATTRIBUTES:?}: {status}"
        )),
    }
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

/// The payment gateway a configuration asks for.
pub fn gateway(config: &GatewayConfig) -> Arc<dyn PaymentGateway> {
    match config {
        GatewayConfig::Sandbox => Arc::new(SandboxGateway::new()),
        GatewayConfig::Stripe {
            secret_key,
            api_base,
        } => Arc::new(StripeGateway::new(secret_key.clone(), api_base.clone())),
    }
}

/// A worker for the order workflows, ready to run (drive [`Worker::run`] on the task that owns
/// it: its future is not `Send`).
pub struct OrderWorker {
    pub worker: Worker,
    // The runtime must outlive the worker.
    _runtime: Runtime,
}

impl OrderWorker {
    pub async fn build(
        config: &WorkerConfig,
        client: Client,
        gateway: Arc<dyn PaymentGateway>,
    ) -> anyhow::Result<Self> {
        let db = database::connect(&config.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
        let runtime = Runtime::from_current_tokio(Default::default())
            .context("starting the Temporal worker runtime")?;
        let options = WorkerOptions::new(config.temporal.task_queue.clone())
            .register_workflow::<OrderWorkflow>()
            .context("registering OrderWorkflow")?
            .register_activities(OrderActivities::new(db, gateway, config.currency.clone()))
            .workflow_failure_errors([WorkflowErrorType::Nondeterminism].into())
            .build();
        let worker =
            Worker::new(&runtime, client, options).context("creating the Temporal worker")?;
        Ok(OrderWorker {
            worker,
            _runtime: runtime,
        })
    }
}

impl OrderWorker {
    /// Runs until `shutdown` completes, then finishes the tasks in flight. Drive it on the task
    /// that owns it (not through `tokio::spawn`).
    pub async fn run_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let stop = self.worker.shutdown_handle();
        let mut run = std::pin::pin!(self.worker.run());
        tokio::select! {
            _ = shutdown => {
                stop();
                run.await.context("stopping the Temporal worker")?;
                Ok(())
            }
            ran = &mut run => {
                ran.context("the Temporal worker stopped")?;
                anyhow::bail!("the Temporal worker stopped unexpectedly")
            }
        }
    }
}
