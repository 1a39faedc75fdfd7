//! The holdings' reads: what a user holds, with each ticket and its check-in.

use entities::{checkin, holding, ticket};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::ApiError;

/// One held ticket: the holding, its ticket, and its check-in at the door if this holding's code
/// was checked in.
pub struct Held {
    pub holding: holding::Model,
    pub ticket: ticket::Model,
    pub checkin: Option<checkin::Model>,
}

/// What `user` holds, the latest acquired first.
pub async fn held_by(db: &DatabaseConnection, user: Uuid) -> Result<Vec<Held>, ApiError> {
    let holdings = holding::Entity::find()
        .filter(holding::Column::UserId.eq(user))
        .order_by_desc(holding::Column::UpdatedAt)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = holdings.iter().map(|h| h.ticket_id).collect();
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let checkins = checkin::Entity::find()
        .filter(checkin::Column::TicketId.is_in(ids))
        .all(db)
        .await?;
    Ok(holdings
        .into_iter()
        .filter_map(|holding| {
            let ticket = tickets.iter().find(|t| t.id == holding.ticket_id)?.clone();
            let checkin = checkins
                .iter()
                .find(|c| c.ticket_id == holding.ticket_id && c.generation == holding.generation)
                .cloned();
            Some(Held {
                holding,
                ticket,
                checkin,
            })
        })
        .collect())
}
