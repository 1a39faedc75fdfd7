//! The relay: publishes the outbox's unpublished rows, in id order, to JetStream, waits for each
//! acknowledgement, then marks them published, batch by batch (on PostgreSQL, each batch in one
//! transaction).
//!
//! - **Once in effect.** Each message's `Nats-Msg-Id` is its event id: a relay that dies after
//!   publishing and before its transaction commits publishes the batch again, and JetStream drops
//!   the copies it saw within its de-duplication window. Beyond it (a relay down for longer than
//!   the window with rows published but unmarked), consumers de-duplicate by `ce-id`.
//! - **One at a time, in order.** On PostgreSQL a batch holds a transaction-scoped advisory lock:
//!   several relays may run, one publishes at a time, and each takes the lowest ids left. On SQLite
//!   run one relay (there a batch is read, published and marked without a transaction around it).
//! - **Woken, not polling.** On PostgreSQL every commit that writes events notifies the relay
//!   (`LISTEN`, [`database::outbox`]): an idle relay publishes at once and otherwise asks the
//!   database only every few seconds, in case a notification was lost. On SQLite it polls.
//! - **Outages.** NATS or the database away: the relay says so once, tries again every second,
//!   puts the stream back if the server lost it, and says when it relays again.
//! - **Retention.** Published rows older than the retention are deleted.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use async_nats::jetstream;
use database::outbox::Wakeups;
use entities::event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait, sea_query::Expr,
};

use crate::{bus, bus::BusSettings, message::Message, stream};

/// The advisory lock every relay takes for a batch (PostgreSQL).
const LOCK: i64 = 0x7469_636b_6574; // "ticket"
/// Rows per batch.
const BATCH: u64 = 100;
/// How often an idle relay looks for new rows when nothing tells it that some were written
/// (SQLite); on PostgreSQL a notification wakes it, and this is only the fallback.
const POLL: Duration = Duration::from_millis(200);
const FALLBACK_POLL: Duration = Duration::from_secs(5);
/// How often the relay measures how far behind the outbox it is.
const MEASURE_EVERY: Duration = Duration::from_secs(2);
/// How often the relay logs its counters and prunes the outbox.
const REPORT_EVERY: Duration = Duration::from_secs(60);
/// How long a relay waits after a failure (NATS or the database away) before it tries again.
const BACKOFF: Duration = Duration::from_secs(1);

/// What a relay needs.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub bus: BusSettings,
    /// Published rows older than this are deleted from the outbox.
    pub retention: Duration,
}

/// The relay's counters, ready for `/metrics`: how many events it published, and how far
/// behind the outbox it is (as last measured, every few seconds). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct RelayStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    published: AtomicU64,
    lag_events: AtomicU64,
    lag_seconds: AtomicU64,
}

impl RelayStats {
    /// Events published (and acknowledged) since the relay started.
    pub fn published(&self) -> u64 {
        self.0.published.load(Relaxed)
    }

    /// Events waiting in the outbox.
    pub fn lag_events(&self) -> u64 {
        self.0.lag_events.load(Relaxed)
    }

    /// How long the oldest waiting event has waited, in seconds.
    pub fn lag_seconds(&self) -> u64 {
        self.0.lag_seconds.load(Relaxed)
    }

    fn add_published(&self, n: usize) {
        self.0.published.fetch_add(n as u64, Relaxed);
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
        self.0.lag_events.store(count, Relaxed);
        self.0.lag_seconds.store(seconds, Relaxed);
        Ok(())
    }
}

/// Makes sure the stream is in place, trying again every few seconds until NATS answers (or
/// `give_up` passes, if given).
pub async fn ensure_stream(
    js: &jetstream::Context,
    settings: &BusSettings,
    give_up: Option<Duration>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut outage = bus::Outage::default();
    // A moment at first (the client is still connecting), then every two seconds.
    let mut pause = Duration::from_millis(100);
    loop {
        match stream::ensure(js, &settings.stream).await {
            Ok(()) => {
                if let Some((attempts, seconds)) = outage.over()
                    && seconds > 0
                {
                    tracing::info!(nats = %settings.nats_url, attempts, seconds, "NATS answers");
                }
                return Ok(());
            }
            Err(error) if give_up.is_some_and(|limit| started.elapsed() >= limit) => {
                return Err(error.into());
            }
            Err(error) => {
                // The first try often fails while the client connects: not worth a line.
                if let Some((attempts, seconds)) = outage.failed()
                    && started.elapsed() > BACKOFF
                {
                    match error {
                        stream::StreamError::Refused { .. } => {
                            tracing::error!(nats = %settings.nats_url, attempts,
                                waited_seconds = seconds, error = %error,
                                "events wait in the outbox until NATS accepts the stream")
                        }
                        stream::StreamError::Unreachable { .. } => {
                            tracing::warn!(nats = %settings.nats_url, attempts,
                                waited_seconds = seconds, error = %error,
                                "NATS does not answer yet; events wait in the outbox until it does")
                        }
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(BACKOFF * 2);
            }
        }
    }
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
    let mut shutdown = std::pin::pin!(shutdown);
    let client = bus::client(&settings.bus, "ticketing relay").await?;
    let js = bus::jetstream(client);
    tokio::select! {
        _ = &mut shutdown => return Ok(()),
        ensured = ensure_stream(&js, &settings.bus, None) => ensured?,
    }
    let mut wakeups = match Wakeups::listen(&db).await {
        Ok(wakeups) => wakeups,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for new events; polling instead");
            None
        }
    };
    tracing::info!(nats = %settings.bus.nats_url, stream = %settings.bus.stream.name,
        woken = if wakeups.is_some() { "by notifications" } else { "by polling" },
        "relaying the outbox");
    let mut last_measure = Instant::now() - MEASURE_EVERY;
    let mut last_report = Instant::now();
    let mut outage = bus::Outage::default();
    let prefix = &settings.bus.stream.subject_prefix;
    loop {
        let next = match relay_batch(&db, &js, prefix).await {
            Ok(n) => {
                if let Some((attempts, seconds)) = outage.over() {
                    tracing::info!(attempts, after_seconds = seconds, "relaying again");
                }
                stats.add_published(n);
                if n > 0 { Next::Now } else { Next::Idle }
            }
            Err(error) => {
                // Said the first time, then every few seconds with the count: not per retry.
                match outage.failed() {
                    Some((attempts, seconds)) => tracing::warn!(
                        attempts,
                        failing_seconds = seconds,
                        error = %format!("{error:#}"),
                        "relaying failed; trying again every second"
                    ),
                    None => tracing::debug!(error = %format!("{error:#}"), "relaying failed again"),
                }
                // The stream may be gone with the server's data: put it back.
                let _ = stream::ensure(&js, &settings.bus.stream).await;
                Next::After(BACKOFF)
            }
        };
        if last_measure.elapsed() > MEASURE_EVERY {
            if let Err(error) = stats.measure(&db).await {
                tracing::debug!(%error, "cannot measure the outbox's lag");
            }
            last_measure = Instant::now();
        }
        if last_report.elapsed() > REPORT_EVERY {
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
            last_report = Instant::now();
        }
        let pause = async {
            match (next, wakeups.as_mut()) {
                (Next::Now, _) => {}
                (Next::After(pause), _) => tokio::time::sleep(pause).await,
                (Next::Idle, Some(wakeups)) => wakeups.wait(FALLBACK_POLL).await,
                (Next::Idle, None) => tokio::time::sleep(POLL).await,
            }
        };
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = pause => {}
        }
    }
}

/// What the relay does after a batch.
#[derive(Clone, Copy)]
enum Next {
    /// There may be more: go on.
    Now,
    /// Nothing was waiting: wait until events are written.
    Idle,
    /// Something failed: wait a while.
    After(Duration),
}

/// Publishes the next batch of unpublished rows and marks them; how many it published (0 when
/// there was none, or another relay holds the lock).
///
/// On PostgreSQL the batch runs in one transaction that holds the relays' advisory lock. SQLite
/// has one relay, and there a transaction that reads and then writes fails (`SQLITE_BUSY_SNAPSHOT`)
/// whenever another write committed in between, as the orders' steps do all the time: the batch
/// is read, published and marked each on its own (one `UPDATE` is atomic, and a batch marked
/// twice is marked the same).
pub async fn relay_batch(
    db: &DatabaseConnection,
    js: &jetstream::Context,
    prefix: &str,
) -> anyhow::Result<usize> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return publish_and_mark(db, js, prefix).await;
    }
    let txn = db.begin().await.context("beginning a relay batch")?;
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
    let published = publish_and_mark(&txn, js, prefix).await?;
    if published > 0 {
        txn.commit().await.context("committing a relay batch")?;
    }
    Ok(published)
}

/// Reads the next batch of unpublished rows through `conn`, publishes each and waits for its
/// acknowledgement, then marks them published; how many.
async fn publish_and_mark(
    conn: &impl ConnectionTrait,
    js: &jetstream::Context,
    prefix: &str,
) -> anyhow::Result<usize> {
    let rows = event::Entity::find()
        .filter(event::Column::PublishedAt.is_null())
        .order_by_asc(event::Column::Id)
        .limit(BATCH)
        .all(conn)
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
        .exec(conn)
        .await
        .context("marking events published")?;
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
