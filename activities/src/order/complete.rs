//! Completing a paid order: record the payment and move the order to `complete`. The `complete`
//! activity, its database work, and what it exchanges with the workflow ([`CompleteInput`], the
//! recorded [`Payment`], the [`RequestId`] of the pay request that made it).

use entities::{
    event, holding,
    order::{self, Status},
    payment, ticket,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, SqlErr, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use telemetry::OrderOutcome;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use super::{
    context::{OrderActivities, about},
    row::find_order,
};

/// What the workflow asks `complete` for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteInput {
    pub order_id: Uuid,
    pub charge_id: String,
    pub amount_cents: i64,
    /// The pay request that charged (the `pay` update's id), recorded with the payment. Absent
    /// in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// The id of one request to pay an order (the `pay` update's id): the same for every retry of
/// that request, different for every other request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub String);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A recorded payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: Uuid,
    pub charge_id: String,
    /// The pay request that made it; `None` for payments recorded before requests were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

impl Payment {
    /// Whether `request` made this payment (and not another request, or a lost attempt of one).
    pub fn made_by(&self, request: Option<&RequestId>) -> bool {
        request.is_some() && self.request_id.as_ref() == request
    }
}

/// The `complete` activity: records the payment and completes the order (see
/// [`record_payment`]); counts the order as complete when this call recorded it.
pub(super) async fn complete(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    input: CompleteInput,
) -> Result<Payment, ActivityError> {
    about(ctx, "complete", input.order_id, async {
        let (payment, fresh) = record_payment(
            &activities.db,
            input.order_id,
            &input.charge_id,
            input.amount_cents,
            &activities.currency,
            input.request_id.as_ref(),
        )
        .await?;
        if fresh {
            activities.metrics.order_finished(OrderOutcome::Complete);
            tracing::info!(payment_id = %payment.payment_id, "order paid and complete");
        }
        Ok(payment)
    })
    .await
}

/// Records the payment of an order and completes it. The unique `order_id` of payments makes a
/// second payment row impossible; a retry answers with the payment already recorded. The flag
/// says whether this call recorded it.
pub async fn record_payment(
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
    hand_over(&txn, &completed, amount_cents, now).await?;
    txn.commit().await?;
    let payment = Payment {
        payment_id: row.id,
        charge_id: row.charge_id,
        request_id: row.request_id.map(RequestId),
    };
    Ok((payment, true))
}

/// The ticket of a completed order changes hands: its buyer holds it from now on, at the next
/// generation (which voids every earlier code), having paid `paid_cents` (the price a resale's
/// cap is taken of from now on), offering it nowhere; `holding:changed` goes to the outbox. The
/// holding is the one of the ticket the order's listing sells (itself, or the first listing of
/// a resale). In the transaction that records the payment.
async fn hand_over(
    txn: &impl ConnectionTrait,
    order: &order::Model,
    paid_cents: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let held_ticket = ticket::Entity::find_by_id(order.ticket_id)
        .one(txn)
        .await?
        .map_or(order.ticket_id, |listing| listing.held_ticket());
    let held = holding::Entity::find_by_id(held_ticket).one(txn).await?;
    let bought = |previous: holding::Model| holding::Model {
        user_id: order.user_id,
        generation: previous.generation + 1,
        paid_cents: Some(paid_cents),
        order_id: Some(order.id),
        listing_id: None,
        sale_cents: Some(paid_cents),
        acquired_by: holding::Acquired::Sale,
        version: previous.version + 1,
        updated_at: now,
        ..previous
    };
    let next = match held {
        Some(held) => {
            let next = bought(held);
            holding::Entity::update(holding::ActiveModel::from(next.clone()).reset_all())
                .exec(txn)
                .await?;
            next
        }
        // A ticket listed before holdings were kept and not yet given one.
        None => {
            let next = bought(holding::Model::listed(held_ticket, order.user_id, now));
            let next = holding::Model {
                version: 0,
                created_at: now,
                ..next
            };
            holding::Entity::insert(holding::ActiveModel::from(next.clone()))
                .exec_without_returning(txn)
                .await?;
            next
        }
    };
    event::record(txn, event::kind::HOLDING_CHANGED, &next).await
}

/// The payment recorded for order `order_id`, if any.
pub(super) async fn find_payment(
    db: &DatabaseConnection,
    order_id: Uuid,
) -> Result<Option<Payment>, DbErr> {
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
