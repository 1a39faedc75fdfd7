//! Tickets for sale: integer cents (positive), the seller, a version, the order holding it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{create_index, created_at, id, references, table_migration, updated_at, version},
    names::{Columns, Tables},
};

table_migration!(Tables::Tickets);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Tables::Tickets)
        .col(id())
        .col(string(Columns::Title))
        .col(big_integer(Columns::PriceCents))
        .col(uuid(Columns::UserId))
        .col(version())
        .col(uuid_null(Columns::OrderId))
        .col(created_at())
        .col(updated_at())
        .check(Expr::col(Columns::PriceCents).gt(0))
        .foreign_key(&mut references(
            (Tables::Tickets, Columns::UserId),
            Tables::Users,
        ))
        .to_owned();
    manager.create_table(table).await?;
    // The public listing: unreserved tickets, oldest first.
    let listing = [Columns::CreatedAt, Columns::Id];
    create_index(manager, "tickets_listing", Tables::Tickets, listing).await
}
