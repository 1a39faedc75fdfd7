//! The activities' database work. Each function is idempotent: run again after a crash or a
//! retry, it does its work at most once and answers as the first run did. Writes are conditional
//! on the version read, and append their events to the outbox in the same transaction.

use entities::{event, order, payment, ticket};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, SqlErr,
    TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::types::{
    CancelReason, OrderFacts, Payment, RequestId, Reservation, ReserveInput, ReserveOutcome, Status,
};

/// How often a conditional write is retried after losing a race to a concurrent edit.
const RACE_RETRIES: usize = 5;

fn reservation(order: &order::Model, title: String) -> Reservation {
    Reservation {
        order_id: order.id,
        ticket_id: order.ticket_id,
        buyer_id: order.user_id,
        title,
        price_cents: order.price_cents,
        expires_at: order.expires_at,
    }
}

/// Reserves the ticket for a new order: it must exist, must not be the buyer's own, and must be
/// free; then the ticket points at the order and the order row is written with the price of the
/// moment. A retry after success finds the order row and answers the same. The flag says whether
/// this call decided (false for a retry that found the order made).
pub async fn reserve(
    db: &DatabaseConnection,
    input: &ReserveInput,
) -> Result<(ReserveOutcome, bool), DbErr> {
    for _ in 0..RACE_RETRIES {
        if let Some(existing) = order::Entity::find_by_id(input.order_id).one(db).await? {
            let title = ticket::Entity::find_by_id(existing.ticket_id)
                .one(db)
                .await?
                .map(|t| t.title)
                .unwrap_or_default();
            return Ok((
                ReserveOutcome::Reserved(reservation(&existing, title)),
                false,
            ));
        }
        if input.reserve_by.is_some_and(|by| chrono::Utc::now() > by) {
            return Ok((ReserveOutcome::TooLate, true));
        }
        let Some(read) = ticket::Entity::find_by_id(input.ticket_id).one(db).await? else {
            return Ok((ReserveOutcome::TicketNotFound, true));
        };
        if read.user_id == input.buyer_id {
            return Ok((ReserveOutcome::OwnTicket, true));
        }
        if read.order_id.is_some() {
            return Ok((ReserveOutcome::TicketTaken, true));
        }
        if let Some(reserved) = try_reserve(db, input, &read).await? {
            return Ok((ReserveOutcome::Reserved(reserved), true));
        }
        // The ticket changed since we read it: read again.
    }
    Err(DbErr::Custom(format!(
        "ticket {} kept changing while being reserved",
        input.ticket_id
    )))
}

/// The write half of [`reserve`]; `None` when the ticket is no longer at the version read.
async fn try_reserve(
    db: &DatabaseConnection,
    input: &ReserveInput,
    read: &ticket::Model,
) -> Result<Option<Reservation>, DbErr> {
    let now = entities::now();
    let ticket = ticket::Model {
        order_id: Some(input.order_id),
        version: read.version + 1,
        updated_at: now,
        ..read.clone()
    };
    let order = order::Model {
        id: input.order_id,
        user_id: input.buyer_id,
        ticket_id: read.id,
        status: Status::Created,
        cancel_reason: None,
        price_cents: read.price_cents,
        expires_at: input.expires_at,
        version: 0,
        created_at: now,
        updated_at: now,
    };
    // Write first, so that SQLite takes its write lock at the start of the transaction.
    let txn = db.begin().await?;
    if !ticket.write_over_free(&txn, read).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    order::Entity::insert(order::ActiveModel::from(order.clone()))
        .exec_without_returning(&txn)
        .await?;
    event::record(&txn, event::kind::ORDER_CREATED, &order).await?;
    event::record(&txn, event::kind::TICKET_UPDATED, &ticket).await?;
    txn.commit().await?;
    Ok(Some(reservation(&order, ticket.title)))
}

/// Moves an order from `from` to `to` (and bumps its version); a no-op when it is not in `from`.
/// Returns the order as it is afterwards.
async fn set_status(
    db: &DatabaseConnection,
    order_id: Uuid,
    from: Status,
    to: Status,
) -> Result<order::Model, DbErr> {
    for _ in 0..RACE_RETRIES {
        let read = find_order(db, order_id).await?;
        if read.status != from {
            return Ok(read);
        }
        let updated = order::Model {
            status: to,
            version: read.version + 1,
            updated_at: entities::now(),
            ..read.clone()
        };
        if write_over(db, &read, &updated).await? {
            return Ok(updated);
        }
    }
    Err(DbErr::Custom(format!("order {order_id} kept changing")))
}

/// Writes `next`'s status, cancel reason, version and time over the order, if it is still as
/// `read` (same version); `false` when it changed since (nothing is written then).
async fn write_over(
    db: &impl ConnectionTrait,
    read: &order::Model,
    next: &order::Model,
) -> Result<bool, DbErr> {
    let result = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(next.status))
        .col_expr(order::Column::CancelReason, Expr::value(next.cancel_reason))
        .col_expr(order::Column::Version, Expr::value(next.version))
        .col_expr(order::Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(order::Column::Id.eq(read.id))
        .filter(order::Column::Version.eq(read.version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

async fn find_order(db: &impl ConnectionTrait, order_id: Uuid) -> Result<order::Model, DbErr> {
    order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {order_id}")))
}

/// `created` → `awaiting:payment`: from now on the timer cannot cancel the order.
pub async fn mark_awaiting_payment(db: &DatabaseConnection, order_id: Uuid) -> Result<(), DbErr> {
    set_status(db, order_id, Status::Created, Status::AwaitingPayment)
        .await
        .map(|_| ())
}

/// `created` → `awaiting:payment` as [`mark_awaiting_payment`], answering what the database holds
/// afterwards: `awaiting:payment` when the payment may go ahead; `complete` or `cancelled` when
/// an attempt whose workflow task was lost already paid or cancelled the order.
pub async fn begin_payment(db: &DatabaseConnection, order_id: Uuid) -> Result<OrderFacts, DbErr> {
    let order = set_status(db, order_id, Status::Created, Status::AwaitingPayment).await?;
    facts_of(db, &order).await
}

/// What the database holds of an order (see [`OrderFacts`]).
pub async fn facts(db: &DatabaseConnection, order_id: Uuid) -> Result<OrderFacts, DbErr> {
    let order = find_order(db, order_id).await?;
    facts_of(db, &order).await
}

async fn facts_of(db: &DatabaseConnection, order: &order::Model) -> Result<OrderFacts, DbErr> {
    let payment = match order.status {
        Status::Complete => find_payment(db, order.id).await?,
        _ => None,
    };
    Ok(OrderFacts {
        status: order.status,
        cancel_reason: order.cancel_reason,
        payment,
    })
}

/// `awaiting:payment` → `created`, after a payment attempt that charged nothing.
pub async fn reopen(db: &DatabaseConnection, order_id: Uuid) -> Result<(), DbErr> {
    set_status(db, order_id, Status::AwaitingPayment, Status::Created)
        .await
        .map(|_| ())
}

/// Cancels an open order and frees its ticket, but only if the ticket is still reserved by this
/// order. Returns the order's status afterwards: `Cancelled`, or `Complete` for a paid order
/// (which is never cancelled), and whether this call cancelled it.
pub async fn cancel(
    db: &DatabaseConnection,
    order_id: Uuid,
    reason: CancelReason,
) -> Result<(Status, bool), DbErr> {
    for _ in 0..RACE_RETRIES {
        let read = find_order(db, order_id).await?;
        match read.status {
            Status::Cancelled => return Ok((Status::Cancelled, false)),
            Status::Complete => return Ok((Status::Complete, false)),
            Status::Created | Status::AwaitingPayment => {}
        }
        if try_cancel(db, &read, reason).await? {
            return Ok((Status::Cancelled, true));
        }
    }
    Err(DbErr::Custom(format!("order {order_id} kept changing")))
}

async fn try_cancel(
    db: &DatabaseConnection,
    read: &order::Model,
    reason: CancelReason,
) -> Result<bool, DbErr> {
    let now = entities::now();
    let cancelled = order::Model {
        status: Status::Cancelled,
        cancel_reason: Some(reason),
        version: read.version + 1,
        updated_at: now,
        ..read.clone()
    };
    let txn = db.begin().await?;
    if !write_over(&txn, read, &cancelled).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    // Free the ticket only if this order still holds it.
    let freed = ticket::Entity::update_many()
        .col_expr(ticket::Column::OrderId, Expr::value(Option::<Uuid>::None))
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(read.ticket_id))
        .filter(ticket::Column::OrderId.eq(read.id))
        .exec(&txn)
        .await?;
    event::record(&txn, event::kind::ORDER_CANCELLED, &cancelled).await?;
    if reason == CancelReason::Expired {
        event::append(
            &txn,
            event::kind::EXPIRATION_COMPLETE,
            cancelled.id,
            cancelled.version,
            serde_json::json!({ "orderId": cancelled.id }),
        )
        .await?;
    }
    if freed.rows_affected == 1
        && let Some(ticket) = ticket::Entity::find_by_id(read.ticket_id).one(&txn).await?
    {
        event::record(&txn, event::kind::TICKET_UPDATED, &ticket).await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Records the payment of an order and completes it. The unique `order_id` of payments makes a
/// second payment row impossible; a retry answers with the payment already recorded. The flag
/// says whether this call recorded it.
pub async fn complete(
    db: &DatabaseConnection,
    order_id: Uuid,
    charge_id: &str,
    amount_cents: i64,
    currency: &str,
    request_id: Option<&RequestId>,
) -> Result<(Payment, bool), DbErr> {
    if let Some(existing) = find_payment(db, order_id).await? {
        return Ok((existing, false));
    }
    let read = find_order(db, order_id).await?;
    let now = entities::now();
    let row = payment::Model {
        id: Uuid::new_v4(),
        order_id,
        charge_id: charge_id.to_owned(),
        amount_cents,
        currency: currency.to_owned(),
        created_at: now,
        request_id: request_id.map(|r| r.0.clone()),
    };
    let completed = order::Model {
        status: Status::Complete,
        version: read.version + 1,
        updated_at: now,
        ..read.clone()
    };
    let txn = db.begin().await?;
    match payment::Entity::insert(payment::ActiveModel::from(row.clone()))
        .exec_without_returning(&txn)
        .await
    {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return find_payment(db, order_id)
                .await?
                .map(|payment| (payment, false))
                .ok_or_else(|| DbErr::Custom(format!("payment of order {order_id} vanished")));
        }
        Err(e) => return Err(e),
    }
    order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(completed.status))
        .col_expr(
            order::Column::Version,
            Expr::col(order::Column::Version).add(1),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .filter(order::Column::Id.eq(order_id))
        .exec(&txn)
        .await?;
    event::append(
        &txn,
        event::kind::PAYMENT_CREATED,
        row.id,
        0,
        serde_json::json!({
            "id": row.id,
            "orderId": order_id,
            "chargeId": row.charge_id,
            "amountCents": amount_cents,
            "currency": currency,
            "orderVersion": completed.version,
        }),
    )
    .await?;
    txn.commit().await?;
    let payment = Payment {
        payment_id: row.id,
        charge_id: row.charge_id,
        request_id: row.request_id.map(RequestId),
    };
    Ok((payment, true))
}

async fn find_payment(db: &DatabaseConnection, order_id: Uuid) -> Result<Option<Payment>, DbErr> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .one(db)
        .await?
        .map(|p| Payment {
            payment_id: p.id,
            charge_id: p.charge_id,
            request_id: p.request_id.map(RequestId),
        }))
}
