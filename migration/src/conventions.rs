//! What every table's migration shares: one that creates a table and drops it again, the columns
//! every record keeps (`id`, `version`, `created_at`, `updated_at`), foreign keys and indexes.

use sea_orm_migration::prelude::*;

use crate::names;

/// A migration that creates one table (with `up`, a function of the migration's module) and
/// drops it again.
macro_rules! table_migration {
    ($table:expr) => {
        #[derive(DeriveMigrationName)]
        pub struct Migration;

        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                up(manager).await
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                let drop = Table::drop().table($table).to_owned();
                manager.drop_table(drop).await
            }
        }
    };
}
pub(crate) use table_migration;

/// The conventions every record keeps: a UUID `id`, a `version` that starts at 0, and the times
/// it was created and last changed.
pub(crate) fn id() -> ColumnDef {
    sea_orm_migration::schema::pk_uuid(names::Columns::Id)
}

pub(crate) fn version() -> ColumnDef {
    sea_orm_migration::schema::integer(names::Columns::Version)
        .default(0)
        .to_owned()
}

pub(crate) fn created_at() -> ColumnDef {
    sea_orm_migration::schema::timestamp_with_time_zone(names::Columns::CreatedAt)
}

pub(crate) fn updated_at() -> ColumnDef {
    sea_orm_migration::schema::timestamp_with_time_zone(names::Columns::UpdatedAt)
}

/// A foreign key from `from` (table, column) to the `id` of `to`.
pub(crate) fn references(
    from: (impl IntoIden, impl IntoIden),
    to: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to, Alias::new("id"))
        .to_owned()
}

/// Creates the index `name` on `columns` of `table`.
pub(crate) async fn create_index<C: IntoIden>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).to_owned();
    for column in columns {
        index.col(column);
    }
    manager.create_index(index).await
}
