//! The check-in's write: the first scan of a current code inserts its check-in (one per ticket
//! and generation: the primary key decides between doors scanning at once, on both databases)
//! and appends `checkin:admitted` to the outbox in the same transaction. It locks the holding's
//! row first, so that a ticket changing hands at the same moment is either checked in or
//! handed over, never both.

use api_types::{CheckinJson, CheckinResult, Timestamp};
use entities::{checkin, event, holding, ticket};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{error::ApiError, holdings::TicketCode, request_keys::RequestKey};

/// The answer to a code that names nothing of ours.
pub fn unknown() -> CheckinJson {
    CheckinJson {
        result: CheckinResult::Unknown,
        ticket_id: None,
        title: None,
        checked_in_at: None,
    }
}

/// Checks `code` in, scanned by `door`. With `key`, an admission is kept with it in its
/// transaction: a retry of the scan (its answer lost on the way) is admitted again, not told the
/// ticket was already used.
pub async fn check_in(
    db: &DatabaseConnection,
    code: TicketCode,
    door: Uuid,
    key: Option<&RequestKey>,
) -> Result<CheckinJson, ApiError> {
    if let Some(key) = key
        && let Some(answer) = key.answered(db).await?
    {
        return Ok(answer);
    }
    let (Some(holding), Some(ticket)) = (
        holding::Entity::find_by_id(code.ticket_id).one(db).await?,
        ticket::Entity::find_by_id(code.ticket_id).one(db).await?,
    ) else {
        return Ok(unknown());
    };
    let answer = |result, at: Option<Timestamp>| CheckinJson {
        result,
        ticket_id: Some(ticket.id),
        title: Some(ticket.title.clone()),
        checked_in_at: at,
    };
    if code.generation < holding.generation {
        return Ok(answer(CheckinResult::Void, None));
    }
    if code.generation > holding.generation {
        // Signed with our key but never issued: not a code of this ticket.
        return Ok(unknown());
    }
    let row = checkin::Model {
        ticket_id: code.ticket_id,
        generation: code.generation,
        door_user_id: door,
        checked_in_at: entities::now(),
    };
    if holding.listing_id.is_some() {
        return Ok(answer(CheckinResult::Listed, None));
    }
    let admitted = answer(CheckinResult::Admitted, Some(Timestamp(row.checked_in_at)));
    let txn = db.begin().await?;
    // The holding's row first (a write that changes nothing): a change of hands or a listing
    // that commits first leaves no unlisted row at this generation, and one that comes later
    // sees this check-in and is refused.
    let still_current = holding::Entity::update_many()
        .col_expr(
            holding::Column::Version,
            Expr::col(holding::Column::Version),
        )
        .filter(holding::Column::TicketId.eq(code.ticket_id))
        .filter(holding::Column::Generation.eq(code.generation))
        .filter(holding::Column::ListingId.is_null())
        .exec(&txn)
        .await?;
    if still_current.rows_affected == 0 {
        txn.rollback().await?;
        let now = holding::Entity::find_by_id(code.ticket_id).one(db).await?;
        let result = match now {
            Some(h) if h.generation == code.generation => CheckinResult::Listed,
            _ => CheckinResult::Void,
        };
        return Ok(answer(result, None));
    }
    if let Some(key) = key
        && !key.keep(&txn, &admitted).await?
    {
        txn.rollback().await?;
        return key.answered(db).await?.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("an idempotency key vanished after a clash"))
        });
    }
    match checkin::Entity::insert(checkin::ActiveModel::from(row.clone()))
        .exec_without_returning(&txn)
        .await
    {
        Ok(_) => {
            event::record(&txn, event::kind::CHECKIN_ADMITTED, &row).await?;
            txn.commit().await?;
            Ok(admitted)
        }
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            let first = checkin::Entity::find_by_id((code.ticket_id, code.generation))
                .one(db)
                .await?
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!(
                        "the check-in of ticket {} vanished",
                        code.ticket_id
                    ))
                })?;
            Ok(answer(
                CheckinResult::AlreadyUsed,
                Some(Timestamp(first.checked_in_at)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
