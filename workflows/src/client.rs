//! The order lifecycle as the API sees it: reserve, pay, cancel and read the live state of an
//! order, with typed answers. Nothing outside this crate handles Temporal's types or failures.

use std::time::Duration;

pub use activities::types::RequestId;
use activities::types::ReserveOutcome;
use temporalio_client::{
    Client, WorkflowExecuteUpdateOptions, WorkflowHandle, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowQueryOptions, WorkflowUpdateWithStartOptions,
    errors::WorkflowUpdateError,
};
use uuid::Uuid;

use crate::{OrderInput, OrderState, OrderWorkflow, PayInput, PayOutcome, refusal, workflow_id};

pub use crate::refusal::Refusal;

/// How long a call waits for the workflow's answer before it gives up as [`Unavailable`].
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Temporal could not be reached, did not answer in time, or the payment provider gave no answer
/// (nothing was charged): try again later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// How long a reservation may take to be attempted (a database outage of a few seconds is
/// ridden out): its workflow refuses it afterwards ([`OrderInput::reserve_by`]).
pub const RESERVE_WITHIN: Duration = Duration::from_secs(20);
/// How long after its deadline a reservation attempted just before it may still commit (the
/// `reserve` step's start-to-close timeout).
pub const RESERVE_GRACE: Duration = Duration::from_secs(10);

/// The update id of every order's reservation: asking again for the same order joins it.
const RESERVATION_UPDATE_ID: &str = "reservation";

/// How a reservation was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// The ticket is held by the new order until it expires.
    Reserved,
    /// No such ticket.
    TicketNotFound,
    /// The ticket is the buyer's own, or another order holds it.
    Refused(Refusal),
    /// Not attempted in time (the workflow started after the deadline): no order was made.
    TooLate,
}

/// A reservation whose answer did not come back (Temporal unreachable, or too slow). Its order
/// may still be made until `settled_at`, never after: from then on the database says.
#[derive(Debug, thiserror::Error)]
#[error("{cause}")]
pub struct ReservationUnknown {
    pub settled_at: chrono::DateTime<chrono::Utc>,
    pub cause: Unavailable,
}

/// How a payment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paid {
    /// Charged once and recorded; the order is complete.
    Paid { payment_id: Uuid, charge_id: String },
    /// The card was declined; the order is cancelled and its ticket free.
    Declined { message: String },
    /// The provider refused the payment as invalid (a bad token); the order is open again.
    Invalid { message: String },
    /// The order's state does not allow it.
    Refused(Refusal),
    /// The update did not reach a running workflow (it has ended, is gone, or Temporal could not
    /// deliver it): the database says how the order stands.
    Ended,
}

/// How a cancellation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// Cancelled (or it was already); the ticket is free.
    Cancelled,
    Refused(Refusal),
    /// As [`Paid::Ended`].
    Ended,
}

/// The live state of an order's workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveState {
    pub workflow_id: String,
    pub run_id: String,
    pub state: OrderState,
}

/// The current request's W3C `traceparent` as a Temporal header (`traceparent`, a JSON string),
/// so that the order's history shows which trace started or paid it.
fn trace_header() -> Option<temporalio_common::protos::temporal::api::common::v1::Header> {
    use temporalio_common::protos::temporal::api::common::v1::{Header, Payload};
    let traceparent = telemetry::trace::current()?;
    let payload = Payload {
        metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
        data: serde_json::to_vec(traceparent.as_str()).ok()?,
        ..Default::default()
    };
    Some(Header {
        fields: [("traceparent".to_owned(), payload)].into(),
    })
}

/// What the Temporal UI shows of an order from its start (its static summary): the ticket's
/// title and price, as the buyer saw them when ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub title: String,
    pub price: entities::Money,
}

/// Starts and drives order workflows.
#[derive(Clone)]
pub struct OrderClient {
    client: Client,
    task_queue: String,
    expiration_seconds: u64,
    /// Reservation and payment latencies are recorded here.
    metrics: telemetry::Metrics,
    /// The last look at the order task queue's workers, and when (see
    /// [`OrderClient::workers_seen`]).
    workers: std::sync::Arc<tokio::sync::Mutex<Option<(std::time::Instant, Workers)>>>,
}

/// How long a look at the workers is reused before looking again: every order asks (on its hot
/// path), so one look a second serves them all, and a worker that stopped is noticed within
/// [`database::workers::FRESH`] and this.
pub const WORKERS_SEEN_FOR: Duration = Duration::from_secs(1);
/// How long a look waits for Temporal (and the database) before it counts as no answer: an
/// order without a workflow service is told so within this, not after [`PATIENCE`].
pub const WORKERS_ASKED_FOR: Duration = Duration::from_secs(2);

/// What a look at the order task queue found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workers {
    /// A worker's heartbeat is fresh, and Temporal answers.
    Alive,
    /// Temporal answers, but no worker's heartbeat is fresh ([`database::workers::FRESH`]):
    /// nothing would take a reservation.
    NoWorker,
    /// Temporal did not answer (an error of the connection, or nothing within
    /// [`WORKERS_ASKED_FOR`]).
    TemporalUnreachable(String),
}

impl OrderClient {
    /// Orders on `task_queue` that hold their ticket for `expiration_seconds`.
    pub fn new(
        client: Client,
        task_queue: String,
        expiration_seconds: u64,
        metrics: telemetry::Metrics,
    ) -> Self {
        OrderClient {
            client,
            task_queue,
            expiration_seconds,
            metrics,
            workers: Default::default(),
        }
    }

    /// The Temporal client underneath (for readiness and operator tooling).
    pub fn temporal(&self) -> &Client {
        &self.client
    }

    /// The task queue of the order workflows.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }

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

    fn handle(&self, order_id: Uuid) -> WorkflowHandle<Client, OrderWorkflow> {
        self.client
            .get_workflow_handle::<OrderWorkflow>(workflow_id(order_id))
    }

    /// Starts the order's workflow together with its `reservation` update, and answers once the
    /// reservation is decided. The reservation is attempted within [`RESERVE_WITHIN`] of
    /// `first_asked` (when the order was first asked for) or never.
    ///
    /// Asking again for the same order is safe: a running workflow is reused (its reservation
    /// update is a read, its id is fixed), and a closed one is never started a second time.
    pub async fn reserve(
        &self,
        order_id: Uuid,
        ticket_id: Uuid,
        buyer_id: Uuid,
        first_asked: chrono::DateTime<chrono::Utc>,
        summary: Option<&OrderSummary>,
    ) -> Result<Reserved, ReservationUnknown> {
        let asked = std::time::Instant::now();
        let reserve_by = first_asked + RESERVE_WITHIN;
        let unknown = |cause| ReservationUnknown {
            settled_at: reserve_by + RESERVE_GRACE,
            cause,
        };
        let input = OrderInput {
            order_id,
            ticket_id,
            buyer_id,
            expiration_seconds: self.expiration_seconds,
            reserve_by: Some(reserve_by),
        };
        let options = WorkflowUpdateWithStartOptions::new(
            self.task_queue.clone(),
            workflow_id(order_id),
            WorkflowIdConflictPolicy::UseExisting,
        )
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .update_id(RESERVATION_UPDATE_ID.to_owned())
        // What the Temporal UI shows of the order; no e-mail or other personal data.
        .maybe_static_summary(summary.map(|s| format!("{} · {}", s.title, s.price)))
        .maybe_start_header(trace_header())
        .maybe_update_header(trace_header())
        .static_details(format!(
            "order {order_id}\nticket {ticket_id}\nbuyer {buyer_id}"
        ))
        .build();
        // No longer than until the reservation is settled: past that, the database knows.
        let started = self.client.execute_update_with_start_workflow(
            OrderWorkflow::run,
            input,
            OrderWorkflow::reservation,
            (),
            options,
        );
        let outcome = tokio::time::timeout(RESERVE_WITHIN + RESERVE_GRACE, started)
            .await
            .map_err(|_| {
                unknown(Unavailable(
                    "Temporal: no answer to the reservation in time".into(),
                ))
            })?
            .map_err(|e| unknown(Unavailable(format!("Temporal: {e}"))))?;
        self.metrics.reservation(asked.elapsed());
        Ok(match outcome {
            ReserveOutcome::Reserved(_) => Reserved::Reserved,
            ReserveOutcome::TicketNotFound => Reserved::TicketNotFound,
            ReserveOutcome::OwnTicket => Reserved::Refused(Refusal::OwnTicket),
            ReserveOutcome::TicketTaken => Reserved::Refused(Refusal::TicketTaken),
            ReserveOutcome::TooLate => Reserved::TooLate,
        })
    }

    /// Pays for the order with a card token (the `pay` update, whose id is `request`). Paying
    /// again with the same `request` while the workflow runs gets the first payment's answer
    /// (Temporal dedupes); the payment it makes records `request`, so that the database can say
    /// which request paid when no answer came back.
    pub async fn pay(
        &self,
        order_id: Uuid,
        token: String,
        request: RequestId,
    ) -> Result<Paid, Unavailable> {
        let options = WorkflowExecuteUpdateOptions::builder()
            .update_id(request.0.clone())
            .maybe_header(trace_header())
            .build();
        let input = PayInput {
            token,
            request_id: Some(request),
        };
        let asked = std::time::Instant::now();
        let sent = within_patience(
            "payment",
            self.handle(order_id)
                .execute_update(OrderWorkflow::pay, input, options),
        )
        .await?;
        self.metrics.payment(asked.elapsed());
        match sent {
            Ok(PayOutcome::Paid {
                payment_id,
                charge_id,
            }) => Ok(Paid::Paid {
                payment_id,
                charge_id,
            }),
            Ok(PayOutcome::Declined { message }) => Ok(Paid::Declined { message }),
            Ok(PayOutcome::Invalid { message }) => Ok(Paid::Invalid { message }),
            Err(error) => match Failed::of(error)? {
                Failed::Refused(refusal) => Ok(Paid::Refused(refusal)),
                Failed::Ended => Ok(Paid::Ended),
            },
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

    /// Tells the order's workflow to catch up with the database (its `sync` signal): the database
    /// holds the order as paid or cancelled by a step whose workflow task was lost, and the
    /// workflow may not know yet. Tried in the background until it is delivered (or the workflow
    /// has ended), for [`SYNC_FOR`] at most: Temporal may be the reason it is needed.
    pub fn sync_soon(&self, order_id: Uuid) {
        let handle = self.handle(order_id);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut pause = Duration::from_millis(250);
            loop {
                let sent = tokio::time::timeout(
                    Duration::from_secs(5),
                    handle.signal(
                        OrderWorkflow::sync,
                        (),
                        temporalio_client::WorkflowSignalOptions::default(),
                    ),
                )
                .await;
                match sent {
                    Ok(Ok(())) => {
                        tracing::info!(%order_id, "told the order's workflow to catch up with the database");
                        return;
                    }
                    Ok(Err(error)) if gone(&error) => return,
                    Ok(Err(error)) => {
                        tracing::debug!(%order_id, %error, "the order's workflow could not be told yet")
                    }
                    Err(_) => tracing::debug!(%order_id, "no answer to the sync signal yet"),
                }
                if started.elapsed() > SYNC_FOR {
                    tracing::warn!(%order_id, "the order's workflow could not be told to catch up; the reconciler will");
                    return;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        });
    }

    /// Cancels the order (the `cancel` update).
    pub async fn cancel(&self, order_id: Uuid) -> Result<Cancelled, Unavailable> {
        let sent = within_patience(
            "cancellation",
            self.handle(order_id).execute_update(
                OrderWorkflow::cancel,
                (),
                WorkflowExecuteUpdateOptions::default(),
            ),
        )
        .await?;
        match sent {
            Ok(()) => Ok(Cancelled::Cancelled),
            Err(error) => match Failed::of(error)? {
                Failed::Refused(refusal) => Ok(Cancelled::Refused(refusal)),
                Failed::Ended => Ok(Cancelled::Ended),
            },
        }
    }

    /// The live state of the order's workflow (its `state` query) and its run.
    pub async fn state(&self, order_id: Uuid) -> Result<LiveState, Unavailable> {
        let handle = self.handle(order_id);
        within_patience("state query", async {
            let state = handle
                .query(OrderWorkflow::state, (), WorkflowQueryOptions::default())
                .await
                .map_err(|e| Unavailable(format!("Temporal: {e}")))?;
            let described = handle
                .describe(Default::default())
                .await
                .map_err(|e| Unavailable(format!("Temporal: {e}")))?;
            Ok(LiveState {
                workflow_id: workflow_id(order_id),
                run_id: described.run_id().to_owned(),
                state,
            })
        })
        .await?
    }
}

/// How long [`OrderClient::sync_soon`] keeps trying.
pub const SYNC_FOR: Duration = Duration::from_secs(120);

/// The workflow has ended or does not exist: nothing to tell it.
fn gone(error: &temporalio_client::errors::WorkflowInteractionError) -> bool {
    use temporalio_client::errors::WorkflowInteractionError;
    matches!(error, WorkflowInteractionError::NotFound(_))
        || error.to_string().contains("already completed")
}

/// What a failed update means for the caller.
enum Failed {
    Refused(Refusal),
    /// The update did not reach a running workflow (it has ended, or is gone).
    Ended,
}

impl Failed {
    fn of(error: WorkflowUpdateError) -> Result<Self, Unavailable> {
        match error {
            WorkflowUpdateError::Failed(failure) => match Refusal::of_failure(&failure) {
                Some(refusal) => Ok(Failed::Refused(refusal)),
                None if refusal::is_payment_not_processed(&failure) => {
                    Err(Unavailable(failure.message))
                }
                None => Err(Unavailable(format!(
                    "the order workflow failed the update: {}",
                    failure.message
                ))),
            },
            // The workflow has ended or is gone, or Temporal could not deliver the update: the
            // caller asks the database how the order stands.
            other => {
                tracing::debug!(error = %other, "an update did not reach a running order workflow");
                Ok(Failed::Ended)
            }
        }
    }
}

/// Waits for Temporal's answer to `what` for at most [`PATIENCE`].
async fn within_patience<T>(what: &str, answer: impl Future<Output = T>) -> Result<T, Unavailable> {
    tokio::time::timeout(PATIENCE, answer)
        .await
        .map_err(|_| Unavailable(format!("Temporal: no answer to the {what} in time")))
}
