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

/// Where an order is in its life. Its words ([`Status::as_str`]) are the stored texts, the API's
/// `OrderStatus` and part of recorded workflow histories, so they never change; they are written
/// here and nowhere else.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveValueType,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(
    value_type = "String",
    from_str = "Status::parse",
    to_str = "Status::as_str"
)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Status {
    /// Holding the ticket, waiting for payment or expiry.
    Created,
    /// A payment is being charged; the timer can no longer cancel the order.
    AwaitingPayment,
    /// Cancelled (by the buyer, by expiry, or by a declined card); the ticket is free again.
    Cancelled,
    /// Paid.
    Complete,
}

impl Status {
    /// Every status, in the order of an order's life.
    pub const ALL: [Status; 4] = [
        Status::Created,
        Status::AwaitingPayment,
        Status::Cancelled,
        Status::Complete,
    ];

    /// The stored text, as the API shows it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::AwaitingPayment => "awaiting:payment",
            Status::Cancelled => "cancelled",
            Status::Complete => "complete",
        }
    }

    /// The status of a stored text.
    pub fn parse(text: &str) -> Result<Status, UnknownWord> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownWord::new("order status", text))
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

impl From<Status> for &'static str {
    fn from(status: Status) -> Self {
        status.as_str()
    }
}

impl TryFrom<String> for Status {
    type Error = UnknownWord;

    fn try_from(text: String) -> Result<Self, UnknownWord> {
        Status::parse(&text)
    }
}

/// A stored or sent word that names none of its kind's values (`order status "refunded"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {text:?} is none of the known ones")]
pub struct UnknownWord {
    kind: &'static str,
    text: String,
}

impl UnknownWord {
    pub fn new(kind: &'static str, text: &str) -> Self {
        UnknownWord {
            kind,
            text: text.to_owned(),
        }
    }
}

/// Where an order's workflow is: before its order exists (`reserving`), instead of one
/// (`rejected`: the reservation was refused), or its order's [`Status`]. The workflow answers it,
/// its client reads it and the API shows it (`WorkflowStatus`); the order's words are
/// [`Status`]'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum WorkflowPhase {
    Reserving,
    Rejected,
    Order(Status),
}

impl WorkflowPhase {
    /// Every phase, in the order of a workflow's life.
    pub const ALL: [WorkflowPhase; 6] = [
        WorkflowPhase::Reserving,
        WorkflowPhase::Rejected,
        WorkflowPhase::Order(Status::Created),
        WorkflowPhase::Order(Status::AwaitingPayment),
        WorkflowPhase::Order(Status::Cancelled),
        WorkflowPhase::Order(Status::Complete),
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            WorkflowPhase::Reserving => "reserving",
            WorkflowPhase::Rejected => "rejected",
            WorkflowPhase::Order(status) => status.as_str(),
        }
    }

    pub fn parse(text: &str) -> Result<WorkflowPhase, UnknownWord> {
        WorkflowPhase::ALL
            .into_iter()
            .find(|phase| phase.as_str() == text)
            .ok_or_else(|| UnknownWord::new("workflow phase", text))
    }
}

impl std::fmt::Display for WorkflowPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<WorkflowPhase> for &'static str {
    fn from(phase: WorkflowPhase) -> Self {
        phase.as_str()
    }
}

impl TryFrom<String> for WorkflowPhase {
    type Error = UnknownWord;

    fn try_from(text: String) -> Result<Self, UnknownWord> {
        WorkflowPhase::parse(&text)
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
