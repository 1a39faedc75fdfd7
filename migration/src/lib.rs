//! Schema migrations. Written with sea-query so that each runs on PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod conventions;
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
mod m20261207_000012_holdings;
mod m20261208_000013_changes_of_hands;
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
            Box::new(m20261207_000012_holdings::Migration),
            Box::new(m20261208_000013_changes_of_hands::Migration),
        ]
    }
}
