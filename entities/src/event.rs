//! The outbox: one row per domain event, written in the same transaction as the change it
//! describes, relayed later (to NATS JetStream when configured).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Grows with every event: the order events were written in.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `ticket:created`, `ticket:updated`, `order:created`, …
    pub kind: String,
    pub aggregate_id: Uuid,
    /// The version of the record after the change.
    pub version: i32,
    pub payload: Json,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The kinds of event, as written in `kind`.
pub mod kind {
    pub const TICKET_CREATED: &str = "ticket:created";
    pub const TICKET_UPDATED: &str = "ticket:updated";
    pub const ORDER_CREATED: &str = "order:created";
    pub const ORDER_CANCELLED: &str = "order:cancelled";
    pub const EXPIRATION_COMPLETE: &str = "expiration:complete";
    pub const PAYMENT_CREATED: &str = "payment:created";
    /// A ticket changed hands (a sale completed, a transfer, a refund): its new holder.
    pub const HOLDING_CHANGED: &str = "holding:changed";
    /// A seller took a listing off sale: the ticket with `withdrawnAt`.
    pub const TICKET_WITHDRAWN: &str = "ticket:withdrawn";
    /// A ticket was checked in at the door.
    pub const CHECKIN_ADMITTED: &str = "checkin:admitted";
}

/// Appends an event to the outbox, in the caller's transaction.
pub async fn append(
    db: &impl sea_orm::ConnectionTrait,
    kind: &str,
    aggregate_id: Uuid,
    version: i32,
    payload: serde_json::Value,
) -> Result<(), DbErr> {
    Entity::insert(new(kind, aggregate_id, version, payload))
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// A record whose every change appends an event to the outbox.
pub trait Record {
    /// The record's id, and its version after the change.
    fn id_and_version(&self) -> (Uuid, i32);
    /// The record as its events carry it.
    fn event_payload(&self) -> serde_json::Value;
}

/// Appends the event `kind` of a change to `record` (as it is after the change), in the caller's
/// transaction.
pub async fn record(
    db: &impl sea_orm::ConnectionTrait,
    kind: &str,
    record: &impl Record,
) -> Result<(), DbErr> {
    let (id, version) = record.id_and_version();
    append(db, kind, id, version, record.event_payload()).await
}

/// A new outbox row (its id is given by the database).
pub fn new(
    kind: &str,
    aggregate_id: Uuid,
    version: i32,
    payload: serde_json::Value,
) -> ActiveModel {
    use sea_orm::ActiveValue::{NotSet, Set};
    ActiveModel {
        id: NotSet,
        kind: Set(kind.to_owned()),
        aggregate_id: Set(aggregate_id),
        version: Set(version),
        payload: Set(payload),
        created_at: Set(crate::now()),
        published_at: Set(None),
    }
}
