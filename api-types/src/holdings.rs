//! How a held ticket and a check-in look in answers.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{Currency, Nullable, Timestamp};

/// A ticket the signed-in user holds, with the code they show at the door.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct HoldingJson {
    pub ticket_id: Uuid,
    pub title: String,
    /// What the holder paid here, in cents; `null` for a ticket they listed themselves.
    #[serde(default)]
    pub paid_cents: Nullable<i64>,
    pub currency: Currency,
    /// The code to show at the door (as text, and as the QR code of the page). A new one is
    /// issued at every change of hands; the earlier ones are void.
    pub code: String,
    /// When it was checked in at the door; `null` until then.
    #[serde(default)]
    pub checked_in_at: Nullable<Timestamp>,
    /// Whether it is listed for sale (its lister still holds it and no sale has completed).
    pub for_sale: bool,
}

/// A code to check in at the door.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
pub struct CheckinRequest {
    /// The code as the holder shows it.
    pub code: String,
}

/// What the door learns of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub enum CheckinResult {
    /// Checked in now: let them in.
    Admitted,
    /// Checked in before (see `checkedInAt`): do not let them in again.
    AlreadyUsed,
    /// A code the ticket had before it changed hands: no longer valid.
    Void,
    /// Not a code of ours.
    Unknown,
}

/// The answer to a scan at the door.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct CheckinJson {
    pub result: CheckinResult,
    /// The ticket (absent for an unknown code).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<Uuid>,
    /// Its title (absent for an unknown code).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When it was checked in (admitted now, or already used).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<Timestamp>,
}
