//! How every `ticketing` process talks to the database: one way to open the pool (PostgreSQL, or
//! SQLite in WAL mode), migrations, a readiness ping, the batched hot reads of the API, what counts
//! as "the database is away" (503, not 500).

pub mod availability;
pub mod batch;
pub mod outbox;
pub mod workers;

pub use availability::is_unavailable;
pub use batch::ReadFailed;

use std::time::Duration;

use entities::ticket;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Opens a pool on PostgreSQL or SQLite. SQLite runs in WAL mode with a busy timeout, so that
/// concurrent writers wait for each other instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        // Ping a connection before use only if it sat idle for a second or more: one the server
        // closed meanwhile (a restart) is replaced instead of failing a request, while a busy
        // server reuses connections without a round trip of their own.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    if url.starts_with("sqlite:") {
        options.max_connections(8);
    } else {
        options.max_connections(20);
    }
    Database::connect(options).await
}

/// How many reader tasks (each with its connection) batch the hottest reads on PostgreSQL. One:
/// while its query is out, the reads that arrive gather into the next batch. More readers split
/// the same reads into more, smaller queries, each a wake-up of a PostgreSQL backend and of the
/// server: with four, 32 concurrent readers got about 23,400 reads/s on the benchmark's machine,
/// with two 26,900, with one 30,700 (`docs/performance.md`).
const BATCH_READERS: usize = 1;

/// Where the hottest reads (one ticket by id) go: on PostgreSQL, batched reader tasks with
/// connections of their own (see [`batch`]); on SQLite, the pool.
#[derive(Clone)]
pub enum Reads {
    Batched(batch::BatchReads<ticket::Model>),
    Pool(DatabaseConnection),
}

impl Reads {
    /// Starts the readers on the current Tokio runtime; they connect on the first reads.
    pub fn new(url: &str, db: &DatabaseConnection) -> Result<Self, DbErr> {
        Ok(match db.get_database_backend() {
            DbBackend::Postgres => Reads::Batched(batch::BatchReads::start(
                url,
                BATCH_READERS,
                tickets_by_ids(),
                |row| {
                    let ticket = ticket::Model::from_query_result(row, "")?;
                    Ok((ticket.id, ticket))
                },
            )?),
            _ => Reads::Pool(db.clone()),
        })
    }
}

/// The tickets whose ids are in the array `$1`, every column as sea-orm reads them.
fn tickets_by_ids() -> String {
    let select = ticket::Entity::find().build(DbBackend::Postgres).sql;
    format!(r#"{select} WHERE "tickets"."id" = ANY($1)"#)
}

/// `postgres://u@h:p/old?x` with the database replaced by `name`.
pub fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    format!("{}/{}{}", &base[..authority_end], name, query)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A cheap round trip, for readiness.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
