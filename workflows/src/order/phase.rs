//! Where an order's workflow is ([`Phase`]), and how a move to a phase is published: the
//! `OrderStatus` search attribute (with `ExpiresAt` and `OrderOutcome`) and the current details
//! the Temporal UI shows.

use activities::types::{CancelReason, Status};
use chrono::{DateTime, Utc};
use temporalio_sdk::WorkflowContext;

use super::OrderWorkflow;
use crate::search_attributes::{EXPIRES_AT, ORDER_OUTCOME, ORDER_STATUS};

/// Where the order is; finer than [`Status`] so that handlers can tell work in flight apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Phase {
    #[default]
    Reserving,
    Rejected,
    Created,
    AwaitingPayment,
    Cancelling(CancelReason),
    Cancelled(CancelReason),
    Complete,
}

impl Phase {
    pub(super) fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Rejected | Phase::Cancelled(_) | Phase::Complete
        )
    }

    /// How an order that ended in this phase ended (the `OrderOutcome` search attribute).
    pub(super) fn outcome(self) -> Option<telemetry::OrderOutcome> {
        match self {
            Phase::Rejected => Some(telemetry::OrderOutcome::Rejected),
            Phase::Complete => Some(telemetry::OrderOutcome::Complete),
            Phase::Cancelled(reason) => Some(activities::outcome_of(reason)),
            _ => None,
        }
    }

    /// What the workflow is doing in this phase, for the Temporal UI ("current details").
    pub(super) fn details(self, expires_at: Option<DateTime<Utc>>) -> String {
        match self {
            Phase::Reserving => "Reserving the ticket.".to_owned(),
            Phase::Created => match expires_at {
                Some(at) => format!(
                    "Waiting for the buyer to pay (or cancel) until the order expires at {}.",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                None => "Waiting for the buyer to pay (or cancel).".to_owned(),
            },
            Phase::AwaitingPayment => {
                "Charging the card; the order can no longer expire.".to_owned()
            }
            Phase::Cancelling(reason) => {
                format!("Cancelling the order ({reason}) and freeing its ticket.")
            }
            Phase::Rejected => "Ended: the reservation was refused (no order was made).".to_owned(),
            Phase::Cancelled(reason) => format!(
                "Ended: {}; the ticket is free again.",
                match reason {
                    CancelReason::Expired => "expired unpaid",
                    CancelReason::Declined => "the card was declined",
                    CancelReason::Cancelled => "cancelled by the buyer",
                    CancelReason::Operator => "cancelled by an operator",
                }
            ),
            Phase::Complete => "Ended: paid; the ticket is sold.".to_owned(),
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Phase::Reserving => "reserving",
            Phase::Rejected => "rejected",
            Phase::Created => Status::Created.as_str(),
            Phase::AwaitingPayment => Status::AwaitingPayment.as_str(),
            // Being cancelled is, for everyone outside, already cancelled.
            Phase::Cancelling(_) | Phase::Cancelled(_) => Status::Cancelled.as_str(),
            Phase::Complete => Status::Complete.as_str(),
        }
    }
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
