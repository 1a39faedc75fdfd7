//! Why the order lifecycle refuses a request, defined once: the workflow refuses with a
//! [`Refusal`], the API answers with its [`message`](Refusal::message) (the contract's words), and
//! between the two it travels as the Temporal failure's type, never as text to compare.

use serde::{Deserialize, Serialize};
use temporalio_common::{
    error::ApplicationFailure,
    protos::temporal::api::failure::v1::{Failure, failure::FailureInfo},
};

use entities::order::{CancelReason, Status};

/// A request the order's state does not allow. Each is a 400 with [`Refusal::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Refusal {
    /// A payment without a card token.
    TokenRequired,
    /// A payment for an order that is paid already.
    AlreadyPaid,
    /// A payment after the order's window closed.
    Expired,
    /// A payment for a cancelled order.
    Cancelled,
    /// A second payment while one is being charged.
    BeingPaid,
    /// A payment before the reservation is decided, or for a rejected one.
    NotOpenForPayment,
    /// Cancelling a paid order.
    CannotCancelCompleted,
    /// Cancelling while a payment is being charged.
    CannotCancelWhilePaying,
    /// Cancelling before the reservation is decided, or a rejected one.
    NotOpen,
    /// Ordering one's own ticket.
    OwnTicket,
    /// Ordering a ticket another order holds.
    TicketTaken,
    /// Ordering a ticket its seller took off sale.
    Withdrawn,
}

impl Refusal {
    const ALL: [Refusal; 12] = [
        Refusal::TokenRequired,
        Refusal::AlreadyPaid,
        Refusal::Expired,
        Refusal::Cancelled,
        Refusal::BeingPaid,
        Refusal::NotOpenForPayment,
        Refusal::CannotCancelCompleted,
        Refusal::CannotCancelWhilePaying,
        Refusal::NotOpen,
        Refusal::OwnTicket,
        Refusal::TicketTaken,
        Refusal::Withdrawn,
    ];

    /// The contract's words for it.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::TokenRequired => "Token is required",
            Refusal::AlreadyPaid => "Order has already been paid",
            Refusal::Expired => "Order has expired",
            Refusal::Cancelled => "Cannot pay for a cancelled order",
            Refusal::BeingPaid => "Order is already being paid",
            Refusal::NotOpenForPayment => "Order is not open for payment",
            Refusal::CannotCancelCompleted => "Cannot cancel a completed order",
            Refusal::CannotCancelWhilePaying => "Cannot cancel an order while it is being paid",
            Refusal::NotOpen => "Order is not open",
            Refusal::OwnTicket => "You cannot buy your own ticket",
            Refusal::TicketTaken => "Ticket is already reserved",
            Refusal::Withdrawn => "Ticket is no longer for sale: its seller took it off sale",
        }
    }

    /// Its Temporal failure type (`ApplicationFailureInfo.type`): `OrderRefusal.<variant>`.
    fn failure_type(self) -> String {
        format!("{FAILURE_TYPE_PREFIX}{self:?}")
    }

    /// Why a payment cannot be taken for an order the database holds in `status`; `None` when it
    /// is open (the workflow then decides).
    pub fn to_pay(status: Status, reason: Option<CancelReason>) -> Option<Refusal> {
        match status {
            Status::Complete => Some(Refusal::AlreadyPaid),
            Status::Cancelled if reason == Some(CancelReason::Expired) => Some(Refusal::Expired),
            Status::Cancelled => Some(Refusal::Cancelled),
            Status::Created | Status::AwaitingPayment => None,
        }
    }

    /// The refusal a failed update carries, if it is one (its failure's type, or its cause's).
    pub fn of_failure(failure: &Failure) -> Option<Refusal> {
        failure_types(failure).find_map(|kind| {
            Refusal::ALL
                .into_iter()
                .find(|refusal| refusal.failure_type() == kind)
        })
    }

    /// The refusal as an update handler's or validator's error.
    pub(crate) fn into_error(self) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(Typed::new(self.message().to_owned(), self.failure_type()))
    }
}

/// Prefix of the failure types of refusals.
const FAILURE_TYPE_PREFIX: &str = "OrderRefusal.";

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// The failure type of a payment attempt that got no answer from the payment provider (nothing
/// was charged): a fault, not a refusal.
const PAYMENT_NOT_PROCESSED: &str = "PaymentNotProcessed";

/// The `pay` handler's error when the provider gave no answer (nothing was charged).
pub(crate) fn payment_not_processed(
    detail: impl std::fmt::Display,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(Typed::new(
        format!("the payment could not be processed: {detail}"),
        PAYMENT_NOT_PROCESSED.to_owned(),
    ))
}

/// Whether a failed update is a payment the provider never answered.
pub fn is_payment_not_processed(failure: &Failure) -> bool {
    failure_types(failure).any(|kind| kind == PAYMENT_NOT_PROCESSED)
}

/// The application failure types of a failure and its causes, outermost first.
fn failure_types(failure: &Failure) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(failure), |f| f.cause.as_deref()).filter_map(|f| {
        match &f.failure_info {
            Some(FailureInfo::ApplicationFailureInfo(info)) => Some(info.r#type.as_str()),
            _ => None,
        }
    })
}

/// An error with a Temporal failure type. The SDK wraps whatever a handler returns in a failure
/// of its own (whose type is empty) and encodes the wrapped error's source as that failure's
/// cause, so the typed failure is this error's source: it arrives as the cause.
#[derive(Debug)]
struct Typed {
    message: String,
    typed: ApplicationFailure,
}

impl Typed {
    fn new(message: String, kind: String) -> Self {
        Typed {
            typed: ApplicationFailure::builder(message.clone())
                .type_name(kind)
                .non_retryable(true)
                .build(),
            message,
        }
    }
}

impl std::fmt::Display for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Typed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_message_and_type() {
        let messages: std::collections::HashSet<_> =
            Refusal::ALL.iter().map(|r| r.message()).collect();
        assert_eq!(messages.len(), Refusal::ALL.len());
        for refusal in Refusal::ALL {
            let failure = Failure {
                message: "wrapped".into(),
                cause: Some(Box::new(Failure {
                    message: refusal.message().into(),
                    failure_info: Some(FailureInfo::ApplicationFailureInfo(
                        temporalio_common::protos::temporal::api::failure::v1::ApplicationFailureInfo {
                            r#type: refusal.failure_type(),
                            ..Default::default()
                        },
                    )),
                    ..Default::default()
                })),
                ..Default::default()
            };
            assert_eq!(Refusal::of_failure(&failure), Some(refusal));
        }
        assert_eq!(Refusal::of_failure(&Failure::default()), None);
    }
}
