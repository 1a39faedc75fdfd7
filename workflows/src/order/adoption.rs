//! Catching up with the database: a step whose workflow task was lost has run all the same, so
//! the workflow reads what the database holds of its order and takes it on (the patch
//! `decided-by-database`, and the `sync` signal; see `docs/failure-modes.md`).

use activities::{
    OrderActivities,
    order::{CancelReason, OrderFacts, Status},
};
use temporalio_common::error::ActivityExecutionError;
use temporalio_sdk::WorkflowContext;
use uuid::Uuid;

use super::{
    phase::Phase,
    state::{OrderWorkflow, enter},
    steps::database_step,
};

/// Reads what the database holds of the order.
pub(super) async fn observe(
    ctx: &WorkflowContext<OrderWorkflow>,
    order_id: Uuid,
) -> Result<OrderFacts, ActivityExecutionError> {
    database_step(ctx, OrderActivities::observe, order_id, "read the order").await
}

/// Takes on an order's end that the database holds (written by an attempt whose workflow task was
/// lost): its payment, or its cancellation. Returns whether the order has ended there.
pub(super) fn adopt(ctx: &WorkflowContext<OrderWorkflow>, facts: &OrderFacts) -> bool {
    match (facts.status, &facts.payment) {
        (Status::Complete, payment) => {
            let payment_id = payment.as_ref().map(|p| p.payment_id);
            ctx.state_mut(|s| s.payment_id = s.payment_id.or(payment_id));
            if ctx.state(|s| s.phase) != Phase::Complete {
                enter(ctx, Phase::Complete);
            }
            true
        }
        (Status::Cancelled, _) => {
            let reason = facts.cancel_reason.unwrap_or(CancelReason::Operator);
            if ctx.state(|s| !s.phase.is_final()) {
                enter(ctx, Phase::Cancelled(reason));
            }
            true
        }
        (Status::Created | Status::AwaitingPayment, _) => false,
    }
}
