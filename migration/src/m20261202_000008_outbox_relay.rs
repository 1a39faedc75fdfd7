//! What the outbox relay needs: an index of the events not yet published (the relay's every read),
//! and on PostgreSQL a notification on the channel `ticketing_events` whenever events are written,
//! so that an idle relay wakes at once instead of polling.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel the relay listens on (PostgreSQL `LISTEN`).
pub const CHANNEL: &str = "ticketing_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // A partial index: the same words on both databases.
        db.execute_unprepared(
            "CREATE INDEX events_unpublished ON events (id) WHERE published_at IS NULL",
        )
        .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            // One notification per statement (and PostgreSQL folds equal ones of a transaction
            // into one), sent when the transaction commits.
            db.execute_unprepared(&format!(
                "CREATE FUNCTION ticketing_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$;
                 CREATE TRIGGER events_notify AFTER INSERT ON events
                 FOR EACH STATEMENT EXECUTE FUNCTION ticketing_events_notify();"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared(
                "DROP TRIGGER IF EXISTS events_notify ON events;
                 DROP FUNCTION IF EXISTS ticketing_events_notify();",
            )
            .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS events_unpublished")
            .await?;
        Ok(())
    }
}
