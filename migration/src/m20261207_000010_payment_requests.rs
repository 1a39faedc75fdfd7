//! A payment names the pay request that made it (`request_id`: the update id of the workflow's
//! `pay`), so that the answer to that request is decided by what was recorded, not by which
//! attempt of it saw the charge first. Payments made before it have none.

use sea_orm_migration::{prelude::*, schema::*};

use crate::names::{Columns, Tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(Tables::Payments)
            .add_column(string_null(Columns::RequestId))
            .to_owned();
        manager.alter_table(alter).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(Tables::Payments)
            .drop_column(Columns::RequestId)
            .to_owned();
        manager.alter_table(alter).await
    }
}
