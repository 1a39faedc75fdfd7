//! Reading orders for the API (the workflow's activities do all the writing).

use std::collections::HashMap;

use entities::{order, payment, ticket};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{error::ApiError, input::Page};

/// An order with its ticket (when the ticket still exists) and its payment (once paid).
pub type OrderWithTicket = (order::Model, Option<ticket::Model>, Option<payment::Model>);

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<OrderWithTicket>, ApiError> {
    let Some(order) = order::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let ticket = ticket::Entity::find_by_id(order.ticket_id).one(db).await?;
    let payment = match order.status {
        order::Status::Complete => {
            payment::Entity::find()
                .filter(payment::Column::OrderId.eq(order.id))
                .one(db)
                .await?
        }
        _ => None,
    };
    Ok(Some((order, ticket, payment)))
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
    let paid: Vec<Uuid> = orders
        .iter()
        .filter(|o| o.status == order::Status::Complete)
        .map(|o| o.id)
        .collect();
    let mut payments: HashMap<Uuid, payment::Model> = payment::Entity::find()
        .filter(payment::Column::OrderId.is_in(paid))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.order_id, p))
        .collect();
    Ok(orders
        .into_iter()
        .map(|o| {
            let ticket = tickets.get(&o.ticket_id).cloned();
            let payment = payments.remove(&o.id);
            (o, ticket, payment)
        })
        .collect())
}
