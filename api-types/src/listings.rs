//! How a seller's listing looks in answers: the ticket and what became of it.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    tickets::TicketJson,
    values::{Currency, Price, Timestamp},
};

/// What became of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub enum ListingState {
    /// No order holds it: buyers see it.
    ForSale,
    /// An order holds it until `reservedUntil`, or while its payment is made.
    Reserved,
    /// Paid for: `soldAt`, for `soldFor`.
    Sold,
    /// Taken off sale by its seller (`ticket.withdrawnAt`), who still holds it.
    Withdrawn,
}

/// A sale's amount.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    pub price: Price,
    pub price_cents: i64,
    pub currency: Currency,
}

/// One of the seller's tickets and what became of it.
#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct ListingJson {
    pub ticket: TicketJson,
    pub state: ListingState,
    /// The order holding it (reserved or sold).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    /// When the order holding it expires unless paid (reserved only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_until: Option<Timestamp>,
    /// When it was paid for (sold only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_at: Option<Timestamp>,
    /// What the buyer paid (sold only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_for: Option<Amount>,
}
