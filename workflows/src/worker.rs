//! The worker that runs `OrderWorkflow`, the reconciler's `ReconcileWorkflow`, and their
//! activities.

use std::sync::Arc;

use activities::{GatewaySettings, OrderActivities, PaymentGateway};
use anyhow::Context;
use database::workers;
use temporalio_client::Client;
use temporalio_common::telemetry::TelemetryOptions;
use temporalio_sdk::{
    Runtime, Worker, WorkerOptions,
    runtime::{AutoscalingOptions, PollerBehavior, RuntimeOptions, WorkflowErrorType},
};

use crate::{
    order::OrderWorkflow,
    reconciler::{self, ReconcileActivities, ReconcileWorkflow},
    temporal::TemporalSettings,
};

/// The long polls one worker keeps open for workflow tasks, at least, at first and at most: they
/// scale with the server's feedback. A namespace allows so many concurrent long polls in all
/// (`frontend.namespaceCount`, 1,200 by default), shared with every API process's update polls
/// (at most `MAX_RESERVATIONS_IN_FLIGHT` of which are reservations): left to itself the SDK may
/// open up to 100 polls per kind per worker, which a handful of processes under a burst turn into
/// `namespace concurrent poller limit exceeded`. Ten workflow polls keep two cores busy.
const WORKFLOW_POLLERS: (usize, usize, usize) = (2, 4, 10);
/// As [`WORKFLOW_POLLERS`], for activity tasks: the order's steps are local activities, so only
/// the reconciler and histories recorded before the patch `local-database-steps` use them.
const ACTIVITY_POLLERS: (usize, usize, usize) = (1, 2, 5);

/// How long a workflow task waits on the sticky queue of the worker that ran the workflow last
/// before any worker may take it. A worker that stops cleanly hands its workflows back at once;
/// one that is killed leaves them waiting this long (the SDK's default is 10 s; Go's and Java's
/// is 5 s). Shorter would send tasks that merely queue behind a busy worker to a full replay.
pub const STICKY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How the order worker polls for workflow tasks ([`WORKFLOW_POLLERS`]); the benchmark's baseline
/// worker polls the same way, so that the two compare workflows, not tunings.
pub fn workflow_pollers() -> PollerBehavior {
    pollers(WORKFLOW_POLLERS)
}

/// How the order worker polls for activity tasks ([`ACTIVITY_POLLERS`]).
pub fn activity_pollers() -> PollerBehavior {
    pollers(ACTIVITY_POLLERS)
}

fn pollers((minimum, initial, maximum): (usize, usize, usize)) -> PollerBehavior {
    PollerBehavior::Autoscaling(
        AutoscalingOptions::builder()
            .minimum(minimum)
            .initial(initial)
            .maximum(maximum)
            .build(),
    )
}

/// What a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub database_url: String,
    pub temporal: TemporalSettings,
    pub gateway: GatewaySettings,
    /// The currency every price is in.
    pub currency: String,
    /// How often the reconciler runs ([`crate::reconciler`]); `None`: this worker registers no
    /// schedule (it still runs the reconciler's workflows when another registered one).
    pub reconcile_every: Option<std::time::Duration>,
}

/// A worker for the order workflows, ready to run (drive [`OrderWorker::run_until`] on the task
/// that owns it: the SDK's run future is not `Send`).
pub struct OrderWorker {
    worker: Worker,
    /// This worker's row in `worker_heartbeats`, kept fresh while it runs.
    heartbeat: Heartbeat,
    // The runtime must outlive the worker.
    _runtime: Runtime,
}

impl OrderWorker {
    /// A worker charging through `gateway` (usually `settings.gateway.build()`), counting on
    /// `metrics`, the process's: the activities count orders and charges there, and the Temporal
    /// SDK's worker metrics join them.
    pub async fn build(
        settings: &WorkerSettings,
        client: Client,
        gateway: Arc<dyn PaymentGateway>,
        metrics: telemetry::Metrics,
    ) -> anyhow::Result<Self> {
        let db = database::connect(&settings.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
        // The SDK's worker metrics (task latencies, slots, polls) go to the process's /metrics.
        let telemetry = TelemetryOptions::builder()
            .metrics(metrics.temporal_meter()?)
            .build();
        let runtime = Runtime::from_current_tokio(
            RuntimeOptions::builder()
                .telemetry_options(telemetry)
                .build()
                .map_err(|e| anyhow::anyhow!("the Temporal worker runtime's options: {e}"))?,
        )
        .context("starting the Temporal worker runtime")?;
        let task_queue = settings.temporal.task_queue.clone();
        let heartbeat = Heartbeat::new(db.clone(), &task_queue);
        if let Some(every) = settings.reconcile_every {
            reconciler::register(&client, &task_queue, every).await?;
        }
        let options = WorkerOptions::new(task_queue)
            .register_workflow::<OrderWorkflow>()
            .context("registering OrderWorkflow")?
            .register_workflow::<ReconcileWorkflow>()
            .context("registering ReconcileWorkflow")?
            .register_activities(ReconcileActivities::new(
                db.clone(),
                client.clone(),
                metrics.clone(),
            ))
            .register_activities(OrderActivities::new(
                db,
                gateway,
                settings.currency.clone(),
                metrics,
            ))
            .workflow_task_poller_behavior(workflow_pollers())
            .activity_task_poller_behavior(activity_pollers())
            .sticky_queue_schedule_to_start_timeout(STICKY_TIMEOUT)
            .workflow_failure_errors([WorkflowErrorType::Nondeterminism].into())
            .build();
        let worker =
            Worker::new(&runtime, client, options).context("creating the Temporal worker")?;
        // Announced once built, before it runs: the API takes orders as soon as this worker is
        // started (they wait in the task queue for its first poll, moments later).
        heartbeat.start().await;
        Ok(OrderWorker {
            worker,
            heartbeat,
            _runtime: runtime,
        })
    }

    /// Runs until `shutdown` completes, then finishes the tasks in flight. Drive it on the task
    /// that owns it (not through `tokio::spawn`). It beats every [`workers::BEAT_EVERY`] while it
    /// runs, and its heartbeat is deleted as soon as it is told to stop (or stops by itself).
    pub async fn run_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let stop = self.worker.shutdown_handle();
        let heartbeat = self.heartbeat;
        let mut run = std::pin::pin!(self.worker.run());
        tokio::select! {
            _ = shutdown => {
                // Takes no new orders from now on: the API stops sending them at once.
                heartbeat.gone().await;
                stop();
                run.await.context("stopping the Temporal worker")?;
                Ok(())
            }
            ran = &mut run => {
                heartbeat.gone().await;
                ran.context("the Temporal worker stopped")?;
                anyhow::bail!("the Temporal worker stopped unexpectedly")
            }
            never = heartbeat.run() => match never {},
        }
    }
}

/// A worker process's row in `worker_heartbeats` ([`database::workers`]).
struct Heartbeat {
    db: sea_orm::DatabaseConnection,
    /// This worker's id, made when it starts.
    id: uuid::Uuid,
    task_queue: String,
    host: String,
    pid: i32,
}

impl Heartbeat {
    fn new(db: sea_orm::DatabaseConnection, task_queue: &str) -> Self {
        Heartbeat {
            db,
            id: uuid::Uuid::new_v4(),
            task_queue: task_queue.to_owned(),
            host: workers::host_name(),
            pid: i32::try_from(std::process::id()).unwrap_or(-1),
        }
    }

    /// The first beat, and a sweep of the rows of workers long gone (killed ones leave theirs).
    async fn start(&self) {
        if let Err(error) = self.beat().await {
            tracing::warn!(worker = %self.id, %error, "could not record the worker's heartbeat");
        }
        let swept = tokio::time::timeout(workers::BEAT_EVERY, workers::sweep(&self.db)).await;
        if let Ok(Err(error)) = swept {
            tracing::warn!(%error, "could not sweep the heartbeats of workers long gone");
        }
        tracing::info!(worker = %self.id, host = %self.host, pid = self.pid, task_queue = %self.task_queue, "worker heartbeat started");
    }

    /// Says once that this worker is alive, waiting [`workers::BEAT_EVERY`] at most.
    async fn beat(&self) -> Result<(), sea_orm::DbErr> {
        let beat = workers::beat(&self.db, self.id, &self.task_queue, &self.host, self.pid);
        tokio::time::timeout(workers::BEAT_EVERY, beat)
            .await
            .unwrap_or_else(|_| Err(sea_orm::DbErr::Custom("no answer in time".to_owned())))
    }

    /// Beats every [`workers::BEAT_EVERY`], forever. A beat that fails is logged, never fatal: the
    /// worker goes on working; the API stops taking orders only if the beats stay away.
    async fn run(&self) -> std::convert::Infallible {
        let mut every = tokio::time::interval(workers::BEAT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once, and `start` beat already.
        every.tick().await;
        let mut failing = false;
        loop {
            every.tick().await;
            match self.beat().await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!(worker = %self.id, "the worker's heartbeat is recorded again");
                }
                Ok(()) => {}
                Err(error) => {
                    failing = true;
                    tracing::warn!(worker = %self.id, %error, "could not record the worker's heartbeat");
                }
            }
        }
    }

    /// This worker stops: its row goes, so that the API stops taking orders at once if it was the
    /// last one. Failure is logged: the row then ages out within [`workers::FRESH`].
    async fn gone(&self) {
        match tokio::time::timeout(workers::BEAT_EVERY, workers::gone(&self.db, self.id)).await {
            Ok(Ok(())) => tracing::info!(worker = %self.id, "worker heartbeat deleted"),
            Ok(Err(error)) => {
                tracing::warn!(worker = %self.id, %error, "could not delete the worker's heartbeat")
            }
            Err(_) => {
                tracing::warn!(worker = %self.id, "could not delete the worker's heartbeat in time")
            }
        }
    }
}
