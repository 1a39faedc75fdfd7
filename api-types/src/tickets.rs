//! How a ticket looks in answers.

use entities::{Money, ticket};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{Currency, Price, Timestamp};

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct TicketJson {
    pub id: Uuid,
    pub title: String,
    pub price: Price,
    /// The price in the currency's minor unit (cents): an integer, for clients that keep money
    /// away from floating point.
    pub price_cents: i64,
    pub currency: Currency,
    /// The seller.
    pub user_id: Uuid,
    /// Grows by one on every change.
    pub version: i32,
    /// The order holding the ticket; absent while it is free.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    /// For a listing its holder made by "sell on": the ticket it sells again (the first listing,
    /// whose id the holder's code names). Absent for a first listing.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resale_of: Option<Uuid>,
    /// When its seller took it off sale; absent while it is (or was) on sale.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Timestamp>,
}

impl TicketJson {
    pub fn new(t: ticket::Model, currency: &Currency) -> Self {
        TicketJson {
            id: t.id,
            title: t.title,
            price: Price(Money::from_cents(t.price_cents)),
            price_cents: t.price_cents,
            currency: currency.clone(),
            user_id: t.user_id,
            version: t.version,
            order_id: t.order_id,
            resale_of: t.resale_of,
            withdrawn_at: t.withdrawn_at.map(Timestamp),
        }
    }
}
