//! How orders look in answers: their status and reason, times as ISO-8601, money as a price with
//! its integer cents and currency, and, once paid, the payment (the receipt); and the live state
//! of an order's workflow.

use entities::{Money, order, payment, ticket};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    values::{Currency, Price, Timestamp},
    words::{OrderStatus, WorkflowStatus},
};

/// Why a cancelled order was cancelled (absent from an order that is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum, Serialize, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
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

// The ticket of an order, at the price the order captured.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct OrderTicketJson {
    pub id: Uuid,
    pub title: String,
    /// The price captured when the order was made.
    pub price: Price,
    /// The same in the currency's minor unit (cents).
    pub price_cents: i64,
    pub currency: Currency,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct OrderJson {
    pub id: Uuid,
    /// The buyer.
    pub user_id: Uuid,
    pub status: OrderStatus,
    /// When an unpaid order expires.
    pub expires_at: Timestamp,
    // Why a cancelled order was cancelled; absent otherwise. (No doc comment: poem-openapi would
    // wrap the enum's $ref in an allOf, which some client generators cannot take.)
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
    pub version: i32,
    pub ticket: OrderTicketJson,
    /// When the order was made.
    pub created_at: Timestamp,
    /// When it last changed (paid, cancelled, expired).
    pub updated_at: Timestamp,
    // The payment, once the order is paid: its receipt (no doc comment: see `cancelReason`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<OrderPaymentJson>,
}

/// The payment of a paid order: what a receipt shows.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct OrderPaymentJson {
    pub id: Uuid,
    /// The payment provider's reference of the charge.
    pub charge_id: String,
    /// The amount charged.
    pub price: Price,
    pub price_cents: i64,
    pub currency: Currency,
    /// When it was charged.
    pub paid_at: Timestamp,
}

impl OrderJson {
    /// The order as the API shows it, with its ticket (when it still exists) and payment.
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

// Where an order's workflow is, live.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStateJson {
    pub workflow_id: String,
    pub run_id: String,
    pub status: WorkflowStatus,
    /// When the order expires unless paid; absent before the ticket is reserved.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Seconds until the order expires; 0 once it is paid, cancelled or expired.
    pub seconds_left: i64,
    // Why it was cancelled, as in the order (no doc comment: see `OrderJson`).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Uuid>,
}
