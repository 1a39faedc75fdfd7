//! A payment: at most one per order (a unique constraint on `order_id`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub order_id: Uuid,
    /// The payment provider's id of the charge.
    pub charge_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub created_at: DateTimeUtc,
    /// The pay request that made it (the `pay` update's id); `None` for payments recorded
    /// before requests were.
    pub request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
