//! Orders: the buyer, the ticket, a status and cancel reason (as text), the price captured when
//! the order was made, its expiry and a version.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{create_index, created_at, id, references, table_migration, updated_at, version},
    names::{Columns, Tables},
};

table_migration!(Tables::Orders);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Tables::Orders)
        .col(id())
        .col(uuid(Columns::UserId))
        .col(uuid(Columns::TicketId))
        .col(string(Columns::Status))
        .col(string_null(Columns::CancelReason))
        .col(big_integer(Columns::PriceCents))
        .col(timestamp_with_time_zone(Columns::ExpiresAt))
        .col(version())
        .col(created_at())
        .col(updated_at())
        .foreign_key(&mut references(
            (Tables::Orders, Columns::UserId),
            Tables::Users,
        ))
        .foreign_key(&mut references(
            (Tables::Orders, Columns::TicketId),
            Tables::Tickets,
        ))
        .to_owned();
    manager.create_table(table).await?;
    // A buyer's orders, oldest first.
    let by_buyer = [Columns::UserId, Columns::CreatedAt];
    create_index(manager, "orders_by_buyer", Tables::Orders, by_buyer).await
}
