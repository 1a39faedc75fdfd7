//! The reconciler: self-healing that runs on Temporal itself. A Temporal Schedule (registered
//! idempotently when a worker starts, see [`register`]) starts a short [`ReconcileWorkflow`]
//! every minute on the order task queue. Its one activity does what `ticketing check --repair`
//! does ([`check::repair`](crate::check::repair)): an order still `created` whose workflow is gone,
//! terminated or ended is cancelled through the same step the workflow uses (reason `operator`,
//! its ticket freed, `order:cancelled` recorded). It also reports the open orders long past their
//! expiry. What it did is the workflow's result (in its history, in the Temporal UI) and the
//! worker's log.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use temporalio_client::{
    Client,
    schedules::{CreateScheduleOptions, ScheduleAction, ScheduleOverlapPolicy, ScheduleSpec},
    tonic::Code,
};
use temporalio_common::protos::temporal::api::common::v1::RetryPolicy;
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};

use sea_orm::DatabaseConnection;

use crate::check;

/// How often the reconciler runs unless configured otherwise.
pub const EVERY: Duration = Duration::from_secs(60);

/// The id of the reconciler's schedule (and the prefix of its workflows' ids) for a task queue.
pub fn schedule_id(task_queue: &str) -> String {
    format!("reconcile-{task_queue}")
}

/// What one reconciliation did and found, in words an operator can act on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    /// One line per order repaired (or left to a person, and why).
    pub repaired: Vec<String>,
    /// One line per open order long past its expiry.
    pub overdue: Vec<String>,
}

/// One reconciliation: a single activity, retried a few times; the next run comes a minute later
/// anyway.
#[workflow]
#[derive(Default)]
pub struct ReconcileWorkflow;

#[workflow_methods]
impl ReconcileWorkflow {
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, _input: ()) -> WorkflowResult<Reconciled> {
        let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(50))
            .retry_policy(RetryPolicy {
                maximum_attempts: 3,
                ..Default::default()
            })
            .build();
        Ok(ctx
            .execute_activity(ReconcileActivities::reconcile, (), options)
            .await?)
    }
}

/// The reconciler's side effects: it reads and repairs the database, and asks Temporal about the
/// order workflows.
pub struct ReconcileActivities {
    db: DatabaseConnection,
    client: Client,
    /// Orders it cancels are counted as `operator_cancelled`.
    metrics: telemetry::Metrics,
}

impl ReconcileActivities {
    pub fn new(db: DatabaseConnection, client: Client, metrics: telemetry::Metrics) -> Self {
        ReconcileActivities {
            db,
            client,
            metrics,
        }
    }
}

#[activities]
impl ReconcileActivities {
    /// Repairs what `ticketing check --repair` repairs, and reports the overdue orders.
    #[activity]
    pub async fn reconcile(
        self: Arc<Self>,
        _ctx: ActivityContext,
        _input: (),
    ) -> Result<Reconciled, ActivityError> {
        let repairs = check::repair(&self.db, &self.client)
            .await
            .map_err(|e| ActivityError::from(anyhow::anyhow!("{e:#}")))?;
        let overdue = check::overdue(&self.db)
            .await
            .map_err(|e| ActivityError::from(anyhow::anyhow!("{e:#}")))?;
        for repair in &repairs {
            if repair.cancelled {
                self.metrics
                    .order_finished(telemetry::OrderOutcome::OperatorCancelled);
            }
            tracing::warn!(order_id = %repair.order_id, done = %repair.done, "the reconciler repaired an order");
        }
        for late in &overdue {
            tracing::warn!(%late, "the reconciler found an overdue order");
        }
        Ok(Reconciled {
            repaired: repairs.iter().map(ToString::to_string).collect(),
            overdue: overdue.iter().map(ToString::to_string).collect(),
        })
    }
}

/// Registers the reconciler's schedule for `task_queue`, every `every`; when it exists already
/// (another process registered it), brings its interval and action up to date. Safe to call at
/// every start-up, from any number of processes.
pub async fn register(client: &Client, task_queue: &str, every: Duration) -> anyhow::Result<()> {
    let id = schedule_id(task_queue);
    let action = || {
        ScheduleAction::start_workflow(
            ReconcileWorkflow::run,
            (),
            task_queue.to_owned(),
            schedule_id(task_queue),
        )
    };
    let options = CreateScheduleOptions::builder()
        .action(action())
        .spec(ScheduleSpec::from_interval(every))
        // A slow reconciliation is never run twice at once.
        .overlap_policy(ScheduleOverlapPolicy::Skip)
        .note("ticketing: repairs orders whose workflow is gone (see README, Operating)")
        .build();
    match client.create_schedule(id.clone(), options).await {
        Ok(_) => {
            tracing::info!(schedule = %id, every_seconds = every.as_secs(), "registered the reconciler's schedule");
            Ok(())
        }
        Err(temporalio_client::schedules::ScheduleError::Rpc(status))
            if status.code() == Code::AlreadyExists =>
        {
            let (action, spec) = (action(), ScheduleSpec::from_interval(every));
            client
                .get_schedule_handle(id.clone())
                .update(
                    move |update| {
                        update.set_action(action).set_spec(spec);
                    },
                    Default::default(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("updating the reconciler's schedule {id}: {e}"))?;
            tracing::debug!(schedule = %id, "the reconciler's schedule was registered already");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!(
            "registering the reconciler's schedule {id}: {e}"
        )),
    }
}
