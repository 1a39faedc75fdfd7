//! The history of an order's workflow as JSON, in the format the SDK's `WorkflowHistory::from_json`
//! and `WorkflowReplayer` read back (the replay fixtures in `tests/histories/` are made this way;
//! see `docs/workflow-changes.md`).
//!
//! The JSON comes from the SDK (`fetch_history` then `to_json`): the output of
//! `temporal workflow show -o json` or of the Web UI's download is another format, which the
//! replayer cannot read.

use anyhow::Context;
use temporalio_client::{
    Client, UntypedWorkflow, WorkflowDescribeOptions, WorkflowExecutionStatus,
    WorkflowFetchHistoryOptions, errors::WorkflowInteractionError,
};
use uuid::Uuid;

use crate::order::workflow_id;

/// A fetched history.
#[derive(Debug, Clone)]
pub struct FetchedHistory {
    /// `WorkflowHistory::to_json` of the whole history (every page).
    pub json: Vec<u8>,
    /// The workflow is still running: the history ends where it is now.
    pub running: bool,
}

/// Fetches the full history of the workflow of `order_id` (its latest run); `None` when the
/// namespace has no such workflow.
pub async fn fetch(client: &Client, order_id: Uuid) -> anyhow::Result<Option<FetchedHistory>> {
    fetch_workflow(client, &workflow_id(order_id)).await
}

/// Fetches the full history of the workflow `id` (its latest run), an order's or another (the
/// reconciler's); `None` when the namespace has no such workflow.
pub async fn fetch_workflow(client: &Client, id: &str) -> anyhow::Result<Option<FetchedHistory>> {
    let id = id.to_owned();
    let handle = client.get_workflow_handle::<UntypedWorkflow>(id.clone());
    let description = match handle.describe(WorkflowDescribeOptions::default()).await {
        Ok(description) => description,
        Err(WorkflowInteractionError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("cannot describe workflow {id}: {e}")),
    };
    let running = description.status() == WorkflowExecutionStatus::Running;
    let json = handle
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .with_context(|| format!("cannot fetch the history of workflow {id}"))?;
    Ok(Some(FetchedHistory { json, running }))
}
