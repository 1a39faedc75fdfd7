//! An `Idempotency-Key` a buyer sent with an order or a payment: the request it came with (a
//! fingerprint), the order it is about, and the answer once it was decided (JSON, read by the API).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The client's key, unique per buyer.
    pub key: String,
    /// A fingerprint of the request: its operation and fields (hashed).
    pub request: String,
    /// The order made (or attempted) under the key, or the one paid for.
    pub order_id: Uuid,
    /// The decided answer; `None` while the request is in flight (or its process died).
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
