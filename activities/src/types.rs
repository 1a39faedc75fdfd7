//! What the order workflow sends its activities and gets back. Business outcomes (a taken ticket,
//! a declined card) are values; only faults are errors.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use entities::order::{CancelReason, Status};

pub use crate::gateway::ChargeOutcome;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveInput {
    pub order_id: Uuid,
    pub ticket_id: Uuid,
    pub buyer_id: Uuid,
    pub expires_at: DateTime<Utc>,
    /// A reservation attempted after this is refused ([`ReserveOutcome::TooLate`]): the API has
    /// stopped waiting for it. Absent in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_by: Option<DateTime<Utc>>,
}

/// The outcome of a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReserveOutcome {
    Reserved(Reservation),
    /// No such ticket (404).
    TicketNotFound,
    /// The buyer is the ticket's seller (400).
    OwnTicket,
    /// Another order holds the ticket (400).
    TicketTaken,
    /// Attempted after the request's deadline: nothing was reserved, and the API answered (or
    /// will answer) that the order was not made.
    TooLate,
}

/// A ticket held by an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub order_id: Uuid,
    pub ticket_id: Uuid,
    pub buyer_id: Uuid,
    pub title: String,
    /// The price when the order was made, in integer cents.
    pub price_cents: i64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelInput {
    pub order_id: Uuid,
    pub reason: CancelReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeInput {
    pub order_id: Uuid,
    /// Sent to the provider so that a retried charge is never charged twice.
    pub idempotency_key: String,
    pub amount_cents: i64,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteInput {
    pub order_id: Uuid,
    pub charge_id: String,
    pub amount_cents: i64,
    /// The pay request that charged (the `pay` update's id), recorded with the payment. Absent
    /// in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// The id of one request to pay an order (the `pay` update's id): the same for every retry of
/// that request, different for every other request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub String);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A recorded payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: Uuid,
    pub charge_id: String,
    /// The pay request that made it; `None` for payments recorded before requests were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

impl Payment {
    /// Whether `request` made this payment (and not another request, or a lost attempt of one).
    pub fn made_by(&self, request: Option<&RequestId>) -> bool {
        request.is_some() && self.request_id.as_ref() == request
    }
}

/// What the database holds of an order: what durably happened, whichever attempt of a step
/// (perhaps one whose workflow task was lost) wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFacts {
    pub status: Status,
    pub cancel_reason: Option<CancelReason>,
    pub payment: Option<Payment>,
}
