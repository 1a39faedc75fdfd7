//! How a ticket looks in answers.

use entities::{Money, ticket};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{Currency, Price};

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
        }
    }
}
