//! The first step: reserve the ticket for a new order and write the order row. The `reserve`
//! activity, its database work, and what it exchanges with the workflow.

use chrono::{DateTime, Utc};
use entities::{
    event,
    order::{self, Status},
    ticket,
};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use telemetry::OrderOutcome;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use super::{
    context::{OrderActivities, about},
    row::RACE_RETRIES,
};

/// What the workflow asks `reserve` for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveInput {
    pub order_id: Uuid,
    pub ticket_id: Uuid,
    pub buyer_id: Uuid,
    pub expires_at: DateTime<Utc>,
    /// A reservation attempted after this is refused ([`ReserveOutcome::TooLate`]): the API has
    /// stopped waiting for it. Absent in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_by: Option<DateTime<Utc>>,
}

/// The outcome of a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReserveOutcome {
    Reserved(Reservation),
    /// No such ticket (404).
    TicketNotFound,
    /// The buyer is the ticket's seller (400).
    OwnTicket,
    /// Another order holds the ticket (400).
    TicketTaken,
    /// Its seller took the ticket off sale (400).
    Withdrawn,
    /// Attempted after the request's deadline: nothing was reserved, and the API answered (or
    /// will answer) that the order was not made.
    TooLate,
}

/// A ticket held by an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub order_id: Uuid,
    pub ticket_id: Uuid,
    pub buyer_id: Uuid,
    pub title: String,
    /// The price when the order was made, in integer cents.
    pub price_cents: i64,
    pub expires_at: DateTime<Utc>,
}

/// The `reserve` activity: reserves the ticket and writes the order row (see
/// [`reserve_ticket`]); counts the order as started, and as rejected when refused.
pub(super) async fn reserve(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    input: ReserveInput,
) -> Result<ReserveOutcome, ActivityError> {
    about(ctx, "reserve", input.order_id, async {
        let (outcome, fresh) = reserve_ticket(&activities.db, &input).await?;
        if fresh {
            activities.metrics.order_started();
            match &outcome {
                ReserveOutcome::Reserved(reservation) => tracing::info!(
                    ticket_id = %input.ticket_id,
                    expires_at = %reservation.expires_at,
                    "order reserved its ticket"
                ),
                refused => {
                    activities.metrics.order_finished(OrderOutcome::Rejected);
                    tracing::info!(ticket_id = %input.ticket_id, outcome = ?refused, "order rejected");
                }
            }
        }
        Ok(outcome)
    })
    .await
}

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
/// free and on sale; then the ticket points at the order and the order row is written with the price of the
/// moment. A retry after success finds the order row and answers the same. The flag says whether
/// this call decided (false for a retry that found the order made).
pub async fn reserve_ticket(
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
        if read.withdrawn_at.is_some() {
            return Ok((ReserveOutcome::Withdrawn, true));
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

/// The write half of [`reserve_ticket`]; `None` when the ticket is no longer at the version read.
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
