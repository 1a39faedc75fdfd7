//! The payment: the `pay` update's input and outcome, when a payment is refused, and how it runs:
//! begin (the order `awaiting:payment`, or what a lost attempt recorded), charge through the
//! gateway once, then record the payment and complete the order, or cancel it (declined), or open
//! it again (nothing charged).

use activities::{
    OrderActivities,
    order::{CancelReason, ChargeInput, ChargeOutcome, CompleteInput, RequestId, ReserveOutcome},
};
use serde::{Deserialize, Serialize};
use temporalio_sdk::{WorkflowContext, WorkflowResult};
use uuid::Uuid;

use super::{
    adoption::adopt,
    cancellation::cancel_order,
    phase::Phase,
    state::{HandlerError, OrderWorkflow, enter},
    steps::{charge, database_step},
};
use crate::refusal::{self, Refusal};

/// The `pay` update's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayInput {
    /// The card token from the client (`tok_visa`, ...).
    pub token: String,
    /// This request's id (the update's id): recorded with the payment it makes, so that the
    /// request is answered by what was recorded. Absent in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// How a payment ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayOutcome {
    /// Charged once and recorded; the order is complete.
    Paid { payment_id: Uuid, charge_id: String },
    /// The card was declined; the order is cancelled and its ticket freed.
    Declined { message: String },
    /// The payment was refused as invalid; nothing was charged and the order is open again.
    Invalid { message: String },
}

impl OrderWorkflow {
    /// Why a payment cannot be taken now.
    pub(super) fn payment_refusal(&self) -> Option<Refusal> {
        match self.phase {
            Phase::Complete => Some(Refusal::AlreadyPaid),
            Phase::Cancelling(CancelReason::Expired) | Phase::Cancelled(CancelReason::Expired) => {
                Some(Refusal::Expired)
            }
            Phase::Cancelling(_) | Phase::Cancelled(_) => Some(Refusal::Cancelled),
            _ if self.expired => Some(Refusal::Expired),
            Phase::AwaitingPayment => Some(Refusal::BeingPaid),
            Phase::Reserving | Phase::Rejected => Some(Refusal::NotOpenForPayment),
            Phase::Created => None,
        }
    }
}

/// The `pay` update: charges the order's price once and completes it; a declined card cancels it.
pub(super) async fn pay(
    ctx: &WorkflowContext<OrderWorkflow>,
    input: PayInput,
) -> Result<PayOutcome, HandlerError> {
    // Checked again here: two payments validated in one activation must not both proceed.
    if let Some(refusal) = ctx.state(|s| s.payment_refusal()) {
        return Err(refusal.into_error());
    }
    enter(ctx, Phase::AwaitingPayment);
    let (reservation, attempt, by_database) =
        ctx.state(|s| (s.reservation.clone(), s.refused_attempts, s.by_database));
    let Some(ReserveOutcome::Reserved(reservation)) = reservation else {
        return Err(Refusal::NotOpenForPayment.into_error());
    };
    let order_id = reservation.order_id;
    if by_database {
        let facts = database_step(
            ctx,
            OrderActivities::begin_payment,
            order_id,
            "mark order as being paid",
        )
        .await?;
        if adopt(ctx, &facts) {
            // Paid or cancelled by an attempt whose workflow task was lost: nothing is
            // charged now. This request is answered by what was recorded.
            return match facts.payment {
                Some(payment) if payment.made_by(input.request_id.as_ref()) => {
                    Ok(PayOutcome::Paid {
                        payment_id: payment.payment_id,
                        charge_id: payment.charge_id,
                    })
                }
                _ => Err(ctx
                    .state(|s| s.payment_refusal())
                    .unwrap_or(Refusal::AlreadyPaid)
                    .into_error()),
            };
        }
    } else {
        database_step(
            ctx,
            OrderActivities::mark_awaiting_payment,
            order_id,
            "mark order as being paid",
        )
        .await?;
    }
    let charged = charge(
        ctx,
        ChargeInput {
            order_id,
            idempotency_key: if attempt == 0 {
                order_id.to_string()
            } else {
                format!("{order_id}-{attempt}")
            },
            amount_cents: reservation.price_cents,
            token: input.token,
        },
    )
    .await;
    match charged {
        Ok(ChargeOutcome::Charged { charge_id }) => {
            let payment = database_step(
                ctx,
                OrderActivities::complete,
                CompleteInput {
                    order_id,
                    charge_id,
                    amount_cents: reservation.price_cents,
                    request_id: input.request_id.clone(),
                },
                "record payment, complete order",
            )
            .await?;
            ctx.state_mut(|s| s.payment_id = Some(payment.payment_id));
            enter(ctx, Phase::Complete);
            Ok(PayOutcome::Paid {
                payment_id: payment.payment_id,
                charge_id: payment.charge_id,
            })
        }
        Ok(ChargeOutcome::Declined { message }) => {
            cancel_order(ctx, order_id, CancelReason::Declined).await?;
            Ok(PayOutcome::Declined { message })
        }
        Ok(ChargeOutcome::Invalid { message }) => {
            reopen(ctx, order_id).await?;
            Ok(PayOutcome::Invalid { message })
        }
        Err(failure) => {
            // Only a non-retryable refusal ends the retries: nothing was charged.
            reopen(ctx, order_id).await?;
            Err(refusal::payment_not_processed(failure))
        }
    }
}

/// Opens the order again after a payment attempt that charged nothing.
async fn reopen(ctx: &WorkflowContext<OrderWorkflow>, order_id: Uuid) -> WorkflowResult<()> {
    database_step(
        ctx,
        OrderActivities::reopen,
        order_id,
        "reopen order (nothing charged)",
    )
    .await?;
    ctx.state_mut(|s| s.refused_attempts += 1);
    enter(ctx, Phase::Created);
    Ok(())
}
