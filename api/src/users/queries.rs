//! The account's reads: found by email (compared case-insensitively).

use entities::{Email, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::ApiError;

pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &Email,
) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::EmailKey.eq(email.key()))
        .one(db)
        .await?)
}

pub async fn email_taken(db: &DatabaseConnection, email: &Email) -> Result<bool, ApiError> {
    Ok(find_by_email(db, email).await?.is_some())
}
