//! Cancelling an order (by its buyer, by expiry, by an operator, or after a declined card): when
//! it is refused, and the step that cancels it and frees its ticket.

use activities::{
    OrderActivities,
    order::{CancelInput, CancelReason, Status},
};
use temporalio_sdk::{WorkflowContext, WorkflowResult};
use uuid::Uuid;

use super::{
    adoption::{adopt, observe},
    phase::Phase,
    state::{OrderWorkflow, enter},
    steps::database_step,
};
use crate::refusal::Refusal;

impl OrderWorkflow {
    /// Why the order cannot be cancelled now.
    pub(super) fn cancel_refusal(&self) -> Option<Refusal> {
        match self.phase {
            Phase::Complete => Some(Refusal::CannotCancelCompleted),
            Phase::AwaitingPayment => Some(Refusal::CannotCancelWhilePaying),
            Phase::Reserving | Phase::Rejected => Some(Refusal::NotOpen),
            _ => None,
        }
    }
}

/// Cancels the order for `reason` (the activity frees the ticket if the order still holds it).
pub(super) async fn cancel_order(
    ctx: &WorkflowContext<OrderWorkflow>,
    order_id: Uuid,
    reason: CancelReason,
) -> WorkflowResult<()> {
    enter(ctx, Phase::Cancelling(reason));
    let status = database_step(
        ctx,
        OrderActivities::cancel,
        CancelInput { order_id, reason },
        &format!("cancel order ({reason}), free ticket"),
    )
    .await?;
    if status == Status::Complete {
        if ctx.state(|s| s.by_database && s.payment_id.is_none()) {
            // Paid by an attempt whose workflow task was lost: its payment is the order's.
            let facts = observe(ctx, order_id).await?;
            adopt(ctx, &facts);
        }
        enter(ctx, Phase::Complete);
    } else {
        enter(ctx, Phase::Cancelled(reason));
    }
    Ok(())
}
