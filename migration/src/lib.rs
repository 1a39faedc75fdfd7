//! Schema migrations. Written with sea-query so that each runs on PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_users;
mod m20261124_000002_tickets;
mod m20261124_000003_events;
mod m20261124_000004_orders;
mod m20261124_000005_payments;

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
        ]
    }
}
