//! A ticket checked in at the door: at most one per (ticket, generation), so the first scan of a
//! code wins, however many doors scan it at once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub generation: i32,
    /// The door staff who scanned it.
    pub door_user_id: Uuid,
    pub checked_in_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl crate::event::Record for Model {
    fn id_and_version(&self) -> (Uuid, i32) {
        (self.ticket_id, self.generation)
    }

    fn event_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "ticketId": self.ticket_id,
            "generation": self.generation,
            "checkedInAt": self.checked_in_at,
        })
    }
}
