//! What a lifecycle costs Temporal, read from the real histories of the run: events, workflow
//! tasks, billable actions and bytes per workflow (figures that do not move with machine noise),
//! and how long each workflow task waited in its task queue before a worker took it (the
//! evidence for where a tail comes from).

use std::time::Duration;

use futures_util::{StreamExt, stream};
use temporalio_client::{Client, UntypedWorkflow, WorkflowFetchHistoryOptions};
use temporalio_common::protos::temporal::api::{
    enums::v1::EventType,
    history::v1::{HistoryEvent, history_event::Attributes},
};

use crate::{
    percentiles::{Percentiles, percentiles},
    progress::Progress,
};

/// The markers the Rust SDK records for a local activity's result.
const LOCAL_ACTIVITY_MARKER: &str = "core_local_activity";
/// The search attribute the SDK upserts for a patch: not billed as an action.
const CHANGE_VERSION: &str = "TemporalChangeVersion";

/// What one workflow's history holds.
#[derive(Debug, Clone, Default)]
struct Cost {
    events: usize,
    workflow_tasks: usize,
    actions: usize,
    bytes: usize,
    /// Scheduled → started of the first workflow task (the one a new workflow waits for on the
    /// task queue's normal, non-sticky queue).
    first_task_wait: Duration,
    /// Scheduled → started of every later workflow task (on the sticky queue of the worker that
    /// ran the workflow last, unless it was evicted).
    later_task_waits: Vec<Duration>,
}

fn seconds(event: &HistoryEvent) -> f64 {
    event
        .event_time
        .as_ref()
        .map_or(0.0, |t| t.seconds as f64 + f64::from(t.nanos) * 1e-9)
}

fn cost(events: &[HistoryEvent]) -> Cost {
    use prost::Message;
    let mut cost = Cost {
        events: events.len(),
        bytes: events.iter().map(Message::encoded_len).sum(),
        ..Cost::default()
    };
    // Local activities completed in one workflow task are billed as one action.
    let mut local_activities_in_task = false;
    let mut scheduled_at = std::collections::HashMap::new();
    let mut first = true;
    for event in events {
        match event.event_type() {
            EventType::WorkflowTaskScheduled => {
                scheduled_at.insert(event.event_id, seconds(event));
            }
            EventType::WorkflowTaskStarted => {
                if let Some(Attributes::WorkflowTaskStartedEventAttributes(started)) =
                    &event.attributes
                    && let Some(at) = scheduled_at.get(&started.scheduled_event_id)
                {
                    let wait = Duration::from_secs_f64((seconds(event) - at).max(0.0));
                    if first {
                        cost.first_task_wait = wait;
                        first = false;
                    } else {
                        cost.later_task_waits.push(wait);
                    }
                }
            }
            EventType::WorkflowTaskCompleted => {
                cost.workflow_tasks += 1;
                local_activities_in_task = false;
            }
            EventType::WorkflowExecutionStarted
            | EventType::TimerStarted
            | EventType::ActivityTaskScheduled
            | EventType::WorkflowExecutionSignaled
            | EventType::WorkflowExecutionUpdateAccepted => cost.actions += 1,
            EventType::UpsertWorkflowSearchAttributes => {
                if let Some(Attributes::UpsertWorkflowSearchAttributesEventAttributes(upsert)) =
                    &event.attributes
                    && upsert
                        .search_attributes
                        .as_ref()
                        .is_some_and(|s| s.indexed_fields.keys().any(|k| k != CHANGE_VERSION))
                {
                    cost.actions += 1;
                }
            }
            EventType::MarkerRecorded => {
                if let Some(Attributes::MarkerRecordedEventAttributes(marker)) = &event.attributes
                    && marker.marker_name == LOCAL_ACTIVITY_MARKER
                    && !local_activities_in_task
                {
                    local_activities_in_task = true;
                    cost.actions += 1;
                }
            }
            _ => {}
        }
    }
    cost
}

/// The spread of one per-workflow count over the histories read.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Count {
    pub(crate) mean: f64,
    pub(crate) min: usize,
    pub(crate) max: usize,
}

fn count(values: impl Iterator<Item = usize> + Clone) -> Count {
    let n = values.clone().count().max(1);
    Count {
        mean: values.clone().sum::<usize>() as f64 / n as f64,
        min: values.clone().min().unwrap_or(0),
        max: values.max().unwrap_or(0),
    }
}

/// What the histories of one kind of workflow say, per workflow.
#[derive(Debug, serde::Serialize)]
pub(crate) struct HistoryFigures {
    /// How many histories were read.
    pub(crate) histories: usize,
    pub(crate) events: Count,
    pub(crate) workflow_tasks: Count,
    /// Temporal Cloud actions, counted from the history by Temporal's published rules (a start,
    /// an accepted update, a timer, an activity, a search-attribute upsert other than a patch's,
    /// and the local activities of one workflow task together, one each).
    pub(crate) actions: Count,
    pub(crate) bytes: Count,
    /// How long the first workflow task waited in the task queue (scheduled → started).
    pub(crate) first_task_wait_ms: Percentiles,
    /// The same for every later workflow task.
    pub(crate) later_task_wait_ms: Percentiles,
    /// The first task's wait for the slowest 1 % of the workflows by the client's own timing
    /// (for orders: of `POST /api/orders`), and how long the client waited for them.
    pub(crate) slowest_first_task_wait_ms: Percentiles,
    pub(crate) slowest_client_ms: Percentiles,
}

/// Reads the histories of `workflows` (their ids with the time the client waited for each) and
/// sums up what they cost.
pub(crate) async fn read(
    client: &Client,
    label: &'static str,
    workflows: Vec<(String, Duration)>,
) -> anyhow::Result<HistoryFigures> {
    let progress = Progress::new(label, workflows.len());
    let costs: Vec<anyhow::Result<(Cost, Duration)>> = stream::iter(workflows)
        .map(|(id, waited)| {
            let progress = progress.clone();
            async move {
                let events = client
                    .get_workflow_handle::<UntypedWorkflow>(id.clone())
                    .fetch_history(WorkflowFetchHistoryOptions::default())
                    .into_events()
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot read the history of {id}: {e}"))?;
                progress.tick();
                Ok((cost(&events), waited))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut costs = costs.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    costs.sort_by_key(|(_, waited)| std::cmp::Reverse(*waited));
    let slowest = &costs[..costs.len().div_ceil(100)];
    Ok(HistoryFigures {
        histories: costs.len(),
        events: count(costs.iter().map(|c| c.0.events)),
        workflow_tasks: count(costs.iter().map(|c| c.0.workflow_tasks)),
        actions: count(costs.iter().map(|c| c.0.actions)),
        bytes: count(costs.iter().map(|c| c.0.bytes)),
        first_task_wait_ms: percentiles(costs.iter().map(|c| c.0.first_task_wait).collect()),
        later_task_wait_ms: percentiles(
            costs
                .iter()
                .flat_map(|c| c.0.later_task_waits.iter().copied())
                .collect(),
        ),
        slowest_first_task_wait_ms: percentiles(
            slowest.iter().map(|c| c.0.first_task_wait).collect(),
        ),
        slowest_client_ms: percentiles(slowest.iter().map(|c| c.1).collect()),
    })
}
