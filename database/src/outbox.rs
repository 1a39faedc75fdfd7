//! Waking the outbox relay when events are written: on PostgreSQL every insert into `events`
//! notifies the channel [`CHANNEL`] when its transaction commits (a trigger of the migrations), and
//! [`Wakeups`] listens to it. SQLite has no such thing: there the relay polls.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend, DbErr, sqlx::postgres::PgListener};

pub use migration::m20261202_000008_outbox_relay::CHANNEL;

/// Notifications that events were written (PostgreSQL only).
pub struct Wakeups {
    listener: PgListener,
}

impl Wakeups {
    /// Listens on [`CHANNEL`] over a connection of `db`'s pool; `None` on SQLite.
    pub async fn listen(db: &DatabaseConnection) -> Result<Option<Wakeups>, DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let pool = db.get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool)
            .await
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?;
        Ok(Some(Wakeups { listener }))
    }

    /// Waits until events are written, or `at_most` has passed (notifications sent while the
    /// connection was being replaced are lost: callers look anyway when this returns). Returns
    /// at once, draining them, when notifications are already waiting.
    pub async fn wait(&mut self, at_most: Duration) {
        match tokio::time::timeout(at_most, self.listener.recv()).await {
            Ok(Ok(_)) => {
                // Several commits may have notified: one look serves them all.
                while self.listener.next_buffered().is_some() {}
            }
            // The connection is lost and could not be replaced (the database is away): the
            // listener tries again on the next call, not at once, so that the database is not
            // asked in a loop.
            Ok(Err(_)) => tokio::time::sleep(at_most.min(Duration::from_secs(1))).await,
            Err(_elapsed) => {}
        }
    }
}

/// How long the oldest event not yet published has waited; `None` when none waits.
pub async fn oldest_unpublished_age(db: &DatabaseConnection) -> Result<Option<Duration>, DbErr> {
    use entities::event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let oldest = event::Entity::find()
        .filter(event::Column::PublishedAt.is_null())
        .order_by_asc(event::Column::Id)
        .one(db)
        .await?;
    Ok(oldest.map(|row| {
        (chrono::Utc::now() - row.created_at)
            .to_std()
            .unwrap_or_default()
    }))
}
