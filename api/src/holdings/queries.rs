//! The holdings' reads: what a user holds, with each ticket, its open listing and its check-in;
//! the transfers a user gave or received.

use entities::{checkin, holding, ticket, transfer, user};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::error::ApiError;

/// One held ticket: the holding, its ticket, the listing that offers it (if any) and its
/// check-in at the door if this holding's code was checked in.
pub struct Held {
    pub holding: holding::Model,
    pub ticket: ticket::Model,
    pub listing: Option<ticket::Model>,
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
    let listings = holdings.iter().filter_map(|h| h.listing_id);
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(ids.iter().copied().chain(listings)))
        .all(db)
        .await?;
    let checkins = checkin::Entity::find()
        .filter(checkin::Column::TicketId.is_in(ids))
        .all(db)
        .await?;
    let ticket = |id: Uuid| tickets.iter().find(|t| t.id == id).cloned();
    Ok(holdings
        .into_iter()
        .filter_map(|holding| {
            let checkin = checkins
                .iter()
                .find(|c| c.ticket_id == holding.ticket_id && c.generation == holding.generation)
                .cloned();
            Some(Held {
                ticket: ticket(holding.ticket_id)?,
                listing: holding.listing_id.and_then(ticket),
                holding,
                checkin,
            })
        })
        .collect())
}

/// One transfer with the emails of both sides and the ticket's title.
pub struct Given {
    pub transfer: transfer::Model,
    pub from: String,
    pub to: String,
    pub title: String,
}

/// The transfers `user` gave or received, the latest first (at most `limit`).
pub async fn transfers_of(
    db: &DatabaseConnection,
    user: Uuid,
    limit: u64,
) -> Result<Vec<Given>, ApiError> {
    let transfers = transfer::Entity::find()
        .filter(
            Condition::any()
                .add(transfer::Column::FromUserId.eq(user))
                .add(transfer::Column::ToUserId.eq(user)),
        )
        .order_by_desc(transfer::Column::CreatedAt)
        .order_by_desc(transfer::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let people: Vec<Uuid> = transfers
        .iter()
        .flat_map(|t| [t.from_user_id, t.to_user_id])
        .collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(people))
        .all(db)
        .await?;
    let tickets = ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(transfers.iter().map(|t| t.ticket_id)))
        .all(db)
        .await?;
    let email = |id: Uuid| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.email.clone())
            .unwrap_or_default()
    };
    Ok(transfers
        .into_iter()
        .map(|transfer| Given {
            from: email(transfer.from_user_id),
            to: email(transfer.to_user_id),
            title: tickets
                .iter()
                .find(|t| t.id == transfer.ticket_id)
                .map(|t| t.title.clone())
                .unwrap_or_default(),
            transfer,
        })
        .collect())
}
