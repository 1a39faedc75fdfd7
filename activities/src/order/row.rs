//! The order row, as the steps read and write it. Writes are conditional on the version read: a
//! step that loses a race to a concurrent edit reads again and retries, up to [`RACE_RETRIES`]
//! times.

use entities::order::{self, Status};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

/// How often a conditional write is retried after losing a race to a concurrent edit.
pub(super) const RACE_RETRIES: usize = 5;

/// The order `order_id`; an error when there is none.
pub(super) async fn find_order(
    db: &impl ConnectionTrait,
    order_id: Uuid,
) -> Result<order::Model, DbErr> {
    order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {order_id}")))
}

/// Moves an order from `from` to `to` (and bumps its version); a no-op when it is not in `from`.
/// Returns the order as it is afterwards.
pub(super) async fn set_status(
    db: &DatabaseConnection,
    order_id: Uuid,
    from: Status,
    to: Status,
) -> Result<order::Model, DbErr> {
    for _ in 0..RACE_RETRIES {
        let read = find_order(db, order_id).await?;
        if read.status != from {
            return Ok(read);
        }
        let updated = order::Model {
            status: to,
            version: read.version + 1,
            updated_at: entities::now(),
            ..read.clone()
        };
        if write_over(db, &read, &updated).await? {
            return Ok(updated);
        }
    }
    Err(DbErr::Custom(format!("order {order_id} kept changing")))
}

/// Writes `next`'s status, cancel reason, version and time over the order, if it is still as
/// `read` (same version); `false` when it changed since (nothing is written then).
pub(super) async fn write_over(
    db: &impl ConnectionTrait,
    read: &order::Model,
    next: &order::Model,
) -> Result<bool, DbErr> {
    let result = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(next.status))
        .col_expr(order::Column::CancelReason, Expr::value(next.cancel_reason))
        .col_expr(order::Column::Version, Expr::value(next.version))
        .col_expr(order::Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(order::Column::Id.eq(read.id))
        .filter(order::Column::Version.eq(read.version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
