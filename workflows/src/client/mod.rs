//! The order lifecycle as the API sees it: reserve, pay, cancel and read the live state of an
//! order, with typed answers. Nothing outside this crate handles Temporal's types or failures.
//! Whether orders can be taken at all (workers alive, Temporal answering) is `workers.rs`;
//! telling a workflow to catch up with the database is `sync.rs`.

use std::time::Duration;

pub use activities::order::RequestId;
use activities::order::ReserveOutcome;
use temporalio_client::{
    Client, WorkflowExecuteUpdateOptions, WorkflowHandle, WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy, WorkflowQueryOptions, WorkflowUpdateWithStartOptions,
    errors::WorkflowUpdateError,
};
use uuid::Uuid;

use crate::{
    order::{OrderInput, OrderState, OrderWorkflow, PayInput, PayOutcome, workflow_id},
    refusal,
};

pub use crate::refusal::Refusal;
pub mod sync;
pub mod workers;

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

/// What a look at the order task queue found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workers {
    /// A worker's heartbeat is fresh, and Temporal answers.
    Alive,
    /// Temporal answers, but no worker's heartbeat is fresh ([`database::workers::FRESH`]):
    /// nothing would take a reservation.
    NoWorker,
    /// Temporal did not answer (an error of the connection, or nothing within
    /// [`workers::WORKERS_ASKED_FOR`]).
    TemporalUnreachable(String),
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
            ReserveOutcome::Withdrawn => Reserved::Refused(Refusal::Withdrawn),
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
