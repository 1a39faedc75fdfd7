//! The relay: publishes the outbox's unpublished rows, in id order, to JetStream, waits for each
//! acknowledgement, then marks them published, batch by batch, each batch in one transaction.
//!
//! - **Once in effect.** Each message's `Nats-Msg-Id` is its event id: a relay that dies after
//!   publishing and before its transaction commits publishes the batch again, and JetStream drops
//!   the copies it saw within its de-duplication window. Beyond it (a relay down for longer than
//!   the window with rows published but unmarked), consumers de-duplicate by `ce-id`.
//! - **One at a time, in order.** On PostgreSQL a batch holds a transaction-scoped advisory lock:
//!   several relays may run, one publishes at a time, and each takes the lowest ids left. On SQLite
//!   run one relay (the transaction serialises writers, but not the reads before them).
//! - **Retention.** Published rows older than the retention are deleted.

use std::{future::Future, time::Duration};

use anyhow::Context;
use async_nats::jetstream;
use entities::event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait, sea_query::Expr,
};

use crate::{message::Message, stream};

/// The advisory lock every relay takes for a batch (PostgreSQL).
const LOCK: i64 = 0x7469_636b_6574; // "ticket"
/// Rows per batch.
const BATCH: u64 = 100;
/// How often an idle relay looks for new rows.
const POLL: Duration = Duration::from_millis(200);
/// How often the relay measures how far behind the outbox it is.
const MEASURE_EVERY: Duration = Duration::from_secs(2);
/// How long a relay waits after a failure (NATS or the database away) before it tries again.
const BACKOFF: Duration = Duration::from_secs(1);

/// What a relay needs.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// `nats://host:4222`
    pub nats_url: String,
    pub stream: stream::StreamSettings,
    /// Published rows older than this are deleted from the outbox.
    pub retention: Duration,
}

/// The relay's counters, ready for `/metrics`: how many events it published, and how far
/// behind the outbox it is (as last measured, every few seconds). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct RelayStats(std::sync::Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    published: std::sync::atomic::AtomicU64,
    lag_events: std::sync::atomic::AtomicU64,
    lag_seconds: std::sync::atomic::AtomicU64,
}

impl RelayStats {
    /// Events published (and acknowledged) since the relay started.
    pub fn published(&self) -> u64 {
        self.0.published.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Events waiting in the outbox.
    pub fn lag_events(&self) -> u64 {
        self.0.lag_events.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How long the oldest waiting event has waited, in seconds.
    pub fn lag_seconds(&self) -> u64 {
        self.0
            .lag_seconds
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn add_published(&self, n: usize) {
        self.0
            .published
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// Measures the outbox's lag.
    async fn measure(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        use sea_orm::PaginatorTrait;
        let waiting = || event::Entity::find().filter(event::Column::PublishedAt.is_null());
        let count = waiting().count(db).await?;
        let oldest = waiting().order_by_asc(event::Column::Id).one(db).await?;
        let seconds = oldest.map_or(0, |row| {
            (chrono::Utc::now() - row.created_at).num_seconds().max(0) as u64
        });
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        self.0.lag_events.store(count, relaxed);
        self.0.lag_seconds.store(seconds, relaxed);
        Ok(())
    }
}

/// Connects to NATS (retrying until it answers) with the stream in place.
pub async fn connect(settings: &RelaySettings) -> anyhow::Result<jetstream::Context> {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(&settings.nats_url)
        .await
        .with_context(|| format!("cannot connect to NATS_URL {}", settings.nats_url))?;
    let js = jetstream::new(client);
    stream::ensure(&js, &settings.stream).await?;
    Ok(js)
}

/// Relays until `shutdown` completes (finishing the batch in flight).
pub async fn run(
    db: DatabaseConnection,
    settings: RelaySettings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    run_counted(db, settings, RelayStats::default(), shutdown).await
}

/// As [`run`], keeping `stats` up to date (and logging them every minute).
pub async fn run_counted(
    db: DatabaseConnection,
    settings: RelaySettings,
    stats: RelayStats,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let js = connect(&settings).await?;
    let mut last_measure = std::time::Instant::now() - Duration::from_secs(3600);
    tracing::info!(nats = %settings.nats_url, stream = %settings.stream.name, "relaying the outbox");
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_prune = std::time::Instant::now() - Duration::from_secs(3600);
    loop {
        let pause = match relay_batch(&db, &js, &settings.stream.subject_prefix).await {
            Ok(0) => POLL,
            Ok(n) => {
                stats.add_published(n);
                Duration::ZERO
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "relaying failed; trying again");
                BACKOFF
            }
        };
        if last_measure.elapsed() > MEASURE_EVERY {
            if let Err(error) = stats.measure(&db).await {
                tracing::debug!(%error, "cannot measure the outbox's lag");
            }
            last_measure = std::time::Instant::now();
        }
        if last_prune.elapsed() > Duration::from_secs(60) {
            tracing::info!(
                published = stats.published(),
                lag_events = stats.lag_events(),
                lag_seconds = stats.lag_seconds(),
                "event relay"
            );
            match prune(&db, settings.retention).await {
                Ok(pruned) if pruned > 0 => tracing::info!(pruned, "pruned published events"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "pruning the outbox failed"),
            }
            last_prune = std::time::Instant::now();
        }
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// Publishes the next batch of unpublished rows and marks them; how many it published (0 when
/// there was none, or another relay holds the lock).
pub async fn relay_batch(
    db: &DatabaseConnection,
    js: &jetstream::Context,
    prefix: &str,
) -> anyhow::Result<usize> {
    let txn = db.begin().await.context("beginning a relay batch")?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        let locked = txn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("SELECT pg_try_advisory_xact_lock({LOCK}) AS locked"),
            ))
            .await?
            .map(|row| row.try_get::<bool>("", "locked"))
            .transpose()?
            .unwrap_or(false);
        if !locked {
            return Ok(0);
        }
    }
    let rows = event::Entity::find()
        .filter(event::Column::PublishedAt.is_null())
        .order_by_asc(event::Column::Id)
        .limit(BATCH)
        .all(&txn)
        .await
        .context("reading unpublished events")?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Sent one after another, each acknowledged before the next: the stream keeps their order.
    for row in &rows {
        let message = Message::of(prefix, row);
        js.publish_with_headers(message.subject, message.headers, message.body.into())
            .await
            .with_context(|| format!("publishing event {}", row.id))?
            .await
            .with_context(|| format!("no acknowledgement for event {}", row.id))?;
    }
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    event::Entity::update_many()
        .col_expr(event::Column::PublishedAt, Expr::value(entities::now()))
        .filter(event::Column::Id.is_in(ids))
        .exec(&txn)
        .await
        .context("marking events published")?;
    txn.commit().await.context("committing a relay batch")?;
    Ok(rows.len())
}

/// Deletes the published rows older than `retention`; how many.
pub async fn prune(db: &DatabaseConnection, retention: Duration) -> anyhow::Result<u64> {
    let before = entities::now() - chrono::Duration::from_std(retention).unwrap_or_default();
    let deleted = event::Entity::delete_many()
        .filter(event::Column::PublishedAt.lt(before))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
