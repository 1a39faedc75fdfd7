//! `/api/listings`: a seller's own tickets, each with what became of it (for sale, reserved until
//! a time, sold when and for how much, or taken off sale).

pub mod queries;

use entities::{Money, order};
use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Query, payload::Json};
use sea_orm::DatabaseConnection;

use api_types::{Amount, Currency, ListingJson, ListingState, Price, TicketJson, Timestamp};

use crate::{
    auth::SignedIn,
    error::{Fails, can},
    input::{Limit, Offset, Page},
    tags::Tag,
};

/// One of the seller's tickets and what became of it, as the API shows it.
fn listing_json(listing: queries::Listing, currency: &Currency) -> ListingJson {
    let queries::Listing {
        ticket,
        order,
        payment,
    } = listing;
    let order_id = ticket.order_id;
    let (state, reserved_until) = match (&order, &payment) {
        (_, Some(_)) => (ListingState::Sold, None),
        (Some(o), None) if o.status == order::Status::Complete => (ListingState::Sold, None),
        (Some(o), None) => (ListingState::Reserved, Some(Timestamp(o.expires_at))),
        // A ticket that points at an order we cannot read is not for sale either.
        (None, None) if order_id.is_some() => (ListingState::Reserved, None),
        (None, None) if ticket.withdrawn_at.is_some() => (ListingState::Withdrawn, None),
        (None, None) => (ListingState::ForSale, None),
    };
    let sold_for = payment.as_ref().map(|p| Amount {
        price: Price(Money::from_cents(p.amount_cents)),
        price_cents: p.amount_cents,
        currency: Currency(p.currency.clone()),
    });
    ListingJson {
        ticket: TicketJson::new(ticket, currency),
        state,
        order_id,
        reserved_until,
        sold_at: payment.as_ref().map(|p| Timestamp(p.created_at)),
        sold_for,
    }
}

#[derive(ApiResponse)]
pub enum Listed {
    /// A page of the seller's tickets, newest first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<ListingJson>>,
        /// How many tickets the seller has listed in all.
        #[oai(header = "X-Total-Count")]
        u64,
    ),
}

pub struct ListingsApi;

#[OpenApi(tag = "Tag::Tickets")]
impl ListingsApi {
    /// My listings
    ///
    /// The signed-in seller's tickets, newest first, each with what became of it: for sale,
    /// reserved (until when), or sold (when, and for how much).
    #[oai(
        path = "/api/listings",
        method = "get",
        operation_id = "listMyListings"
    )]
    async fn list(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        /// How many at most (1 to 500; 100 when absent).
        limit: Query<Limit>,
        /// How many to skip (0 when absent).
        offset: Query<Offset>,
    ) -> Result<Listed, Fails<{ can::BAD_REQUEST | can::NOT_AUTHORIZED | can::DATABASE }>> {
        let page = Page::parse(limit.0, offset.0)?;
        let (listings, total) = queries::for_seller(&db, auth.claims().id, page).await?;
        Ok(Listed::Ok(
            Json(
                listings
                    .into_iter()
                    .map(|l| listing_json(l, &currency))
                    .collect(),
            ),
            total,
        ))
    }
}
