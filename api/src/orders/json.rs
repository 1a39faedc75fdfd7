//! How orders look in answers: their statuses and reasons as enums, times as ISO-8601, money
//! as a price with its integer cents and currency, and, once paid, the payment (the receipt).

use entities::{Money, order, payment, ticket};
use poem_openapi::Object;
use uuid::Uuid;

use crate::json::{Currency, Price, Timestamp};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
pub enum OrderStatus {
    /// Holding its ticket, waiting for payment (or expiry).
    #[oai(rename = "created")]
    Created,
    /// Being paid: it can no longer expire.
    #[oai(rename = "awaiting:payment")]
    AwaitingPayment,
    /// Cancelled (see `cancelReason`); the ticket is free again.
    #[oai(rename = "cancelled")]
    Cancelled,
    /// Paid; the ticket is sold.
    #[oai(rename = "complete")]
    Complete,
}

impl From<order::Status> for OrderStatus {
    fn from(status: order::Status) -> Self {
        match status {
            order::Status::Created => OrderStatus::Created,
            order::Status::AwaitingPayment => OrderStatus::AwaitingPayment,
            order::Status::Cancelled => OrderStatus::Cancelled,
            order::Status::Complete => OrderStatus::Complete,
        }
    }
}

/// Why a cancelled order was cancelled (absent from an order that is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum CancelReason {
    /// The buyer cancelled it.
    Buyer,
    /// It was not paid in time.
    Expired,
    /// The card was declined.
    Declined,
    /// Support (an operator) cancelled it.
    Operator,
}

impl From<order::CancelReason> for CancelReason {
    fn from(reason: order::CancelReason) -> Self {
        match reason {
            order::CancelReason::Cancelled => CancelReason::Buyer,
            order::CancelReason::Expired => CancelReason::Expired,
            order::CancelReason::Declined => CancelReason::Declined,
            order::CancelReason::Operator => CancelReason::Operator,
        }
    }
}

/// Where an order's workflow is: an order status, or before it (`reserving`) or instead of one
/// (`rejected`: the reservation was refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
pub enum WorkflowStatus {
    #[oai(rename = "reserving")]
    Reserving,
    #[oai(rename = "rejected")]
    Rejected,
    #[oai(rename = "created")]
    Created,
    #[oai(rename = "awaiting:payment")]
    AwaitingPayment,
    #[oai(rename = "cancelled")]
    Cancelled,
    #[oai(rename = "complete")]
    Complete,
}

impl WorkflowStatus {
    pub fn of(label: &str) -> Option<Self> {
        Some(match label {
            "reserving" => WorkflowStatus::Reserving,
            "rejected" => WorkflowStatus::Rejected,
            "created" => WorkflowStatus::Created,
            "awaiting:payment" => WorkflowStatus::AwaitingPayment,
            "cancelled" => WorkflowStatus::Cancelled,
            "complete" => WorkflowStatus::Complete,
            _ => return None,
        })
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct OrderTicketJson {
    id: Uuid,
    title: String,
    /// The price captured when the order was made.
    price: Price,
    /// The same in the currency's minor unit (cents).
    price_cents: i64,
    currency: Currency,
    version: i32,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct OrderJson {
    id: Uuid,
    /// The buyer.
    user_id: Uuid,
    status: OrderStatus,
    /// When an unpaid order expires.
    expires_at: Timestamp,
    // Why a cancelled order was cancelled; absent otherwise. (No doc comment: poem-openapi would
    // wrap the enum's $ref in an allOf, which some client generators cannot take.)
    #[oai(skip_serializing_if_is_none)]
    cancel_reason: Option<CancelReason>,
    version: i32,
    ticket: OrderTicketJson,
    /// When the order was made.
    created_at: Timestamp,
    /// When it last changed (paid, cancelled, expired).
    updated_at: Timestamp,
    // The payment, once the order is paid: its receipt (no doc comment: see `cancelReason`).
    #[oai(skip_serializing_if_is_none)]
    payment: Option<OrderPaymentJson>,
}

/// The payment of a paid order: what a receipt shows.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct OrderPaymentJson {
    id: Uuid,
    /// The payment provider's reference of the charge.
    charge_id: String,
    /// The amount charged.
    price: Price,
    price_cents: i64,
    currency: Currency,
    /// When it was charged.
    paid_at: Timestamp,
}

impl OrderJson {
    pub fn new(
        (order, ticket, payment): (order::Model, Option<ticket::Model>, Option<payment::Model>),
        currency: &Currency,
    ) -> Self {
        let (title, version) = ticket.map(|t| (t.title, t.version)).unwrap_or_default();
        OrderJson {
            created_at: Timestamp(order.created_at),
            updated_at: Timestamp(order.updated_at),
            payment: payment.map(|p| OrderPaymentJson {
                id: p.id,
                charge_id: p.charge_id,
                price: Price(Money::from_cents(p.amount_cents)),
                price_cents: p.amount_cents,
                currency: Currency(p.currency),
                paid_at: Timestamp(p.created_at),
            }),
            id: order.id,
            user_id: order.user_id,
            status: order.status.into(),
            expires_at: Timestamp(order.expires_at),
            cancel_reason: order.cancel_reason.map(Into::into),
            version: order.version,
            ticket: OrderTicketJson {
                id: order.ticket_id,
                title,
                price: Price(Money::from_cents(order.price_cents)),
                price_cents: order.price_cents,
                currency: currency.clone(),
                version,
            },
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct WorkflowStateJson {
    pub workflow_id: String,
    pub run_id: String,
    pub status: WorkflowStatus,
    /// When the order expires unless paid; absent before the ticket is reserved.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<Timestamp>,
    /// Seconds until the order expires; 0 once it is paid, cancelled or expired.
    pub seconds_left: i64,
    // Why it was cancelled, as in the order (no doc comment: see `OrderJson`).
    #[oai(skip_serializing_if_is_none)]
    pub cancel_reason: Option<CancelReason>,
    #[oai(skip_serializing_if_is_none)]
    pub payment_id: Option<Uuid>,
}
