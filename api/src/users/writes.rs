//! The account's writes: a new account.

use entities::{Email, user};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, SqlErr};
use uuid::Uuid;

use crate::error::ApiError;

/// Inserts a user; `Ok(None)` when the email (compared case-insensitively) is taken.
pub async fn insert(
    db: &DatabaseConnection,
    email: &Email,
    password_hash: String,
) -> Result<Option<user::Model>, ApiError> {
    let row = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(email.as_str().to_owned()),
        email_key: Set(email.key()),
        password_hash: Set(password_hash),
        session_version: Set(0),
        created_at: Set(entities::now()),
    };
    match user::Entity::insert(row).exec_with_returning(db).await {
        Ok(user) => Ok(Some(user)),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
