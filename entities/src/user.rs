//! A user account. `email` is as the user typed it; `email_key` (its lowercase) is unique.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    #[sea_orm(unique)]
    pub email_key: String,
    /// An Argon2id PHC string; never leaves the server.
    pub password_hash: String,
    /// Raised by every sign-out: a session token carries the version it was issued at, and one
    /// issued before the user's last sign-out is refused.
    pub session_version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
