//! `/api/holdings`: the tickets the signed-in user holds, each with the code they show at the
//! door ([`code`]); giving one to another user, selling one on ([`writes`]), and the transfers
//! given and received.

pub mod code;
pub mod queries;
pub mod writes;

use api_types::{
    Acquired, Currency, HoldingJson, Nullable, TicketJson, Timestamp, TransferJson, TransferRequest,
};
use entities::{Email, Money, ResalePriceCap, holding};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path},
    payload::Json,
};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can, invalid},
    idempotency::Key,
    input::{DecimalText, Input},
    request_keys::RequestKey,
    tags::Tag,
};

pub use code::{TicketCode, TicketCodes};

/// How many transfers the history shows at most.
const HISTORY_LIMIT: u64 = 200;

/// A held ticket as the API shows it, with the code of its holding.
fn holding_json(
    held: queries::Held,
    codes: &TicketCodes,
    (cap, currency): (ResalePriceCap, &Currency),
) -> HoldingJson {
    let queries::Held {
        holding,
        ticket,
        listing,
        checkin,
    } = held;
    HoldingJson {
        ticket_id: ticket.id,
        code: codes.issue(ticket.id, holding.generation),
        for_sale: listing
            .as_ref()
            .is_some_and(|l| l.order_id.is_none() && l.withdrawn_at.is_none()),
        listing_id: holding.listing_id,
        acquired_by: match holding.acquired_by {
            holding::Acquired::Listing => Acquired::Listing,
            holding::Acquired::Sale => Acquired::Sale,
            holding::Acquired::Transfer => Acquired::Transfer,
        },
        resale_cap_cents: Nullable(holding.sale_cents.map(|cents| cap.of(cents))),
        title: ticket.title,
        paid_cents: Nullable(holding.paid_cents),
        currency: currency.clone(),
        checked_in_at: Nullable(checkin.map(|c| Timestamp(c.checked_in_at))),
    }
}

fn transfer_json(given: queries::Given, asking: Uuid) -> TransferJson {
    TransferJson {
        id: given.transfer.id,
        ticket_id: given.transfer.ticket_id,
        title: given.title,
        from: given.from,
        to: given.to,
        given: given.transfer.from_user_id == asking,
        transferred_at: Timestamp(given.transfer.created_at),
    }
}

/// The price of a ticket sold on.
#[derive(Debug, Object)]
pub struct SellInput {
    /// Greater than 0, at most 2 decimals, at most 1,000,000, and at most the holding's
    /// `resaleCapCents` when it has one: a JSON number, or a string of digits with an optional
    /// decimal point.
    price: Input<DecimalText>,
}

#[derive(ApiResponse)]
pub enum SoldOn {
    /// The new listing: a ticket whose seller is the holder, naming the ticket it sells again
    /// (`resaleOf`).
    #[oai(status = 201)]
    Listed(Json<TicketJson>),
}

/// A held ticket's id from the path; a malformed one is as unknown as one not held.
fn held_id(id: Input<Uuid>) -> Result<Uuid, ApiError> {
    match id {
        Input::Given(id) => Ok(id),
        _ => Err(ApiError::NotFound),
    }
}

pub struct HoldingsApi;

#[OpenApi(tag = "Tag::Holdings")]
impl HoldingsApi {
    /// My tickets
    ///
    /// The tickets the signed-in user holds: bought here (with what they paid), given to them,
    /// or listed by them and not yet sold; each with the code to show at the door, and when it
    /// was checked in. A ticket that changes hands gets a new code, and its earlier codes are
    /// void.
    #[oai(path = "/api/holdings", method = "get", operation_id = "listHoldings")]
    async fn list(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        codes: Data<&TicketCodes>,
        cap: Data<&ResalePriceCap>,
        currency: Data<&Currency>,
    ) -> Result<Json<Vec<HoldingJson>>, Fails<{ can::NOT_AUTHORIZED | can::DATABASE }>> {
        let held = queries::held_by(&db, auth.claims().id).await?;
        Ok(Json(
            held.into_iter()
                .map(|h| holding_json(h, &codes, (**cap, &currency)))
                .collect(),
        ))
    }

    /// My transfers
    ///
    /// The tickets the signed-in user gave away or was given, the latest first (at most 200).
    #[oai(
        path = "/api/holdings/transfers",
        method = "get",
        operation_id = "listTransfers"
    )]
    async fn transfers(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
    ) -> Result<Json<Vec<TransferJson>>, Fails<{ can::NOT_AUTHORIZED | can::DATABASE }>> {
        let me = auth.claims().id;
        let given = queries::transfers_of(&db, me, HISTORY_LIMIT).await?;
        Ok(Json(
            given.into_iter().map(|g| transfer_json(g, me)).collect(),
        ))
    }

    /// Give a ticket away
    ///
    /// The receiver (a registered user, by email) holds it from now on, with a new code; the
    /// giver's code is void. Refused (409) while the ticket is listed for sale or reserved, and
    /// once it was checked in; 404 when the signed-in user does not hold it. With an
    /// `Idempotency-Key`, a retry gets the same answer and gives nothing twice.
    #[oai(
        path = "/api/holdings/:ticket_id/transfer",
        method = "post",
        operation_id = "transferHolding"
    )]
    async fn transfer(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        /// The held ticket (`ticketId` of the holding).
        ticket_id: Path<Input<Uuid>>,
        /// Makes a retry safe (see the operation).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<Key>>,
        body: Json<TransferRequest>,
    ) -> Result<
        Json<TransferJson>,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::CONFLICT
                    | can::UNPROCESSABLE
                    | can::DATABASE
            },
        >,
    > {
        let ticket_id = held_id(ticket_id.0)?;
        let receiver = Email::parse(&body.0.email)
            .map_err(|e| ApiError::Validation(vec![invalid("email", e.0)]))?;
        let me = auth.claims().id;
        let key = idempotency_key.0.map(|key| {
            let ticket = ticket_id.to_string();
            RequestKey::new(me, key, "transfer", &[&ticket, &receiver.key()])
        });
        Ok(Json(
            writes::transfer(&db, me, ticket_id, &receiver, key).await?,
        ))
    }

    /// Sell a ticket on
    ///
    /// Lists a held ticket for sale again: answers the new listing (a `ticket` whose seller is
    /// the holder). A ticket bought here may be sold on for at most `RESALE_PRICE_CAP_PERCENT`
    /// of its last sale's price (the holding's `resaleCapCents`; 400 above it, saying the cap); a
    /// ticket never sold here is not capped. The holder keeps it, and its code, until a buyer's
    /// payment completes. Refused (409) while it is listed already and once it was checked in.
    /// With an `Idempotency-Key`, a retry gets the same listing.
    #[oai(
        path = "/api/holdings/:ticket_id/sell",
        method = "post",
        operation_id = "sellHolding"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn sell(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        cap: Data<&ResalePriceCap>,
        currency: Data<&Currency>,
        /// The held ticket (`ticketId` of the holding).
        ticket_id: Path<Input<Uuid>>,
        /// Makes a retry safe (see the operation).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<Key>>,
        body: Json<SellInput>,
    ) -> Result<
        SoldOn,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::CONFLICT
                    | can::UNPROCESSABLE
                    | can::DATABASE
            },
        >,
    > {
        let ticket_id = held_id(ticket_id.0)?;
        let price: Money = body
            .0
            .price
            .parse(|d| d.price(), Money::NOT_POSITIVE)
            .map_err(|e| ApiError::Validation(vec![invalid("price", e.0)]))?;
        let me = auth.claims().id;
        let key = idempotency_key.0.map(|key| {
            let (ticket, cents) = (ticket_id.to_string(), price.cents().to_string());
            RequestKey::new(me, key, "sell", &[&ticket, &cents])
        });
        let listing = writes::sell_on(&db, me, ticket_id, price, (**cap, &currency), key).await?;
        Ok(SoldOn::Listed(Json(listing)))
    }
}
