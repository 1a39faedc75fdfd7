//! The side effects of the order lifecycle, as Temporal activities: reserve the ticket, mark the
//! order as being paid, charge through the [`PaymentGateway`], record the payment, cancel (or
//! expire) the order and free its ticket.
//!
//! Every activity is idempotent under retry. Business outcomes (a taken ticket, a declined card)
//! are returned as values; database and network faults are retryable errors; a refusal that no
//! retry can change (our payment credentials refused) is a non-retryable failure.
//!
//! Each runs in a span with the order's id, the workflow's id and the attempt (so every log line
//! about it carries them), logs what it did, and counts it in the process's metrics (orders
//! started and finished by outcome, charges by result), once per change it actually made.

pub mod gateway;
pub mod store;
pub mod types;

use std::{future::Future, sync::Arc, time::Instant};

use sea_orm::DatabaseConnection;
use telemetry::{ChargeResult, Metrics, OrderOutcome};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tracing::Instrument;
use uuid::Uuid;

pub use gateway::{ChargeOutcome, ChargeRequest, GatewayError, GatewaySettings, PaymentGateway};
use types::{
    CancelInput, ChargeInput, CompleteInput, OrderFacts, Payment, ReserveInput, ReserveOutcome,
    Status,
};

/// The activities of `OrderWorkflow`, with what they need: the database, the payment gateway,
/// the currency prices are in, and the process's metrics.
pub struct OrderActivities {
    db: DatabaseConnection,
    gateway: Arc<dyn PaymentGateway>,
    currency: String,
    metrics: Metrics,
}

impl OrderActivities {
    pub fn new(
        db: DatabaseConnection,
        gateway: Arc<dyn PaymentGateway>,
        currency: String,
        metrics: Metrics,
    ) -> Self {
        OrderActivities {
            db,
            gateway,
            currency,
            metrics,
        }
    }
}

/// How an order cancelled for `reason` ended.
pub fn outcome_of(reason: types::CancelReason) -> OrderOutcome {
    match reason {
        types::CancelReason::Expired => OrderOutcome::Expired,
        types::CancelReason::Declined => OrderOutcome::Declined,
        types::CancelReason::Cancelled => OrderOutcome::Cancelled,
        types::CancelReason::Operator => OrderOutcome::OperatorCancelled,
    }
}

/// Runs `work`, the activity `name` about order `order_id`, in a span that its log lines carry.
fn about<T>(
    ctx: &ActivityContext,
    name: &'static str,
    order_id: Uuid,
    work: impl Future<Output = T>,
) -> impl Future<Output = T> {
    let info = ctx.info();
    let span = tracing::info_span!(
        "activity",
        activity = name,
        %order_id,
        workflow_id = info.workflow_id.as_deref().unwrap_or_default(),
        attempt = info.attempt,
    );
    work.instrument(span)
}

/// A fault that no retry can mend.
fn non_retryable(error: impl std::fmt::Display) -> ActivityError {
    ActivityError::application(temporalio_common::error::ApplicationFailure::non_retryable(
        error.to_string(),
    ))
}

#[activities]
impl OrderActivities {
    /// Reserves the ticket and writes the order row (see [`store::reserve`]).
    #[activity]
    pub async fn reserve(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ReserveInput,
    ) -> Result<ReserveOutcome, ActivityError> {
        about(&ctx, "reserve", input.order_id, async {
            let (outcome, fresh) = store::reserve(&self.db, &input).await?;
            if fresh {
                self.metrics.order_started();
                match &outcome {
                    ReserveOutcome::Reserved(reservation) => tracing::info!(
                        ticket_id = %input.ticket_id,
                        expires_at = %reservation.expires_at,
                        "order reserved its ticket"
                    ),
                    refused => {
                        self.metrics.order_finished(OrderOutcome::Rejected);
                        tracing::info!(ticket_id = %input.ticket_id, outcome = ?refused, "order rejected");
                    }
                }
            }
            Ok(outcome)
        })
        .await
    }

    /// `created` → `awaiting:payment`.
    #[activity]
    pub async fn mark_awaiting_payment(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<(), ActivityError> {
        about(&ctx, "mark awaiting payment", order_id, async {
            Ok(store::mark_awaiting_payment(&self.db, order_id).await?)
        })
        .await
    }

    /// `created` → `awaiting:payment`, answering what the database holds afterwards (a payment
    /// or cancellation by an attempt whose workflow task was lost shows here).
    #[activity]
    pub async fn begin_payment(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<OrderFacts, ActivityError> {
        about(&ctx, "begin payment", order_id, async {
            let facts = store::begin_payment(&self.db, order_id).await?;
            if facts.status != Status::AwaitingPayment {
                tracing::warn!(status = %facts.status, "the order was settled by an earlier attempt; the workflow adopts it");
            }
            Ok(facts)
        })
        .await
    }

    /// What the database holds of the order, for a workflow catching up with it.
    #[activity]
    pub async fn observe(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<OrderFacts, ActivityError> {
        about(&ctx, "observe", order_id, async {
            Ok(store::facts(&self.db, order_id).await?)
        })
        .await
    }

    /// `awaiting:payment` → `created`, after an attempt that charged nothing.
    #[activity]
    pub async fn reopen(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<(), ActivityError> {
        about(&ctx, "reopen", order_id, async {
            store::reopen(&self.db, order_id).await?;
            tracing::info!("order open again after a payment that charged nothing");
            Ok(())
        })
        .await
    }

    /// Charges the order's price; the idempotency key makes a retried charge a no-op at the
    /// provider.
    #[activity]
    pub async fn charge(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ChargeInput,
    ) -> Result<ChargeOutcome, ActivityError> {
        let order_id = input.order_id;
        let request = ChargeRequest {
            idempotency_key: input.idempotency_key,
            amount_cents: input.amount_cents,
            currency: self.currency.clone(),
            token: input.token,
            description: format!("ticketing order {order_id}"),
        };
        about(&ctx, "charge", order_id, async {
            let started = Instant::now();
            let charged = self.gateway.charge(&request).await;
            let result = match &charged {
                Ok(ChargeOutcome::Charged { .. }) => ChargeResult::Charged,
                Ok(ChargeOutcome::Declined { .. }) => ChargeResult::Declined,
                Ok(ChargeOutcome::Invalid { .. }) => ChargeResult::Invalid,
                Err(GatewayError::Transient(_)) => ChargeResult::Transient,
                Err(GatewayError::Permanent(_)) => ChargeResult::Permanent,
            };
            self.metrics.charge(result, started.elapsed());
            match charged {
                Ok(outcome) => {
                    tracing::info!(
                        amount_cents = request.amount_cents,
                        result = result.as_str(),
                        "card charged through the gateway"
                    );
                    Ok(outcome)
                }
                Err(e @ GatewayError::Transient(_)) => {
                    tracing::warn!(error = %e, "the charge failed; it will be tried again");
                    Err(anyhow::Error::from(e).into())
                }
                Err(e @ GatewayError::Permanent(_)) => {
                    tracing::error!(error = %e, "the gateway refused the charge for good");
                    Err(non_retryable(e))
                }
            }
        })
        .await
    }

    /// Records the payment and completes the order.
    #[activity]
    pub async fn complete(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: CompleteInput,
    ) -> Result<Payment, ActivityError> {
        about(&ctx, "complete", input.order_id, async {
            let (payment, fresh) = store::complete(
                &self.db,
                input.order_id,
                &input.charge_id,
                input.amount_cents,
                &self.currency,
                input.request_id.as_ref(),
            )
            .await?;
            if fresh {
                self.metrics.order_finished(OrderOutcome::Complete);
                tracing::info!(payment_id = %payment.payment_id, "order paid and complete");
            }
            Ok(payment)
        })
        .await
    }

    /// Cancels the order and frees its ticket if it still holds it; answers the status after.
    #[activity]
    pub async fn cancel(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: CancelInput,
    ) -> Result<Status, ActivityError> {
        about(&ctx, "cancel", input.order_id, async {
            let (status, cancelled) = store::cancel(&self.db, input.order_id, input.reason).await?;
            if cancelled {
                self.metrics.order_finished(outcome_of(input.reason));
                tracing::info!(reason = %input.reason, "order cancelled and its ticket freed");
            }
            Ok(status)
        })
        .await
    }
}
