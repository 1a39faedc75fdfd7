//! `/api/tickets`: list, show, create and edit tickets.

pub mod store;

use entities::{Money, TicketTitle, ticket};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use database::Reads;

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can},
    input::{DecimalText, Input, Limit, Offset, Page, Text, both, rules},
    json::{Currency, Price},
    tags::Tag,
};

/// The refusal of an edit while an order holds the ticket.
const RESERVED: &str = "Cannot edit a reserved ticket";

/// A ticket's title and price, for create and edit.
#[derive(Debug, Object)]
pub struct TicketInput {
    /// Not blank, at most 200 characters, no control characters; stored trimmed.
    title: Input<Text<rules::Title>>,
    /// Greater than 0, at most 2 decimals, at most 1,000,000.
    price: Input<DecimalText>,
}

impl TicketInput {
    fn parse(self) -> Result<(TicketTitle, Money), ApiError> {
        both(
            (
                "title",
                self.title
                    .parse(|s| TicketTitle::parse(&s.0), TicketTitle::REQUIRED),
            ),
            (
                "price",
                self.price
                    .parse(|d| Money::parse_price(&d.0), Money::NOT_POSITIVE),
            ),
        )
    }
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct TicketJson {
    id: Uuid,
    title: String,
    price: Price,
    /// The price in the currency's minor unit (cents): an integer, for clients that keep money
    /// away from floating point.
    price_cents: i64,
    currency: Currency,
    /// The seller.
    user_id: Uuid,
    /// Grows by one on every change.
    version: i32,
    /// The order holding the ticket; absent while it is free.
    #[oai(skip_serializing_if_is_none)]
    order_id: Option<Uuid>,
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

#[derive(ApiResponse)]
pub enum Created {
    /// The new ticket, version 0.
    #[oai(status = 201)]
    Created(Json<TicketJson>),
}

/// A ticket by a path id; a malformed id is as unknown as a missing ticket.
async fn find(db: &DatabaseConnection, id: Input<Uuid>) -> Result<ticket::Model, ApiError> {
    let Input::Given(id) = id else {
        return Err(ApiError::NotFound);
    };
    store::find(db, id).await?.ok_or(ApiError::NotFound)
}

pub struct TicketsApi;

#[OpenApi(tag = "Tag::Tickets")]
impl TicketsApi {
    /// List tickets for sale
    ///
    /// Tickets no order holds, oldest first.
    #[oai(path = "/api/tickets", method = "get", operation_id = "listTickets")]
    async fn list(
        &self,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        /// How many tickets at most (1 to 500; 100 when absent).
        limit: Query<Limit>,
        /// How many to skip (0 when absent).
        offset: Query<Offset>,
    ) -> Result<Json<Vec<TicketJson>>, Fails<{ can::BAD_REQUEST | can::DATABASE }>> {
        let page = Page::parse(limit.0, offset.0)?;
        let tickets = store::list_unreserved(&db, page).await?;
        Ok(Json(
            tickets
                .into_iter()
                .map(|t| TicketJson::new(t, &currency))
                .collect(),
        ))
    }

    /// Sell a ticket
    #[oai(path = "/api/tickets", method = "post", operation_id = "createTicket")]
    async fn create(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        body: Json<TicketInput>,
    ) -> Result<Created, Fails<{ can::JSON_BODY | can::NOT_AUTHORIZED | can::DATABASE }>> {
        let (title, price) = body.0.parse()?;
        let ticket = store::create(&db, auth.claims().id, title, price).await?;
        Ok(Created::Created(Json(TicketJson::new(ticket, &currency))))
    }

    /// Show a ticket
    ///
    /// Reserved or not.
    #[oai(path = "/api/tickets/:id", method = "get", operation_id = "getTicket")]
    async fn show(
        &self,
        reads: Data<&Reads>,
        currency: Data<&Currency>,
        id: Path<Input<Uuid>>,
    ) -> Result<Json<TicketJson>, Fails<{ can::NOT_FOUND | can::DATABASE }>> {
        let Input::Given(id) = id.0 else {
            return Err(ApiError::NotFound.into());
        };
        let ticket = store::show(&reads, id).await?.ok_or(ApiError::NotFound)?;
        Ok(Json(TicketJson::new(ticket, &currency)))
    }

    /// Edit a ticket
    ///
    /// Only its seller, and only while no order holds it. Conditional on the version read: a
    /// concurrent change makes this one fail with 409 instead of being lost.
    #[oai(
        path = "/api/tickets/:id",
        method = "put",
        operation_id = "updateTicket"
    )]
    async fn update(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        id: Path<Input<Uuid>>,
        body: Json<TicketInput>,
    ) -> Result<
        Json<TicketJson>,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::CONFLICT
                    | can::DATABASE
            },
        >,
    > {
        let ticket = find(&db, id.0).await?;
        if ticket.user_id != auth.claims().id {
            return Err(ApiError::NotAuthorized.into());
        }
        if ticket.order_id.is_some() {
            return Err(ApiError::bad_request(RESERVED).into());
        }
        let (title, price) = body.0.parse()?;
        if let Some(updated) = store::update(&db, &ticket, title, price).await? {
            return Ok(Json(TicketJson::new(updated, &currency)));
        }
        // Changed since we read it: tell a reservation from a concurrent edit.
        Err(match store::find(&db, ticket.id).await? {
            Some(now) if now.order_id.is_some() => ApiError::bad_request(RESERVED),
            Some(_) => ApiError::Conflict(
                "Ticket was changed by another request; reload and try again".into(),
            ),
            None => ApiError::NotFound,
        }
        .into())
    }
}
