//! Reading orders for the API (the workflow's activities do all the writing).

use std::collections::HashMap;

use entities::{order, ticket};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{error::ApiError, input::Page};

/// An order with its ticket (when the ticket still exists).
pub type OrderWithTicket = (order::Model, Option<ticket::Model>);

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<OrderWithTicket>, ApiError> {
    let Some(order) = order::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let ticket = ticket::Entity::find_by_id(order.ticket_id).one(db).await?;
    Ok(Some((order, ticket)))
}

/// A buyer's orders, all statuses, oldest first.
pub async fn list_for_buyer(
    db: &DatabaseConnection,
    buyer: Uuid,
    page: Page,
) -> Result<Vec<OrderWithTicket>, ApiError> {
    let orders = order::Entity::find()
        .filter(order::Column::UserId.eq(buyer))
        .order_by_asc(order::Column::CreatedAt)
        .order_by_asc(order::Column::Id)
        .limit(page.limit)
        .offset(page.offset)
        .all(db)
        .await?;
    let ticket_ids: Vec<Uuid> = orders.iter().map(|o| o.ticket_id).collect();
    let tickets: HashMap<Uuid, ticket::Model> = ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(ticket_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(orders
        .into_iter()
        .map(|o| {
            let ticket = tickets.get(&o.ticket_id).cloned();
            (o, ticket)
        })
        .collect())
}
