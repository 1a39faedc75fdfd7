//! The ticket's reads: one by id (batched with the reads in flight on PostgreSQL), and the
//! tickets for sale, searched, filtered, sorted and paged.

use entities::{order, ticket};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use database::Reads;

use crate::{error::ApiError, input::Page};

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<ticket::Model>, ApiError> {
    Ok(ticket::Entity::find_by_id(id).one(db).await?)
}

/// Like [`find`], for `GET /api/tickets/:id`: batched with the reads in flight on PostgreSQL.
pub async fn show(reads: &Reads, id: Uuid) -> Result<Option<ticket::Model>, ApiError> {
    match reads {
        Reads::Batched(batch) => Ok(batch.get(id).await?),
        Reads::Pool(db) => find(db, id).await,
    }
}

/// Why a ticket that `order_id` holds cannot be taken off sale: sold, or reserved.
pub async fn why_not_free(db: &DatabaseConnection, order_id: Uuid) -> Result<String, ApiError> {
    let sold = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .is_some_and(|o| o.status == order::Status::Complete);
    Ok(if sold {
        "Cannot take a sold ticket off sale".into()
    } else {
        "Cannot take a reserved ticket off sale: an order holds it until it is paid or expires"
            .into()
    })
}

/// Which tickets for sale a listing shows, and in what order.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Titles containing this, whatever the case (already lowercased and trimmed).
    pub title: Option<String>,
    /// Prices from, to (integer cents, inclusive).
    pub min_cents: Option<i64>,
    pub max_cents: Option<i64>,
    pub sort: Sort,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Oldest first: the API's default, as the original had it.
    #[default]
    Oldest,
    Newest,
    PriceLow,
    PriceHigh,
}

/// Tickets on sale that nobody has reserved and that match `search`, in its order: a page of them and how many
/// match in all.
pub async fn search_for_sale(
    db: &DatabaseConnection,
    search: &Search,
    page: Page,
) -> Result<(Vec<ticket::Model>, u64), ApiError> {
    use sea_orm::{
        PaginatorTrait,
        sea_query::{Expr, ExprTrait, Func, LikeExpr},
    };
    let mut query = ticket::Entity::find()
        .filter(ticket::Column::OrderId.is_null())
        .filter(ticket::Column::WithdrawnAt.is_null());
    if let Some(needle) = &search.title {
        // `%` and `_` in what the visitor typed are letters, not wildcards.
        let escaped = needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = LikeExpr::new(format!("%{escaped}%")).escape('\\');
        query =
            query.filter(Expr::expr(Func::lower(Expr::col(ticket::Column::Title))).like(pattern));
    }
    if let Some(min) = search.min_cents {
        query = query.filter(ticket::Column::PriceCents.gte(min));
    }
    if let Some(max) = search.max_cents {
        query = query.filter(ticket::Column::PriceCents.lte(max));
    }
    let total = query.clone().count(db).await?;
    let query = match search.sort {
        Sort::Oldest => query
            .order_by_asc(ticket::Column::CreatedAt)
            .order_by_asc(ticket::Column::Id),
        Sort::Newest => query
            .order_by_desc(ticket::Column::CreatedAt)
            .order_by_desc(ticket::Column::Id),
        Sort::PriceLow => query
            .order_by_asc(ticket::Column::PriceCents)
            .order_by_asc(ticket::Column::Id),
        Sort::PriceHigh => query
            .order_by_desc(ticket::Column::PriceCents)
            .order_by_desc(ticket::Column::Id),
    };
    let tickets = query.limit(page.limit).offset(page.offset).all(db).await?;
    Ok((tickets, total))
}
