//! The holdings' writes: a holder gives a ticket to another user ([`transfer`]) or lists it for
//! sale again ([`sell_on`]). Each is conditional on the holding's version as read, refused while
//! the ticket is listed or once it was checked in, written with its events (and its
//! `Idempotency-Key`) in one transaction.

use api_types::{Currency, TicketJson, Timestamp, TransferJson};
use entities::{Email, Money, ResalePriceCap, checkin, event, holding, ticket, transfer, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    error::{ApiError, invalid},
    request_keys::{Attempt, RequestKey, write_once},
};

/// How many times a write is tried again when the holding changed between its read and its write.
const RACE_RETRIES: usize = 3;

/// The refusal of a change of hands while the ticket is listed for sale.
pub const LISTED: &str =
    "This ticket is listed for sale: take the listing off sale before giving it away";
/// The refusal of a second listing.
pub const ALREADY_LISTED: &str =
    "This ticket is already listed for sale: edit that listing, or take it off sale first";
/// The refusal of a change of hands once the ticket was used.
pub const CHECKED_IN: &str =
    "This ticket was checked in at the door: it can no longer change hands";
/// The refusal after every try found the holding changed again.
const KEPT_CHANGING: &str = "This ticket was changed by another request; reload and try again";

/// `holder`'s holding of `ticket_id`; 404 when they do not hold it.
async fn held_by(
    db: &impl ConnectionTrait,
    ticket_id: Uuid,
    holder: Uuid,
) -> Result<holding::Model, ApiError> {
    holding::Entity::find_by_id(ticket_id)
        .filter(holding::Column::UserId.eq(holder))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Whether the code of `held` was checked in.
async fn checked_in(db: &impl ConnectionTrait, held: &holding::Model) -> Result<bool, ApiError> {
    Ok(
        checkin::Entity::find_by_id((held.ticket_id, held.generation))
            .one(db)
            .await?
            .is_some(),
    )
}

/// Writes `next` over the holding if it is still as `read` saw it (its holder, at its version,
/// listed nowhere), then makes sure `read`'s code was not checked in meanwhile (a check-in locks
/// the holding's row first, so either it sees the new generation or this sees its check-in).
/// `Ok(false)` when either changed; the caller's transaction must then be rolled back.
async fn write_over_unlisted(
    txn: &impl ConnectionTrait,
    read: &holding::Model,
    next: &holding::Model,
) -> Result<bool, ApiError> {
    let written = holding::Entity::update_many()
        .col_expr(holding::Column::UserId, Expr::value(next.user_id))
        .col_expr(holding::Column::Generation, Expr::value(next.generation))
        .col_expr(holding::Column::PaidCents, Expr::value(next.paid_cents))
        .col_expr(holding::Column::OrderId, Expr::value(next.order_id))
        .col_expr(holding::Column::ListingId, Expr::value(next.listing_id))
        .col_expr(holding::Column::SaleCents, Expr::value(next.sale_cents))
        .col_expr(holding::Column::AcquiredBy, Expr::value(next.acquired_by))
        .col_expr(holding::Column::Version, Expr::value(next.version))
        .col_expr(holding::Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(holding::Column::TicketId.eq(read.ticket_id))
        .filter(holding::Column::UserId.eq(read.user_id))
        .filter(holding::Column::Version.eq(read.version))
        .filter(holding::Column::ListingId.is_null())
        .exec(txn)
        .await?;
    Ok(written.rows_affected == 1 && !checked_in(txn, read).await?)
}

/// Why `held` may not change hands or be listed now, if it may not.
async fn refusal(
    db: &DatabaseConnection,
    held: &holding::Model,
) -> Result<Option<ApiError>, ApiError> {
    if held.listing_id.is_some() {
        return Ok(Some(ApiError::Conflict(LISTED.into())));
    }
    if checked_in(db, held).await? {
        return Ok(Some(ApiError::Conflict(CHECKED_IN.into())));
    }
    Ok(None)
}

/// The ticket `held` is a holding of (its title is the holding's).
async fn ticket_of(
    db: &DatabaseConnection,
    held: &holding::Model,
) -> Result<ticket::Model, ApiError> {
    ticket::Entity::find_by_id(held.ticket_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("held ticket {} has no row", held.ticket_id))
        })
}

/// `holder` gives `ticket_id` to the user registered as `receiver`: the receiver holds it at the
/// next generation (a new code; the giver's is void), having paid nothing, with the cap of its
/// last sale; the transfer is kept for both and `holding:changed` goes to the outbox.
pub async fn transfer(
    db: &DatabaseConnection,
    holder: Uuid,
    ticket_id: Uuid,
    receiver: &Email,
    key: Option<RequestKey>,
) -> Result<TransferJson, ApiError> {
    if let Some(key) = &key
        && let Some(answer) = key.answered(db).await?
    {
        return Ok(answer);
    }
    let to = crate::users::queries::find_by_email(db, receiver)
        .await?
        .ok_or_else(|| {
            ApiError::Validation(vec![invalid(
                "email",
                "No account has this email: the receiver must sign up here first",
            )])
        })?;
    let from = user::Entity::find_by_id(holder)
        .one(db)
        .await?
        .ok_or(ApiError::NotAuthorized)?;
    for _ in 0..RACE_RETRIES {
        let held = held_by(db, ticket_id, holder).await?;
        if to.id == holder {
            return Err(ApiError::Validation(vec![invalid(
                "email",
                "You hold this ticket already: give it to someone else",
            )]));
        }
        if let Some(refused) = refusal(db, &held).await? {
            return Err(refused);
        }
        let title = ticket_of(db, &held).await?.title;
        let now = entities::now();
        let next = holding::Model {
            user_id: to.id,
            generation: held.generation + 1,
            paid_cents: None,
            order_id: None,
            listing_id: None,
            acquired_by: holding::Acquired::Transfer,
            version: held.version + 1,
            updated_at: now,
            ..held.clone()
        };
        let given = transfer::Model {
            id: Uuid::new_v4(),
            ticket_id,
            generation: next.generation,
            from_user_id: holder,
            to_user_id: to.id,
            created_at: now,
        };
        let answer = TransferJson {
            id: given.id,
            ticket_id,
            title,
            from: from.email.clone(),
            to: to.email.clone(),
            given: true,
            transferred_at: Timestamp(now),
        };
        let attempt = write_once(db, key.as_ref(), answer, async |txn| {
            if !write_over_unlisted(txn, &held, &next).await? {
                return Ok(false);
            }
            transfer::Entity::insert(transfer::ActiveModel::from(given.clone()))
                .exec_without_returning(txn)
                .await?;
            event::record(txn, event::kind::HOLDING_CHANGED, &next).await?;
            Ok(true)
        })
        .await?;
        match attempt {
            Attempt::Done(answer) | Attempt::Answered(answer) => return Ok(answer),
            Attempt::Stale => continue,
        }
    }
    Err(ApiError::Conflict(KEPT_CHANGING.into()))
}

/// `holder` lists `ticket_id` for sale again at `price`: a new listing (a `ticket` whose seller
/// is the holder and which names the ticket it sells again), at most `cap` of the ticket's last
/// sale here. The holder keeps it until a buyer's payment completes; `ticket:created` goes to the
/// outbox.
pub async fn sell_on(
    db: &DatabaseConnection,
    holder: Uuid,
    ticket_id: Uuid,
    price: Money,
    (cap, currency): (ResalePriceCap, &Currency),
    key: Option<RequestKey>,
) -> Result<TicketJson, ApiError> {
    if let Some(key) = &key
        && let Some(answer) = key.answered(db).await?
    {
        return Ok(answer);
    }
    for _ in 0..RACE_RETRIES {
        let held = held_by(db, ticket_id, holder).await?;
        if held.listing_id.is_some() {
            return Err(ApiError::Conflict(ALREADY_LISTED.into()));
        }
        if let Some(refused) = refusal(db, &held).await? {
            return Err(refused);
        }
        if let Some(sale_cents) = held.sale_cents
            && price.cents() > cap.of(sale_cents)
        {
            return Err(ApiError::Validation(vec![invalid(
                "price",
                cap.exceeded(sale_cents, &currency.0),
            )]));
        }
        let original = ticket_of(db, &held).await?;
        let now = entities::now();
        let listing = ticket::Model {
            id: Uuid::new_v4(),
            title: original.title,
            price_cents: price.cents(),
            user_id: holder,
            version: 0,
            order_id: None,
            resale_of: Some(ticket_id),
            withdrawn_at: None,
            created_at: now,
            updated_at: now,
        };
        let next = holding::Model {
            listing_id: Some(listing.id),
            version: held.version + 1,
            updated_at: now,
            ..held.clone()
        };
        let answer = TicketJson::new(listing.clone(), currency);
        let attempt = write_once(db, key.as_ref(), answer, async |txn| {
            if !write_over_unlisted(txn, &held, &next).await? {
                return Ok(false);
            }
            ticket::Entity::insert(ticket::ActiveModel::from(listing.clone()))
                .exec_without_returning(txn)
                .await?;
            event::record(txn, event::kind::TICKET_CREATED, &listing).await?;
            Ok(true)
        })
        .await?;
        match attempt {
            Attempt::Done(answer) | Attempt::Answered(answer) => return Ok(answer),
            Attempt::Stale => continue,
        }
    }
    Err(ApiError::Conflict(KEPT_CHANGING.into()))
}

/// A listing taken off sale stops offering its holding: `listing`'s holding (if it offers it by
/// `listing`) is listed nowhere from now on. In the withdrawal's transaction.
pub async fn unlist(txn: &impl ConnectionTrait, listing: &ticket::Model) -> Result<(), ApiError> {
    holding::Entity::update_many()
        .col_expr(
            holding::Column::ListingId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            holding::Column::Version,
            Expr::col(holding::Column::Version).add(1),
        )
        .col_expr(holding::Column::UpdatedAt, Expr::value(entities::now()))
        .filter(holding::Column::TicketId.eq(listing.held_ticket()))
        .filter(holding::Column::ListingId.eq(listing.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The price a listing's holding caps it at (its last sale's, under `cap`), if any: a listing
/// that sells a ticket bought here again. `None` for a first listing, or when the listing is not
/// the holding's open one.
pub async fn cap_basis(
    db: &DatabaseConnection,
    listing: &ticket::Model,
) -> Result<Option<i64>, ApiError> {
    let held = holding::Entity::find_by_id(listing.held_ticket())
        .one(db)
        .await?;
    Ok(held
        .filter(|h| h.listing_id == Some(listing.id))
        .and_then(|h| h.sale_cents))
}
