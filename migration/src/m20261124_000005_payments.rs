//! Payments: at most one per order (a unique `order_id`), in integer cents.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{created_at, id, references, table_migration},
    names::{Columns, Tables},
};

table_migration!(Tables::Payments);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Tables::Payments)
        .col(id())
        // At most one payment per order, whatever retries happen.
        .col(uuid_uniq(Columns::OrderId))
        .col(string(Columns::ChargeId))
        .col(big_integer(Columns::AmountCents))
        .col(string(Columns::Currency))
        .col(created_at())
        .foreign_key(&mut references(
            (Tables::Payments, Columns::OrderId),
            Tables::Orders,
        ))
        .to_owned();
    manager.create_table(table).await
}
