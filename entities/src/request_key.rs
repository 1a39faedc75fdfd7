//! The `Idempotency-Key` of a write decided in one database transaction (a transfer, a sell-on, a
//! withdrawal): written in that transaction with the answer, so that a retry with the same key
//! gets the same answer and the write happens once. A refusal writes nothing, so it is not kept:
//! a retry of a refused request is asked again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// A fingerprint of the request: its operation and fields (hashed).
    pub request: String,
    /// The answer's body (JSON, read by the API).
    #[sea_orm(column_type = "Text")]
    pub answer: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
