//! The ticket's writes: a new ticket (held by its lister), an edit, a withdrawal. Every change is
//! conditional on the version it read and appends its event to the outbox in the same
//! transaction.

use api_types::{Currency, TicketJson};
use entities::{Money, TicketTitle, event, event::Record, holding, ticket};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    error::ApiError,
    request_keys::{Attempt, RequestKey, write_once},
};

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
        resale_of: None,
        withdrawn_at: None,
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

/// Takes `read` off sale if it is still at its version, free and on sale: `withdrawn_at` is set,
/// its holding is listed nowhere any more (the holder keeps it), and `ticket:withdrawn` goes to
/// the outbox; with `key` kept in the same transaction. `Attempt::Stale` when someone changed,
/// reserved or withdrew it since `read` was read (nothing is written then).
pub async fn withdraw(
    db: &DatabaseConnection,
    read: &ticket::Model,
    currency: &Currency,
    key: Option<&RequestKey>,
) -> Result<Attempt<TicketJson>, ApiError> {
    let now = entities::now();
    let withdrawn = ticket::Model {
        withdrawn_at: Some(now),
        version: read.version + 1,
        updated_at: now,
        ..read.clone()
    };
    let answer = TicketJson::new(withdrawn.clone(), currency);
    write_once(db, key, answer, async |txn| {
        let written = ticket::Entity::update_many()
            .col_expr(
                ticket::Column::WithdrawnAt,
                Expr::value(withdrawn.withdrawn_at),
            )
            .col_expr(ticket::Column::Version, Expr::value(withdrawn.version))
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(read.id))
            .filter(ticket::Column::Version.eq(read.version))
            .filter(ticket::Column::OrderId.is_null())
            .filter(ticket::Column::WithdrawnAt.is_null())
            .exec(txn)
            .await?;
        if written.rows_affected != 1 {
            return Ok(false);
        }
        crate::holdings::writes::unlist(txn, &withdrawn).await?;
        let mut payload = withdrawn.event_payload();
        payload["withdrawnAt"] = serde_json::json!(now);
        event::append(
            txn,
            event::kind::TICKET_WITHDRAWN,
            withdrawn.id,
            withdrawn.version,
            payload,
        )
        .await?;
        Ok(true)
    })
    .await
}
