//! Users get a session version, raised by every sign-out: a token issued before it is refused.

use sea_orm_migration::{prelude::*, schema::*};

use crate::names::{Columns, Tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(Tables::Users)
            .add_column(integer(Columns::SessionVersion).default(0))
            .to_owned();
        manager.alter_table(alter).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(Tables::Users)
            .drop_column(Columns::SessionVersion)
            .to_owned();
        manager.alter_table(alter).await
    }
}
