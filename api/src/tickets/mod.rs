//! `/api/tickets`: list, show, create and edit tickets.

pub mod queries;
pub mod writes;

use entities::{Money, ResalePriceCap, TicketTitle, ticket};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use api_types::{Currency, TicketJson};
use database::Reads;

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can, invalid},
    idempotency::Key,
    input::{DecimalText, Input, Limit, Offset, Page, Text, both, rules},
    request_keys::{Attempt, RequestKey},
    tags::Tag,
};

/// The refusal of an edit while an order holds the ticket.
const RESERVED: &str = "Cannot edit a reserved ticket";
/// The refusal of an edit of a listing taken off sale.
const WITHDRAWN: &str = "This ticket was taken off sale: it can no longer be edited";
/// The refusal of a withdrawal after every try found the ticket changed again.
const KEPT_CHANGING: &str = "Ticket was changed by another request; reload and try again";

/// A ticket's title and price, for create and edit.
#[derive(Debug, Object)]
pub struct TicketInput {
    /// Not blank, at most 200 characters, no control characters; stored trimmed.
    title: Input<Text<rules::Title>>,
    /// Greater than 0, at most 2 decimals, at most 1,000,000: a JSON number, or a string of
    /// digits with an optional decimal point (no sign, exponent or spaces).
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
                self.price.parse(|d| d.price(), Money::NOT_POSITIVE),
            ),
        )
    }
}

#[derive(ApiResponse)]
pub enum Listed {
    /// A page of the tickets for sale.
    #[oai(status = 200)]
    Ok(
        Json<Vec<TicketJson>>,
        /// How many tickets match in all (every page).
        #[oai(header = "X-Total-Count")]
        u64,
    ),
}

/// The order of a listing of tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
pub enum TicketSort {
    #[oai(rename = "oldest")]
    Oldest,
    #[oai(rename = "newest")]
    Newest,
    #[oai(rename = "priceLow")]
    PriceLow,
    #[oai(rename = "priceHigh")]
    PriceHigh,
}

/// A price bound as typed: `Ok(None)` when empty (no bound), its cents, or `Err` when it is not an
/// amount (zero is one: a bound may be 0).
fn price_bound(text: &str) -> Result<Option<i64>, ()> {
    // Exactly the documented pattern (`rules::PriceBound`): up to 7 digits, up to 2 decimals.
    if text.is_empty() {
        return Ok(None);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str, most: usize| {
        (1..=most).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(whole, 7) || !digits(fraction, 2) {
        return Err(());
    }
    if text.bytes().all(|b| b == b'0' || b == b'.') {
        return Ok(Some(0));
    }
    // No ticket costs more than Money::MAX: a bound above it is the same as Money::MAX.
    Ok(Some(
        Money::parse_price(text).map_or(Money::MAX.cents(), |money| money.cents()),
    ))
}

/// A price bound's query parameter.
type PriceParam = Option<Input<Text<rules::PriceBound>>>;

/// A listing's search from its query parameters; every malformed one reported at once.
fn search(
    q: Option<Input<Text<rules::Search>>>,
    (min, max): (PriceParam, PriceParam),
    sort: Option<Input<TicketSort>>,
) -> Result<queries::Search, ApiError> {
    let mut errors = Vec::new();
    let title = match q {
        Some(Input::Given(text)) => {
            let needle = text.0.trim().to_lowercase();
            if needle.chars().count() > 200 {
                errors.push(invalid("q", "q must be at most 200 characters"));
            }
            Some(needle).filter(|n| !n.is_empty())
        }
        // A control character (NUL above all): no title holds one.
        Some(Input::Malformed) => {
            errors.push(invalid("q", "q must not contain control characters"));
            None
        }
        Some(Input::Missing) | None => None,
    };
    let mut bound = |name: &'static str, given: PriceParam| {
        let cents = match given {
            None | Some(Input::Missing) => return None,
            Some(Input::Given(text)) => price_bound(&text.0),
            // A control character: not an amount either.
            Some(Input::Malformed) => Err(()),
        };
        match cents {
            Ok(cents) => cents,
            Err(()) => {
                errors.push(invalid(
                    name,
                    match name {
                        "minPrice" => "minPrice must be an amount like 19.99",
                        _ => "maxPrice must be an amount like 19.99",
                    },
                ));
                None
            }
        }
    };
    // A range whose minPrice is above its maxPrice is no mistake of form: it matches nothing.
    let min_cents = bound("minPrice", min);
    let max_cents = bound("maxPrice", max);
    let sort = match sort {
        None => queries::Sort::Oldest,
        Some(Input::Given(sort)) => match sort {
            TicketSort::Oldest => queries::Sort::Oldest,
            TicketSort::Newest => queries::Sort::Newest,
            TicketSort::PriceLow => queries::Sort::PriceLow,
            TicketSort::PriceHigh => queries::Sort::PriceHigh,
        },
        Some(_) => {
            errors.push(invalid(
                "sort",
                "sort must be oldest, newest, priceLow or priceHigh",
            ));
            queries::Sort::Oldest
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(queries::Search {
        title,
        min_cents,
        max_cents,
        sort,
    })
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
    queries::find(db, id).await?.ok_or(ApiError::NotFound)
}

pub struct TicketsApi;

#[OpenApi(tag = "Tag::Tickets")]
impl TicketsApi {
    /// List tickets for sale
    ///
    /// Tickets no order holds, oldest first unless `sort` says otherwise; with `q`, only those
    /// whose title contains it (any case); with `minPrice` and `maxPrice`, only those in that
    /// range (inclusive; empty is no bound, and a range whose minPrice is above its maxPrice
    /// matches nothing). `X-Total-Count` says how many match in all.
    #[oai(path = "/api/tickets", method = "get", operation_id = "listTickets")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        /// How many tickets at most (1 to 500; 100 when absent).
        limit: Query<Limit>,
        /// How many to skip (0 when absent).
        offset: Query<Offset>,
        /// Only titles that contain this (any case); no control characters.
        q: Query<Option<Input<Text<rules::Search>>>>,
        /// The lowest price, in major units (e.g. `10` or `19.99`).
        #[oai(name = "minPrice")]
        min_price: Query<Option<Input<Text<rules::PriceBound>>>>,
        /// The highest price, in major units.
        #[oai(name = "maxPrice")]
        max_price: Query<Option<Input<Text<rules::PriceBound>>>>,
        /// `oldest` first (the default), `newest` first, `priceLow` or `priceHigh` first.
        sort: Query<Option<Input<TicketSort>>>,
    ) -> Result<Listed, Fails<{ can::BAD_REQUEST | can::DATABASE }>> {
        let page = Page::parse(limit.0, offset.0)?;
        let search = search(q.0, (min_price.0, max_price.0), sort.0)?;
        let (tickets, total) = queries::search_for_sale(&db, &search, page).await?;
        Ok(Listed::Ok(
            Json(
                tickets
                    .into_iter()
                    .map(|t| TicketJson::new(t, &currency))
                    .collect(),
            ),
            total,
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
        let ticket = writes::create(&db, auth.claims().id, title, price).await?;
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
        let ticket = queries::show(&reads, id).await?.ok_or(ApiError::NotFound)?;
        Ok(Json(TicketJson::new(ticket, &currency)))
    }

    /// Edit a ticket
    ///
    /// Only its seller, and only while no order holds it and it is on sale. A listing that sells
    /// a ticket bought here again keeps to the resale cap (400 above it, saying the cap).
    /// Conditional on the version read: a concurrent change makes this one fail with 409 instead
    /// of being lost.
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
        cap: Data<&ResalePriceCap>,
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
        if ticket.withdrawn_at.is_some() {
            return Err(ApiError::Conflict(WITHDRAWN.into()).into());
        }
        let (title, price) = body.0.parse()?;
        if let Some(sale_cents) = crate::holdings::writes::cap_basis(&db, &ticket).await?
            && price.cents() > cap.of(sale_cents)
        {
            let refusal = invalid("price", cap.exceeded(sale_cents, &currency.0.0));
            return Err(ApiError::Validation(vec![refusal]).into());
        }
        if let Some(updated) = writes::update(&db, &ticket, title, price).await? {
            return Ok(Json(TicketJson::new(updated, &currency)));
        }
        // Changed since we read it: tell a reservation from a concurrent edit.
        Err(match queries::find(&db, ticket.id).await? {
            Some(now) if now.order_id.is_some() => ApiError::bad_request(RESERVED),
            Some(now) if now.withdrawn_at.is_some() => ApiError::Conflict(WITHDRAWN.into()),
            Some(_) => ApiError::Conflict(
                "Ticket was changed by another request; reload and try again".into(),
            ),
            None => ApiError::NotFound,
        }
        .into())
    }

    /// Take a ticket off sale
    ///
    /// Only its seller, and only while no order holds it: 409 while it is reserved or once it
    /// is sold. The seller keeps holding it (it stays in their tickets, and can be sold on or
    /// given away); buyers no longer see it, and orders for it are refused. Asking again answers
    /// the withdrawn ticket; with an `Idempotency-Key`, a retry gets the same answer.
    #[oai(
        path = "/api/tickets/:id",
        method = "delete",
        operation_id = "withdrawTicket"
    )]
    async fn withdraw(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        id: Path<Input<Uuid>>,
        /// Makes a retry safe (see the operation).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<Key>>,
    ) -> Result<
        Json<TicketJson>,
        Fails<
            {
                can::BAD_REQUEST
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::CONFLICT
                    | can::UNPROCESSABLE
                    | can::DATABASE
            },
        >,
    > {
        let Input::Given(id) = id.0 else {
            return Err(ApiError::NotFound.into());
        };
        let me = auth.claims().id;
        let key = idempotency_key
            .0
            .map(|key| RequestKey::new(me, key, "withdraw", &[&id.to_string()]));
        if let Some(key) = &key
            && let Some(answer) = key.answered(*db).await?
        {
            return Ok(Json(answer));
        }
        for _ in 0..3 {
            let ticket = queries::find(&db, id).await?.ok_or(ApiError::NotFound)?;
            if ticket.user_id != me {
                return Err(ApiError::NotAuthorized.into());
            }
            if ticket.withdrawn_at.is_some() {
                return Ok(Json(TicketJson::new(ticket, &currency)));
            }
            if let Some(order_id) = ticket.order_id {
                return Err(ApiError::Conflict(queries::why_not_free(&db, order_id).await?).into());
            }
            match writes::withdraw(&db, &ticket, &currency, key.as_ref()).await? {
                Attempt::Done(answer) | Attempt::Answered(answer) => return Ok(Json(answer)),
                Attempt::Stale => continue,
            }
        }
        Err(ApiError::Conflict(KEPT_CHANGING.into()).into())
    }
}
