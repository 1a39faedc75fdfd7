//! Schema migrations. Written with sea-query so that each runs on PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_users;
mod m20261124_000002_tickets;
mod m20261124_000003_events;
mod m20261124_000004_orders;
mod m20261124_000005_payments;
mod m20261202_000006_idempotency_keys;
mod m20261202_000007_session_versions;
pub mod m20261202_000008_outbox_relay;
mod m20261202_000009_ticket_search;
mod m20261207_000010_payment_requests;
mod m20261207_000011_worker_heartbeats;
mod names;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_users::Migration),
            Box::new(m20261124_000002_tickets::Migration),
            Box::new(m20261124_000003_events::Migration),
            Box::new(m20261124_000004_orders::Migration),
            Box::new(m20261124_000005_payments::Migration),
            Box::new(m20261202_000006_idempotency_keys::Migration),
            Box::new(m20261202_000007_session_versions::Migration),
            Box::new(m20261202_000008_outbox_relay::Migration),
            Box::new(m20261202_000009_ticket_search::Migration),
            Box::new(m20261207_000010_payment_requests::Migration),
            Box::new(m20261207_000011_worker_heartbeats::Migration),
        ]
    }
}

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
use table_migration;

/// The conventions every record keeps: a UUID `id`, a `version` that starts at 0, and the times
/// it was created and last changed.
fn id() -> ColumnDef {
    sea_orm_migration::schema::pk_uuid(names::Columns::Id)
}

fn version() -> ColumnDef {
    sea_orm_migration::schema::integer(names::Columns::Version)
        .default(0)
        .to_owned()
}

fn created_at() -> ColumnDef {
    sea_orm_migration::schema::timestamp_with_time_zone(names::Columns::CreatedAt)
}

fn updated_at() -> ColumnDef {
    sea_orm_migration::schema::timestamp_with_time_zone(names::Columns::UpdatedAt)
}

/// A foreign key from `from` (table, column) to the `id` of `to`.
fn references(
    from: (impl IntoIden, impl IntoIden),
    to: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to, Alias::new("id"))
        .to_owned()
}

/// Creates the index `name` on `columns` of `table`.
async fn create_index<C: IntoIden>(
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
