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
    /// Whether it is on sale now: listed by its holder (`listingId`) and reserved by no order.
    pub for_sale: bool,
    /// The holder's open listing of it (on sale, or reserved by an order); absent when it is not
    /// listed. While it is listed it cannot be given away.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<Uuid>,
    /// How the holder came to hold it.
    pub acquired_by: Acquired,
    /// The highest price it may be sold on for, in cents: `RESALE_PRICE_CAP_PERCENT` of the price
    /// of its last sale here (what this holder paid, or the one who gave it to them); `null` when
    /// it was never sold here (a first listing is not capped).
    #[serde(default)]
    pub resale_cap_cents: Nullable<i64>,
}

/// How a holder came to hold a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub enum Acquired {
    /// They listed it (bought elsewhere).
    Listing,
    /// They bought it here.
    Sale,
    /// Its holder gave it to them.
    Transfer,
}

/// Whom to give a held ticket to.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
pub struct TransferRequest {
    /// The email of the receiver's account (registered here).
    pub email: String,
}

/// A ticket given by its holder to another user, as both of them see it.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct TransferJson {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub title: String,
    /// The giver's email.
    pub from: String,
    /// The receiver's email.
    pub to: String,
    /// Whether the one asking gave it (`true`) or received it (`false`).
    pub given: bool,
    pub transferred_at: Timestamp,
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
    /// The holder has it listed for sale: it is not checked in while a buyer could still buy it
    /// (the holder takes it off sale first).
    Listed,
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
