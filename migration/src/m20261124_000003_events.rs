//! The outbox: one row per domain event, in the order they were written.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{create_index, created_at, table_migration},
    names::{Columns, Tables},
};

table_migration!(Tables::Events);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Tables::Events)
        .col(big_pk_auto(Columns::Id))
        .col(string(Columns::Kind))
        .col(uuid(Columns::AggregateId))
        .col(integer(Columns::Version))
        .col(json(Columns::Payload))
        .col(created_at())
        .col(timestamp_with_time_zone_null(Columns::PublishedAt))
        .to_owned();
    manager.create_table(table).await?;
    let by_record = [Columns::AggregateId, Columns::Version];
    create_index(manager, "events_aggregate", Tables::Events, by_record).await
}
