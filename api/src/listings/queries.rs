//! A seller's tickets with what became of each: the tickets, the orders holding them, and the
//! payments of the ones sold (three reads for a page, whatever its size).

use std::collections::HashMap;

use entities::{order, payment, ticket};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::{error::ApiError, input::Page};

/// One of a seller's tickets, the order holding it (if one does) and its payment (if paid).
pub struct Listing {
    pub ticket: ticket::Model,
    pub order: Option<order::Model>,
    pub payment: Option<payment::Model>,
}

/// The seller's tickets, newest first: a page of them and how many there are.
pub async fn for_seller(
    db: &DatabaseConnection,
    seller: Uuid,
    page: Page,
) -> Result<(Vec<Listing>, u64), ApiError> {
    let mine = ticket::Entity::find().filter(ticket::Column::UserId.eq(seller));
    let total = mine.clone().count(db).await?;
    let tickets = mine
        .order_by_desc(ticket::Column::CreatedAt)
        .order_by_desc(ticket::Column::Id)
        .limit(page.limit)
        .offset(page.offset)
        .all(db)
        .await?;
    let order_ids: Vec<Uuid> = tickets.iter().filter_map(|t| t.order_id).collect();
    let orders: HashMap<Uuid, order::Model> = order::Entity::find()
        .filter(order::Column::Id.is_in(order_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut payments: HashMap<Uuid, payment::Model> = payment::Entity::find()
        .filter(payment::Column::OrderId.is_in(order_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.order_id, p))
        .collect();
    let listings = tickets
        .into_iter()
        .map(|ticket| {
            let order = ticket.order_id.and_then(|id| orders.get(&id).cloned());
            let payment = ticket.order_id.and_then(|id| payments.remove(&id));
            Listing {
                ticket,
                order,
                payment,
            }
        })
        .collect();
    Ok((listings, total))
}
