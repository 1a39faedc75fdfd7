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
    /// Stored as its text (`created`, `awaiting:payment`, ...); a row with any other text fails to
    /// load with an error that names the value.
    pub status: Status,
    /// Why a cancelled order was cancelled.
    pub cancel_reason: Option<CancelReason>,
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
    /// `created` or `awaiting:payment`: the order holds its ticket and its workflow runs.
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }
}

/// Where an order is in its life. The serde names are the stored texts; they are also part of
/// recorded workflow histories, so they never change.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Status {
    /// Holding the ticket, waiting for payment or expiry.
    #[sea_orm(string_value = "created")]
    #[serde(rename = "created")]
    Created,
    /// A payment is being charged; the timer can no longer cancel the order.
    #[sea_orm(string_value = "awaiting:payment")]
    #[serde(rename = "awaiting:payment")]
    AwaitingPayment,
    /// Cancelled (by the buyer, by expiry, or by a declined card); the ticket is free again.
    #[sea_orm(string_value = "cancelled")]
    #[serde(rename = "cancelled")]
    Cancelled,
    /// Paid.
    #[sea_orm(string_value = "complete")]
    #[serde(rename = "complete")]
    Complete,
}

impl Status {
    /// The stored text, as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::AwaitingPayment => "awaiting:payment",
            Status::Cancelled => "cancelled",
            Status::Complete => "complete",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Status::Created | Status::AwaitingPayment)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an order was cancelled. The serde names are the stored texts and part of recorded
/// workflow histories.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum CancelReason {
    /// The buyer cancelled it.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Its window ran out before it was paid.
    #[sea_orm(string_value = "expired")]
    Expired,
    /// The card was declined.
    #[sea_orm(string_value = "declined")]
    Declined,
    /// An operator cancelled its workflow (the Temporal UI's "Request Cancellation", the CLI).
    #[sea_orm(string_value = "operator")]
    Operator,
}

impl CancelReason {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Cancelled => "cancelled",
            CancelReason::Expired => "expired",
            CancelReason::Declined => "declined",
            CancelReason::Operator => "operator",
        }
    }
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::event::Record for Model {
    fn id_and_version(&self) -> (Uuid, i32) {
        (self.id, self.version)
    }

    /// The order as its outbox events carry it: the record after the change.
    fn event_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "userId": self.user_id,
            "ticketId": self.ticket_id,
            "status": self.status.as_str(),
            "cancelReason": self.cancel_reason.map(CancelReason::as_str),
            "priceCents": self.price_cents,
            "expiresAt": self.expires_at,
            "version": self.version,
        })
    }
}
