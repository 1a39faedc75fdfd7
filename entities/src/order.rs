//! An order: a buyer's hold on a ticket, owned by its `OrderWorkflow`. `price_cents` is the ticket's
//! price when the order was made. `version` grows by one on every change.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The buyer.
    pub user_id: Uuid,
    pub ticket_id: Uuid,
    /// One of [`Status`], as text.
    pub status: String,
    /// Why a cancelled order was cancelled, as text: one of [`CancelReason`].
    pub cancel_reason: Option<String>,
    /// Integer cents, captured when the order was made.
    pub price_cents: i64,
    pub expires_at: DateTimeUtc,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The order as its outbox events carry it: the record after the change.
    pub fn event_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "userId": self.user_id,
            "ticketId": self.ticket_id,
            "status": self.status,
            "cancelReason": self.cancel_reason,
            "priceCents": self.price_cents,
            "expiresAt": self.expires_at,
            "version": self.version,
        })
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Created)
    }

    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.cancel_reason.as_deref().and_then(CancelReason::parse)
    }
}

/// Where an order is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// Holding the ticket, waiting for payment or expiry.
    #[serde(rename = "created")]
    Created,
    /// A payment is being charged; the timer can no longer cancel the order.
    #[serde(rename = "awaiting:payment")]
    AwaitingPayment,
    /// Cancelled (by the buyer, by expiry, or by a declined card); the ticket is free again.
    #[serde(rename = "cancelled")]
    Cancelled,
    /// Paid.
    #[serde(rename = "complete")]
    Complete,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::AwaitingPayment => "awaiting:payment",
            Status::Cancelled => "cancelled",
            Status::Complete => "complete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Created,
            Status::AwaitingPayment,
            Status::Cancelled,
            Status::Complete,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Why an order was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancelReason {
    /// The buyer cancelled it.
    Cancelled,
    /// Its window ran out before it was paid.
    Expired,
    /// The card was declined.
    Declined,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Cancelled => "cancelled",
            CancelReason::Expired => "expired",
            CancelReason::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            CancelReason::Cancelled,
            CancelReason::Expired,
            CancelReason::Declined,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}
