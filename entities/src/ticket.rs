//! A ticket for sale. `order_id` is set while an order holds it; `version` grows by one on every
//! change and every write is conditional on the version it read.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    /// Integer cents.
    pub price_cents: i64,
    pub user_id: Uuid,
    pub version: i32,
    pub order_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Appends the event `kind` of this change (the record as it is now) to the outbox, in the
    /// caller's transaction.
    pub async fn append_event(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        kind: &str,
    ) -> Result<(), DbErr> {
        crate::event::append(db, kind, self.id, self.version, self.event_payload()).await
    }

    /// The ticket as its outbox events carry it: the record after the change.
    pub fn event_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "priceCents": self.price_cents,
            "userId": self.user_id,
            "version": self.version,
            "orderId": self.order_id,
        })
    }
}
