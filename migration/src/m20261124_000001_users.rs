//! Accounts: an email as typed and its lowercase key (unique), and an Argon2id hash.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    conventions::{created_at, id, table_migration},
    names::{Columns, Tables},
};

table_migration!(Tables::Users);

async fn up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let table = Table::create()
        .table(Tables::Users)
        .col(id())
        .col(string(Columns::Email))
        .col(string_uniq(Columns::EmailKey))
        .col(string(Columns::PasswordHash))
        .col(created_at())
        .to_owned();
    manager.create_table(table).await
}
