//! Cancelling an order, whatever the reason: the buyer, an operator, a declined card, or its
//! expiry (a cancellation with reason `expired`). The `cancel` activity, its database work
//! (which frees the ticket), and [`CancelInput`].

use entities::{
    event,
    order::{self, CancelReason, Status},
    ticket,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use telemetry::OrderOutcome;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use super::{
    context::{OrderActivities, about},
    row::{RACE_RETRIES, find_order, write_over},
};

/// What the workflow asks `cancel` for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelInput {
    pub order_id: Uuid,
    pub reason: CancelReason,
}

/// How an order cancelled for `reason` ended.
pub fn outcome_of(reason: CancelReason) -> OrderOutcome {
    match reason {
        CancelReason::Expired => OrderOutcome::Expired,
        CancelReason::Declined => OrderOutcome::Declined,
        CancelReason::Cancelled => OrderOutcome::Cancelled,
        CancelReason::Operator => OrderOutcome::OperatorCancelled,
    }
}

/// The `cancel` activity: cancels the order and frees its ticket if it still holds it, answering
/// the status after (see [`cancel_order`]); counts the order as finished when this call
/// cancelled it.
pub(super) async fn cancel(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    input: CancelInput,
) -> Result<Status, ActivityError> {
    about(ctx, "cancel", input.order_id, async {
        let (status, cancelled) =
            cancel_order(&activities.db, input.order_id, input.reason).await?;
        if cancelled {
            activities.metrics.order_finished(outcome_of(input.reason));
            tracing::info!(reason = %input.reason, "order cancelled and its ticket freed");
        }
        Ok(status)
    })
    .await
}

/// Cancels an open order and frees its ticket, but only if the ticket is still reserved by this
/// order. Returns the order's status afterwards: `Cancelled`, or `Complete` for a paid order
/// (which is never cancelled), and whether this call cancelled it.
pub async fn cancel_order(
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

/// The write half of [`cancel_order`]; `false` when the order is no longer at the version read.
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
