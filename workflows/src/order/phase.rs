//! Where an order's workflow is ([`Phase`]): its label (the `OrderStatus` search attribute), its
//! outcome once it ended, and what the Temporal UI says of it.

use activities::order::{CancelReason, Status};
use chrono::{DateTime, Utc};
use entities::order::WorkflowPhase;

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

    /// Where the workflow is, as everyone outside sees it (the `state` query, the `OrderStatus`
    /// search attribute, the API's `WorkflowStatus`).
    pub(super) fn public(self) -> WorkflowPhase {
        match self {
            Phase::Reserving => WorkflowPhase::Reserving,
            Phase::Rejected => WorkflowPhase::Rejected,
            Phase::Created => WorkflowPhase::Order(Status::Created),
            Phase::AwaitingPayment => WorkflowPhase::Order(Status::AwaitingPayment),
            // Being cancelled is, for everyone outside, already cancelled.
            Phase::Cancelling(_) | Phase::Cancelled(_) => WorkflowPhase::Order(Status::Cancelled),
            Phase::Complete => WorkflowPhase::Order(Status::Complete),
        }
    }

    /// The words of [`Phase::public`].
    pub(super) fn label(self) -> &'static str {
        self.public().as_str()
    }
}
