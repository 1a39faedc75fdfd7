//! The order workflows against their orders: an open order's workflow runs, a finished order's
//! has ended.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use entities::order;
use sea_orm::{DatabaseConnection, EntityTrait};
use temporalio_client::{
    Client, WorkflowDescribeOptions, WorkflowExecutionStatus, errors::WorkflowInteractionError,
    tonic,
};
use temporalio_common::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
use uuid::Uuid;

use super::Disagreement;
use crate::order::{OrderWorkflow, workflow_id};

/// How long a finished order's workflow may keep running before it is reported: a workflow
/// finishes right after it writes its order's last change.
const GRACE: Duration = Duration::from_secs(2);
/// How often a finished order's running workflow is described again during [`GRACE`].
const RECHECK_EVERY: Duration = Duration::from_millis(200);

/// The workflow of an order as Temporal describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// No workflow with the order's id.
    Missing,
    /// The latest run of the order's workflow is in this status.
    Found(WorkflowExecutionStatus),
}

fn workflow_status_text(status: WorkflowExecutionStatus) -> &'static str {
    match status {
        WorkflowExecutionStatus::Running => "running",
        WorkflowExecutionStatus::Completed => "completed",
        WorkflowExecutionStatus::Failed => "failed",
        WorkflowExecutionStatus::Canceled => "canceled",
        WorkflowExecutionStatus::Terminated => "terminated",
        WorkflowExecutionStatus::ContinuedAsNew => "continued as new",
        WorkflowExecutionStatus::TimedOut => "timed out",
        WorkflowExecutionStatus::Paused => "paused",
        _ => "in an unknown status",
    }
}

/// What is wrong between an order and its workflow, if anything. A finished order's workflow may
/// be gone once the namespace's `retention` has passed since the order last changed.
pub(super) fn workflow_problem(
    order: &order::Model,
    seen: Seen,
    retention: Option<chrono::Duration>,
    now: DateTime<Utc>,
) -> Option<String> {
    let workflow = workflow_id(order.id);
    let said = order.status.as_str();
    let open = order.is_open();
    match seen {
        Seen::Missing => {
            let past_retention =
                !open && retention.is_some_and(|retention| order.updated_at + retention <= now);
            (!past_retention).then(|| format!("{said}, but its workflow {workflow} does not exist"))
        }
        Seen::Found(found) => match (open, found) {
            (true, WorkflowExecutionStatus::Running) => None,
            (true, ended) => Some(format!(
                "{said}, but its workflow {workflow} is {}, not running",
                workflow_status_text(ended)
            )),
            (false, WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Paused) => {
                Some(format!(
                    "{said}, but its workflow {workflow} is still {}",
                    workflow_status_text(found)
                ))
            }
            (false, _) => None,
        },
    }
}

/// What the Temporal checks need.
pub(super) struct Temporal<'a> {
    pub(super) client: &'a Client,
    /// Read afresh (not through the snapshot) when a disagreement is looked at again.
    pub(super) db: &'a DatabaseConnection,
    /// How long the namespace keeps a closed workflow, when Temporal said.
    pub(super) retention: Option<chrono::Duration>,
}

impl Temporal<'_> {
    /// Describes the order's workflow.
    pub(super) async fn see(&self, order_id: Uuid) -> anyhow::Result<Seen> {
        let id = workflow_id(order_id);
        match self
            .client
            .get_workflow_handle::<OrderWorkflow>(id.clone())
            .describe(WorkflowDescribeOptions::default())
            .await
        {
            Ok(description) => Ok(Seen::Found(description.status())),
            Err(WorkflowInteractionError::NotFound(_)) => Ok(Seen::Missing),
            Err(e) => Err(anyhow::anyhow!("cannot describe the workflow {id}: {e}")),
        }
    }

    /// Checks an order (as the snapshot read it) against its workflow. A disagreement is
    /// confirmed by describing the workflow again and then reading the order afresh: the
    /// workflow writes its order before it moves on, so a workflow that is missing or has ended
    /// while the order read after it is still open is a real disagreement. A finished order
    /// whose workflow still runs is looked at again until it has lasted [`GRACE`], since the
    /// workflow ends right after its last write.
    pub(super) async fn check(&self, order: &order::Model) -> anyhow::Result<Option<Disagreement>> {
        let started = Instant::now();
        let mut order = order.clone();
        let mut seen = self.see(order.id).await?;
        let mut confirmed = false;
        loop {
            let Some(problem) = workflow_problem(&order, seen, self.retention, Utc::now()) else {
                return Ok(None);
            };
            let finishing = matches!(
                seen,
                Seen::Found(WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Paused)
            );
            if confirmed && (!finishing || started.elapsed() >= GRACE) {
                return Ok(Some(Disagreement::order(order.id, problem)));
            }
            if confirmed {
                tokio::time::sleep(RECHECK_EVERY).await;
            }
            seen = self.see(order.id).await?;
            match order::Entity::find_by_id(order.id)
                .one(self.db)
                .await
                .with_context(|| format!("reading order {}", order.id))?
            {
                Some(now) => order = now,
                None => return Ok(None), // Gone since the snapshot: nothing to compare.
            }
            confirmed = true;
        }
    }
}

/// How long the client's namespace keeps closed workflows; `None` when Temporal does not say.
pub(super) async fn retention(client: &Client) -> Option<chrono::Duration> {
    let mut service = client.connection().workflow_service();
    let described = service
        .describe_namespace(tonic::Request::new(DescribeNamespaceRequest {
            namespace: client.options().namespace.clone(),
            ..Default::default()
        }))
        .await
        .ok()?
        .into_inner();
    let ttl = described.config?.workflow_execution_retention_ttl?;
    (ttl.seconds > 0).then(|| chrono::Duration::seconds(ttl.seconds))
}

#[cfg(test)]
mod tests {
    use entities::order::Status;

    use super::{super::an_order, *};

    #[test]
    fn workflows_run_while_their_order_is_open_and_end_with_it() {
        use WorkflowExecutionStatus::*;
        let now = Utc::now();
        let day = Some(chrono::Duration::days(1));
        for status in [Status::Created, Status::AwaitingPayment] {
            let order = an_order(status);
            let workflow = workflow_id(order.id);
            assert_eq!(
                workflow_problem(&order, Seen::Found(Running), day, now),
                None
            );
            assert_eq!(
                workflow_problem(&order, Seen::Found(Terminated), day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} is terminated, not running"
                ))
            );
            assert_eq!(
                workflow_problem(&order, Seen::Missing, day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} does not exist"
                ))
            );
        }
        for status in [Status::Complete, Status::Cancelled] {
            let order = an_order(status);
            let workflow = workflow_id(order.id);
            assert_eq!(
                workflow_problem(&order, Seen::Found(Completed), day, now),
                None
            );
            assert_eq!(
                workflow_problem(&order, Seen::Found(Failed), day, now),
                None
            );
            assert_eq!(
                workflow_problem(&order, Seen::Found(Running), day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} is still running"
                ))
            );
            assert_eq!(
                workflow_problem(&order, Seen::Missing, day, now),
                Some(format!(
                    "{status}, but its workflow {workflow} does not exist"
                ))
            );
            // Past the namespace's retention, a closed workflow is deleted: not a disagreement.
            let later = now + chrono::Duration::days(2);
            assert_eq!(workflow_problem(&order, Seen::Missing, day, later), None);
            assert!(workflow_problem(&order, Seen::Missing, None, later).is_some());
        }
        // An open order's workflow never expires by retention.
        let open = an_order(Status::Created);
        let later = now + chrono::Duration::days(2);
        assert!(workflow_problem(&open, Seen::Missing, day, later).is_some());
    }
}
