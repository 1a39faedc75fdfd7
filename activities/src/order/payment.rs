//! Paying for an order: begin the payment (`created` → `awaiting:payment`, after which the
//! expiry timer cannot cancel the order), charge the card through the [`PaymentGateway`], and
//! reopen the order (`awaiting:payment` → `created`) after an attempt that charged nothing. The
//! `mark_awaiting_payment`, `begin_payment`, `charge` and `reopen` activities, their database
//! work, and what they exchange with the workflow. Recording the payment is the next step
//! ([`super::complete`]).
//!
//! [`PaymentGateway`]: crate::gateway::PaymentGateway

use std::time::Instant;

use entities::order::Status;
use sea_orm::{DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};
use telemetry::ChargeResult;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use super::{
    context::{OrderActivities, about, non_retryable},
    facts::{OrderFacts, facts_of},
    row::set_status,
};
use crate::gateway::{ChargeOutcome, ChargeRequest, GatewayError};

/// What the workflow asks `charge` for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeInput {
    pub order_id: Uuid,
    /// Sent to the provider so that a retried charge is never charged twice.
    pub idempotency_key: String,
    pub amount_cents: i64,
    pub token: String,
}

/// The `mark_awaiting_payment` activity: `created` → `awaiting:payment` (see
/// [`mark_order_awaiting_payment`]).
pub(super) async fn mark_awaiting_payment(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    order_id: Uuid,
) -> Result<(), ActivityError> {
    about(ctx, "mark awaiting payment", order_id, async {
        Ok(mark_order_awaiting_payment(&activities.db, order_id).await?)
    })
    .await
}

/// The `begin_payment` activity: `created` → `awaiting:payment`, answering what the database
/// holds afterwards (a payment or cancellation by an attempt whose workflow task was lost shows
/// here; see [`begin_order_payment`]).
pub(super) async fn begin_payment(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    order_id: Uuid,
) -> Result<OrderFacts, ActivityError> {
    about(ctx, "begin payment", order_id, async {
        let facts = begin_order_payment(&activities.db, order_id).await?;
        if facts.status != Status::AwaitingPayment {
            tracing::warn!(status = %facts.status, "the order was settled by an earlier attempt; the workflow adopts it");
        }
        Ok(facts)
    })
    .await
}

/// The `charge` activity: charges the order's price through the gateway; the idempotency key
/// makes a retried charge a no-op at the provider. Counts the charge by result; a refusal no
/// retry can change is a non-retryable failure.
pub(super) async fn charge(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    input: ChargeInput,
) -> Result<ChargeOutcome, ActivityError> {
    let order_id = input.order_id;
    let request = ChargeRequest {
        idempotency_key: input.idempotency_key,
        amount_cents: input.amount_cents,
        currency: activities.currency.clone(),
        token: input.token,
        description: format!("ticketing order {order_id}"),
    };
    about(ctx, "charge", order_id, async {
        let started = Instant::now();
        let charged = activities.gateway.charge(&request).await;
        let result = match &charged {
            Ok(ChargeOutcome::Charged { .. }) => ChargeResult::Charged,
            Ok(ChargeOutcome::Declined { .. }) => ChargeResult::Declined,
            Ok(ChargeOutcome::Invalid { .. }) => ChargeResult::Invalid,
            Err(GatewayError::Transient(_)) => ChargeResult::Transient,
            Err(GatewayError::Permanent(_)) => ChargeResult::Permanent,
        };
        activities.metrics.charge(result, started.elapsed());
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

/// The `reopen` activity: `awaiting:payment` → `created`, after an attempt that charged nothing
/// (see [`reopen_order`]).
pub(super) async fn reopen(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    order_id: Uuid,
) -> Result<(), ActivityError> {
    about(ctx, "reopen", order_id, async {
        reopen_order(&activities.db, order_id).await?;
        tracing::info!("order open again after a payment that charged nothing");
        Ok(())
    })
    .await
}

/// `created` → `awaiting:payment`: from now on the timer cannot cancel the order.
pub async fn mark_order_awaiting_payment(
    db: &DatabaseConnection,
    order_id: Uuid,
) -> Result<(), DbErr> {
    set_status(db, order_id, Status::Created, Status::AwaitingPayment)
        .await
        .map(|_| ())
}

/// `created` → `awaiting:payment` as [`mark_order_awaiting_payment`], answering what the
/// database holds afterwards: `awaiting:payment` when the payment may go ahead; `complete` or
/// `cancelled` when an attempt whose workflow task was lost already paid or cancelled the order.
pub async fn begin_order_payment(
    db: &DatabaseConnection,
    order_id: Uuid,
) -> Result<OrderFacts, DbErr> {
    let order = set_status(db, order_id, Status::Created, Status::AwaitingPayment).await?;
    facts_of(db, &order).await
}

/// `awaiting:payment` → `created`, after a payment attempt that charged nothing.
pub async fn reopen_order(db: &DatabaseConnection, order_id: Uuid) -> Result<(), DbErr> {
    set_status(db, order_id, Status::AwaitingPayment, Status::Created)
        .await
        .map(|_| ())
}
