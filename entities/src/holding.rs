//! Who holds a ticket: its lister until a sale completes, then its buyer, and so on at every
//! change of hands. `generation` grows by one at each change, so that a ticket code (which names
//! one generation) of an earlier holder is void. `paid_cents` is what the holder paid here: none
//! for a ticket listed by its holder.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holdings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: Uuid,
    /// The holder.
    pub user_id: Uuid,
    /// 1 for the lister; one more at every change of hands.
    pub generation: i32,
    pub paid_cents: Option<i64>,
    /// The order that made this holding, when a sale did.
    pub order_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The first holding of a ticket just listed: its lister, who paid nothing here.
    pub fn listed(ticket_id: Uuid, lister: Uuid, at: DateTimeUtc) -> Model {
        Model {
            ticket_id,
            user_id: lister,
            generation: 1,
            paid_cents: None,
            order_id: None,
            version: 0,
            created_at: at,
            updated_at: at,
        }
    }
}

impl crate::event::Record for Model {
    fn id_and_version(&self) -> (Uuid, i32) {
        (self.ticket_id, self.version)
    }

    /// The holding as its events carry it: the record after the change.
    fn event_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "ticketId": self.ticket_id,
            "holderId": self.user_id,
            "generation": self.generation,
            "paidCents": self.paid_cents,
            "orderId": self.order_id,
            "version": self.version,
        })
    }
}
