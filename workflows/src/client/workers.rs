//! Whether orders can be taken now: a worker of the order task queue is alive (its heartbeat,
//! [`database::workers`]) and Temporal answers; and, for an order let in just before the last
//! worker went, ending its workflow while no worker has taken it.

use std::time::Duration;

use uuid::Uuid;

use super::{OrderClient, Unavailable, Workers};

/// How long a look at the workers is reused before looking again: every order asks (on its hot
/// path), so one look a second serves them all, and a worker that stopped is noticed within
/// [`database::workers::FRESH`] and this.
pub const WORKERS_SEEN_FOR: Duration = Duration::from_secs(1);
/// How long a look waits for Temporal (and the database) before it counts as no answer: an
/// order without a workflow service is told so within this, not after [`super::PATIENCE`].
pub const WORKERS_ASKED_FOR: Duration = Duration::from_secs(2);

impl OrderClient {
    /// Whether orders can be taken now: a worker of the order task queue is alive (its heartbeat
    /// in `db` is fresh: [`database::workers`]) and Temporal answers; as seen at most
    /// [`WORKERS_SEEN_FOR`] ago (one look a second, however many ask). Errs only when the
    /// database cannot be read.
    pub async fn workers_seen(
        &self,
        db: &sea_orm::DatabaseConnection,
    ) -> Result<Workers, sea_orm::DbErr> {
        let mut seen = self.workers.lock().await;
        if let Some((at, workers)) = &*seen
            && at.elapsed() < WORKERS_SEEN_FOR
        {
            return Ok(workers.clone());
        }
        // Both bounded well below the reservation's own patience: the lock is held meanwhile,
        // and a Temporal (or database) that hangs must not make every order wait on it.
        let alive = async {
            tokio::time::timeout(
                WORKERS_ASKED_FOR,
                database::workers::alive(db, &self.task_queue, database::workers::FRESH),
            )
            .await
            .unwrap_or(Err(sea_orm::DbErr::ConnectionAcquire(
                sea_orm::ConnAcquireErr::Timeout,
            )))
        };
        let (alive, answers) = tokio::join!(alive, self.temporal_answers());
        let workers = match (answers, alive?) {
            (Err(Unavailable(why)), _) => Workers::TemporalUnreachable(why),
            (Ok(()), 0) => Workers::NoWorker,
            (Ok(()), _) => Workers::Alive,
        };
        *seen = Some((std::time::Instant::now(), workers.clone()));
        Ok(workers)
    }

    /// Whether Temporal answers (a description of the order task queue) within
    /// [`WORKERS_ASKED_FOR`]. Any answer counts, a refusal too (a server that does not describe
    /// task queues, say): only no connection or no answer in time is an error.
    pub async fn temporal_answers(&self) -> Result<(), Unavailable> {
        use temporalio_client::tonic::Code;
        use temporalio_common::protos::temporal::api::{
            enums::v1::{TaskQueueKind, TaskQueueType},
            taskqueue::v1::TaskQueue,
            workflowservice::v1::DescribeTaskQueueRequest,
        };
        let request = DescribeTaskQueueRequest {
            namespace: self.client.options().namespace.clone(),
            task_queue: Some(TaskQueue {
                name: self.task_queue.clone(),
                kind: TaskQueueKind::Normal as i32,
                ..Default::default()
            }),
            task_queue_type: TaskQueueType::Workflow as i32,
            ..Default::default()
        };
        let mut service = self.client.connection().workflow_service();
        let described =
            service.describe_task_queue(temporalio_client::tonic::Request::new(request));
        match tokio::time::timeout(WORKERS_ASKED_FOR, described).await {
            Err(_) => Err(Unavailable(format!(
                "Temporal: no answer within {} s",
                WORKERS_ASKED_FOR.as_secs()
            ))),
            Ok(Err(status))
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown
                ) =>
            {
                Err(Unavailable(format!("Temporal: {}", status.message())))
            }
            Ok(_) => Ok(()),
        }
    }

    /// Ends the order's workflow if no worker ever started a task of it (a worker died before
    /// taking it, or none runs), so that its reservation can never be made: `true` when it was
    /// ended so. A workflow a worker has taken (its `reserve` step may have run) is left to
    /// answer, `false`. Between the look and the end a worker could still take it: its reservation
    /// would then be an order without a workflow, which the reconciler cancels (reason operator).
    pub async fn abandon_unstarted(&self, order_id: Uuid) -> bool {
        use temporalio_common::protos::temporal::api::enums::v1::{
            PendingWorkflowTaskState, WorkflowExecutionStatus,
        };
        let handle = self.handle(order_id);
        let Ok(Ok(described)) =
            tokio::time::timeout(Duration::from_secs(2), handle.describe(Default::default())).await
        else {
            return false;
        };
        let raw = described.raw();
        let running = raw.workflow_execution_info.as_ref().is_some_and(|info| {
            info.status == WorkflowExecutionStatus::Running as i32 && info.history_length <= 2
        });
        let never_taken = raw.pending_workflow_task.as_ref().is_some_and(|task| {
            task.state == PendingWorkflowTaskState::Scheduled as i32 && task.attempt <= 1
        });
        if !(running && never_taken) {
            return false;
        }
        let options = temporalio_client::WorkflowTerminateOptions::builder()
            .reason("no worker took the order's reservation; the buyer was told so".to_owned())
            .build();
        let ended = handle.terminate(options).await.is_ok();
        if ended {
            tracing::warn!(%order_id, "no worker took the reservation: its workflow was ended before it reserved anything");
        }
        ended
    }
}
