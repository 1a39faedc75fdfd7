//! Idempotency keys: a buyer's `Idempotency-Key` on `POST /api/orders` or `POST /api/payments`,
//! a fingerprint of the request it came with, the order it is about and, once decided, the answer
//! a retry gets again. At most one per buyer and key.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{created_at, id, references, table_migration},
    names::{Columns, Tables},
};

table_migration!(Tables::IdempotencyKeys);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Tables::IdempotencyKeys)
        .col(id())
        .col(uuid(Columns::UserId))
        .col(string(Columns::Key))
        .col(string(Columns::Request))
        // Not a foreign key: the order of a reservation that was refused never exists.
        .col(uuid(Columns::OrderId))
        .col(text_null(Columns::Answer))
        .col(created_at())
        .foreign_key(&mut references(
            (Tables::IdempotencyKeys, Columns::UserId),
            Tables::Users,
        ))
        .to_owned();
    manager.create_table(table).await?;
    // One claim per buyer and key, whatever retries race.
    let unique = Index::create()
        .name("idempotency_keys_by_user_and_key")
        .table(Tables::IdempotencyKeys)
        .col(Columns::UserId)
        .col(Columns::Key)
        .unique()
        .to_owned();
    manager.create_index(unique).await
}
