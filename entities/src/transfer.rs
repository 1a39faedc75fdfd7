//! A ticket given by its holder to another user: from whom, to whom, and the generation of the
//! holding it made (whose code the receiver shows). Never changed once written; both sides read
//! their history from it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The held ticket (the first listing's id, as the holding keeps it).
    pub ticket_id: Uuid,
    /// The receiver's generation.
    pub generation: i32,
    pub from_user_id: Uuid,
    pub to_user_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
