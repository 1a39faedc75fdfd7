//! `ticketing history export`: the history of an order's workflow as JSON, in the format the SDK's
//! `WorkflowHistory::from_json` and `WorkflowReplayer` read back (the replay fixtures in
//! `tests/histories/` are made this way; see `docs/workflow-changes.md`).
//!
//! The JSON comes from the SDK (`fetch_history` then `to_json`): the output of
//! `temporal workflow show -o json` or of the Web UI's download is another format, which the
//! replayer cannot read.

use std::{io::Write, path::Path, time::Duration};

use anyhow::Context;
use temporalio_client::{
    Client, UntypedWorkflow, WorkflowDescribeOptions, WorkflowExecutionStatus,
    WorkflowFetchHistoryOptions, errors::WorkflowInteractionError,
};
use uuid::Uuid;
use workflows::workflow_id;

use crate::config::HistoryExportArgs;

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
    let id = workflow_id(order_id);
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

/// The history of the workflow of `order_id` as JSON (see [`fetch`]); an error when there is no
/// such workflow. The history of a running workflow is partial.
pub async fn fetch_json(client: &Client, order_id: Uuid) -> anyhow::Result<Vec<u8>> {
    match fetch(client, order_id).await? {
        Some(history) => Ok(history.json),
        None => Err(anyhow::anyhow!(
            "no workflow {} in namespace {}",
            workflow_id(order_id),
            client.options().namespace
        )),
    }
}

/// `ticketing history export <ORDER_ID> [--out FILE]`.
pub async fn export(args: &HistoryExportArgs) -> anyhow::Result<()> {
    let config = args.temporal.resolve(None)?;
    let client = crate::temporal::connect(&config, Duration::from_secs(10)).await?;
    let id = workflow_id(args.order_id);
    let history = fetch(&client, args.order_id).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no workflow {id} on {} (namespace {})",
            config.address,
            config.namespace
        )
    })?;
    if history.running {
        eprintln!("note: {id} is still running; its history is partial");
    }
    let mut bytes = history.json;
    bytes.push(b'\n');
    match &args.out {
        Some(path) => write_file(path, &bytes)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, creating its parent folders.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
