//! The order workflow's state (what its handlers share), how it moves to a phase and publishes it,
//! and the waits and cancellation tokens every part of it uses.

use activities::order::ReserveOutcome;
use chrono::{DateTime, Utc};
use temporalio_macros::workflow;
use temporalio_sdk::{WorkflowContext, WorkflowResult};
use temporalio_workflow::WorkflowCancellationToken;
use uuid::Uuid;

use super::phase::Phase;
use crate::search_attributes::{EXPIRES_AT, ORDER_OUTCOME, ORDER_STATUS};

/// What a fallible update handler answers when it refuses.
pub(super) type HandlerError = Box<dyn std::error::Error + Send + Sync>;

#[workflow]
#[derive(Default)]
pub struct OrderWorkflow {
    pub(super) phase: Phase,
    /// Set once the reservation is decided.
    pub(super) reservation: Option<ReserveOutcome>,
    pub(super) expires_at: Option<DateTime<Utc>>,
    /// The timer has fired.
    pub(super) expired: bool,
    pub(super) payment_id: Option<Uuid>,
    /// Payment attempts that were refused as invalid (nothing charged); each new attempt gets a
    /// new idempotency key, while a retried attempt keeps its own.
    pub(super) refused_attempts: u32,
    /// The steps and waits run under tokens of their own (see [`shield`]).
    pub(super) shielded: bool,
    /// Decisions follow the database (the patch `decided-by-database`).
    pub(super) by_database: bool,
}

/// The cancellation token of one of the order's side effects and waits: since the patch
/// `operator-cancel`, one of its own (never cancelled), so that an operator's cancellation of the
/// workflow lets every step run to its end (a charge in flight finishes) while the race with the
/// timer sees it; `None` (the workflow's own) in histories recorded before.
pub(super) fn shield(ctx: &WorkflowContext<OrderWorkflow>) -> Option<WorkflowCancellationToken> {
    ctx.state(|s| s.shielded)
        .then(WorkflowCancellationToken::new)
}

/// Waits for `condition`, under the steps' token: an operator's cancellation does not cut it.
pub(super) async fn wait(
    ctx: &WorkflowContext<OrderWorkflow>,
    condition: impl FnMut(&OrderWorkflow) -> bool,
) -> WorkflowResult<()> {
    let options = temporalio_workflow::WaitConditionOptions::builder()
        .maybe_cancellation_token(shield(ctx))
        .build();
    ctx.wait_condition_with_options(condition, options).await?;
    Ok(())
}

/// Waits until every update handler has answered, so that none is cut off by the workflow ending.
pub(super) async fn handlers_finished(ctx: &WorkflowContext<OrderWorkflow>) -> WorkflowResult<()> {
    wait(ctx, |_| ctx.all_handlers_finished()).await
}

/// Moves to `phase` and publishes it: the `OrderStatus` search attribute (with `ExpiresAt` once
/// the order holds its ticket, `OrderOutcome` once it ended, in the same one upsert, so the
/// command sequence is as it always was) and the workflow's current details.
pub(super) fn enter(ctx: &WorkflowContext<OrderWorkflow>, phase: Phase) {
    let expires_at = ctx.state_mut(|s| {
        s.phase = phase;
        s.expires_at
    });
    let mut updates = vec![ORDER_STATUS.value_set(phase.label().to_owned())];
    if let (Phase::Created, Some(at)) = (phase, expires_at) {
        updates.push(EXPIRES_AT.value_set(std::time::SystemTime::from(at).into()));
    }
    if let Some(outcome) = phase.outcome() {
        updates.push(ORDER_OUTCOME.value_set(outcome.as_str().to_owned()));
    }
    ctx.upsert_search_attributes(updates);
    ctx.set_current_details(phase.details(expires_at));
}
