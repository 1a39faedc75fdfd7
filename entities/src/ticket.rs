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
    /// For a listing made by "sell on": the ticket whose holding it sells (the first listing,
    /// whose id the holding and its codes keep). `None` for a first listing.
    pub resale_of: Option<Uuid>,
    /// When its seller took it off sale; `None` while it is (or was) on sale.
    pub withdrawn_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The ticket whose holding this listing sells: itself for a first listing.
    pub fn held_ticket(&self) -> Uuid {
        self.resale_of.unwrap_or(self.id)
    }

    /// Writes this ticket (title, price, holder, version, time) over the row if the row is still
    /// as `read` saw it: at its version, free and on sale. `false` when someone changed, reserved
    /// or withdrew it since (nothing is written then).
    pub async fn write_over_free(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        read: &Model,
    ) -> Result<bool, DbErr> {
        use sea_orm::{QueryFilter, sea_query::Expr};
        let result = Entity::update_many()
            .col_expr(Column::Title, Expr::value(self.title.clone()))
            .col_expr(Column::PriceCents, Expr::value(self.price_cents))
            .col_expr(Column::OrderId, Expr::value(self.order_id))
            .col_expr(Column::Version, Expr::value(self.version))
            .col_expr(Column::UpdatedAt, Expr::value(self.updated_at))
            .filter(Column::Id.eq(read.id))
            .filter(Column::Version.eq(read.version))
            .filter(Column::OrderId.is_null())
            .filter(Column::WithdrawnAt.is_null())
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

impl crate::event::Record for Model {
    fn id_and_version(&self) -> (Uuid, i32) {
        (self.id, self.version)
    }

    /// The ticket as its outbox events carry it: the record after the change.
    fn event_payload(&self) -> serde_json::Value {
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
