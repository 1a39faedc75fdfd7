//! The worker that runs `OrderWorkflow` and its activities.

use std::sync::Arc;

use activities::{GatewaySettings, OrderActivities, PaymentGateway};
use anyhow::Context;
use temporalio_client::Client;
use temporalio_sdk::{Runtime, Worker, WorkerOptions, runtime::WorkflowErrorType};

use crate::{OrderWorkflow, temporal::TemporalSettings};

/// What a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub database_url: String,
    pub temporal: TemporalSettings,
    pub gateway: GatewaySettings,
    /// The currency every price is in.
    pub currency: String,
}

/// A worker for the order workflows, ready to run (drive [`OrderWorker::run_until`] on the task
/// that owns it: the SDK's run future is not `Send`).
pub struct OrderWorker {
    worker: Worker,
    // The runtime must outlive the worker.
    _runtime: Runtime,
}

impl OrderWorker {
    /// A worker charging through `gateway` (usually `settings.gateway.build()`).
    pub async fn build(
        settings: &WorkerSettings,
        client: Client,
        gateway: Arc<dyn PaymentGateway>,
    ) -> anyhow::Result<Self> {
        let db = database::connect(&settings.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
        let runtime = Runtime::from_current_tokio(Default::default())
            .context("starting the Temporal worker runtime")?;
        let options = WorkerOptions::new(settings.temporal.task_queue.clone())
            .register_workflow::<OrderWorkflow>()
            .context("registering OrderWorkflow")?
            .register_activities(OrderActivities::new(db, gateway, settings.currency.clone()))
            .workflow_failure_errors([WorkflowErrorType::Nondeterminism].into())
            .build();
        let worker =
            Worker::new(&runtime, client, options).context("creating the Temporal worker")?;
        Ok(OrderWorker {
            worker,
            _runtime: runtime,
        })
    }

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
