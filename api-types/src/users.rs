//! How accounts and sessions look in answers.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{Nullable, Timestamp};

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
pub struct UserJson {
    pub id: Uuid,
    pub email: String,
}

impl From<entities::user::Model> for UserJson {
    fn from(user: entities::user::Model) -> Self {
        UserJson {
            id: user.id,
            email: user.email,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct TokenJson {
    /// Send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working (ISO-8601 UTC).
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    /// When the session was issued (seconds since the epoch).
    pub iat: i64,
}

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct CurrentUser {
    /// `null` when signed out.
    #[serde(default)]
    pub current_user: Nullable<SessionUser>,
}

/// An empty JSON object.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
pub struct Empty {}
