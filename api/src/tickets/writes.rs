//! The ticket's writes: a new ticket (held by its lister), an edit. Every change is conditional on the version it read
//! and appends its event to the outbox in the same transaction.

use entities::{Money, TicketTitle, event, holding, ticket};
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::error::ApiError;

pub async fn create(
    db: &DatabaseConnection,
    owner: Uuid,
    title: TicketTitle,
    price: Money,
) -> Result<ticket::Model, ApiError> {
    let now = entities::now();
    let ticket = ticket::Model {
        id: Uuid::new_v4(),
        title: title.into_string(),
        price_cents: price.cents(),
        user_id: owner,
        version: 0,
        order_id: None,
        created_at: now,
        updated_at: now,
    };
    // Its lister holds it until a sale completes.
    let held = holding::Model::listed(ticket.id, owner, now);
    let txn = db.begin().await?;
    ticket::Entity::insert(ticket::ActiveModel::from(ticket.clone()))
        .exec_without_returning(&txn)
        .await?;
    holding::Entity::insert(holding::ActiveModel::from(held))
        .exec_without_returning(&txn)
        .await?;
    event::record(&txn, event::kind::TICKET_CREATED, &ticket).await?;
    txn.commit().await?;
    Ok(ticket)
}

/// Sets title and price if the ticket is still at `read.version` and unreserved; `Ok(None)` when
/// someone changed or reserved it since `read` was read (nothing is written then).
pub async fn update(
    db: &DatabaseConnection,
    read: &ticket::Model,
    title: TicketTitle,
    price: Money,
) -> Result<Option<ticket::Model>, ApiError> {
    let updated = ticket::Model {
        title: title.into_string(),
        price_cents: price.cents(),
        version: read.version + 1,
        updated_at: entities::now(),
        ..read.clone()
    };
    let txn = db.begin().await?;
    if !updated.write_over_free(&txn, read).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    event::record(&txn, event::kind::TICKET_UPDATED, &updated).await?;
    txn.commit().await?;
    Ok(Some(updated))
}
