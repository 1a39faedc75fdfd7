//! What the listing's search and sorting need: on PostgreSQL a trigram index of the lowercased
//! title (a case-insensitive "contains" search uses it) when the `pg_trgm` extension can be had
//! (it is created if the role may; otherwise the search works unindexed, and a notice says so),
//! and on both databases indexes of the tickets for sale by date and by price.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX tickets_for_sale_by_date ON tickets (created_at, id) \
             WHERE order_id IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX tickets_for_sale_by_price ON tickets (price_cents, id) \
             WHERE order_id IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX tickets_by_seller ON tickets (user_id, created_at)")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "DO $$
                 BEGIN
                   BEGIN
                     CREATE EXTENSION IF NOT EXISTS pg_trgm;
                   EXCEPTION WHEN insufficient_privilege THEN
                     RAISE NOTICE 'pg_trgm cannot be created by this role: the title search is not indexed';
                   END;
                   IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                     CREATE INDEX tickets_title_trigrams ON tickets USING gin (lower(title) gin_trgm_ops);
                   END IF;
                 END $$;",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for index in [
            "tickets_for_sale_by_date",
            "tickets_for_sale_by_price",
            "tickets_by_seller",
            "tickets_title_trigrams",
        ] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}"))
                .await?;
        }
        Ok(())
    }
}
