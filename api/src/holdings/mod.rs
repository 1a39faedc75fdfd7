//! `/api/holdings`: the tickets the signed-in user holds, each with the code they show at the
//! door ([`code`]).

pub mod code;
pub mod queries;

use api_types::{Currency, HoldingJson, Nullable, Timestamp};
use poem::web::Data;
use poem_openapi::{OpenApi, payload::Json};
use sea_orm::DatabaseConnection;

use crate::{
    auth::SignedIn,
    error::{Fails, can},
    tags::Tag,
};

pub use code::{TicketCode, TicketCodes};

/// A held ticket as the API shows it, with the code of its holding.
fn holding_json(held: queries::Held, codes: &TicketCodes, currency: &Currency) -> HoldingJson {
    let queries::Held {
        holding,
        ticket,
        checkin,
    } = held;
    HoldingJson {
        ticket_id: ticket.id,
        code: codes.issue(ticket.id, holding.generation),
        // Listed by its holder, and not held by an order: buyers see it.
        for_sale: holding.user_id == ticket.user_id && ticket.order_id.is_none(),
        title: ticket.title,
        paid_cents: Nullable(holding.paid_cents),
        currency: currency.clone(),
        checked_in_at: Nullable(checkin.map(|c| Timestamp(c.checked_in_at))),
    }
}

pub struct HoldingsApi;

#[OpenApi(tag = "Tag::Holdings")]
impl HoldingsApi {
    /// My tickets
    ///
    /// The tickets the signed-in user holds: bought here (with what they paid), or listed by them
    /// and not yet sold; each with the code to show at the door, and when it was checked in. A
    /// ticket that changes hands gets a new code, and its earlier codes are void.
    #[oai(path = "/api/holdings", method = "get", operation_id = "listHoldings")]
    async fn list(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        codes: Data<&TicketCodes>,
        currency: Data<&Currency>,
    ) -> Result<Json<Vec<HoldingJson>>, Fails<{ can::NOT_AUTHORIZED | can::DATABASE }>> {
        let held = queries::held_by(&db, auth.claims().id).await?;
        Ok(Json(
            held.into_iter()
                .map(|h| holding_json(h, &codes, &currency))
                .collect(),
        ))
    }
}
