//! Reads of rows by id on PostgreSQL, batched: the hottest read (one ticket by id) in as few round
//! trips as the load allows.
//!
//! Each reader task owns a connection. A reader takes every read waiting in the queue (up to
//! [`MAX_BATCH`]), runs one `... WHERE id = ANY($1)` for all of them and answers each; the reads
//! that arrive while its query is out wait for the next reader that is free, and go together. A
//! lone read is one query, sent at once; thirty-two at a time cost a handful. Every read is
//! answered by a query sent after it arrived, so it sees every change committed before it was
//! asked for.
//!
//! The readers' connections never scan a whole table (`enable_seqscan = off`): a batch is at most
//! [`MAX_BATCH`] rows by primary key, so the index is always the right way, but on a small table
//! (a thousand tickets and their dead versions) the planner's costs sit close enough that it
//! switches between a bitmap scan of the primary key and a sequential scan from one run to
//! another, and with `$1` a parameter the sequential scan compares every row with every id in the
//! array: about twice the time (0.09 against 0.04 ms for 24 ids among 1,000 tickets after their
//! lifecycles, `docs/performance.md`).
//!
//! Connections are opened on first use and kept, without the ping sqlx's pool makes on every
//! connection handed back to it. A query that fails on a reused connection (one the server closed
//! while it sat idle: a restart, an idle timeout) is tried once more on a new connection, as a
//! read is safe to repeat; a query that takes longer than [`QUERY_TIMEOUT`] gives up its
//! connection. Readers end when the last handle to the queue is dropped.

use std::{collections::HashMap, str::FromStr, sync::Arc, time::Duration};

use sea_orm::{
    DbErr, QueryResult, RuntimeErr,
    sqlx::{
        self, ConnectOptions, Connection,
        postgres::{PgConnectOptions, PgConnection},
    },
};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

/// At most this many ids in one query.
pub const MAX_BATCH: usize = 128;
/// How long one query may take before its connection is given up.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a read got no answer: what the caller needs to tell "try again later" from a bug.
#[derive(Clone, Debug)]
pub struct ReadFailed {
    /// The database could not be reached or went away (503 rather than 500).
    pub unavailable: bool,
    pub message: String,
}

impl From<&DbErr> for ReadFailed {
    fn from(error: &DbErr) -> Self {
        ReadFailed {
            unavailable: crate::availability::is_unavailable(error),
            message: error.to_string(),
        }
    }
}

/// Turns one result row into the id it answers and the value the callers get.
pub type Decode<M> = fn(&QueryResult) -> Result<(Uuid, M), DbErr>;

type Answer<M> = Result<Option<M>, ReadFailed>;

struct Read<M> {
    id: Uuid,
    answer: oneshot::Sender<Answer<M>>,
}

/// A handle to the queue; cheap to clone.
pub struct BatchReads<M> {
    queue: mpsc::UnboundedSender<Read<M>>,
}

impl<M> Clone for BatchReads<M> {
    fn clone(&self) -> Self {
        BatchReads {
            queue: self.queue.clone(),
        }
    }
}

impl<M: Clone + Send + 'static> BatchReads<M> {
    /// Starts `readers` reader tasks (on the current Tokio runtime) for `sql`, a statement whose
    /// one parameter `$1` is an array of ids and whose rows `decode` reads. Connects to nothing
    /// yet.
    pub fn start(url: &str, readers: usize, sql: String, decode: Decode<M>) -> Result<Self, DbErr> {
        let options = PgConnectOptions::from_str(url)
            .map_err(to_db_err)?
            .disable_statement_logging()
            .options([("enable_seqscan", "off")]);
        let (queue, waiting) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            options,
            sql,
            decode,
            waiting: Mutex::new(waiting),
        });
        for _ in 0..readers.max(1) {
            tokio::spawn(reader(shared.clone()));
        }
        Ok(BatchReads { queue })
    }

    /// The row with this id, if there is one.
    pub async fn get(&self, id: Uuid) -> Answer<M> {
        let (answer, answered) = oneshot::channel();
        let stopped = || ReadFailed {
            unavailable: true,
            message: "the database readers have stopped".into(),
        };
        self.queue
            .send(Read { id, answer })
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

struct Shared<M> {
    options: PgConnectOptions,
    sql: String,
    decode: Decode<M>,
    waiting: Mutex<mpsc::UnboundedReceiver<Read<M>>>,
}

async fn reader<M: Clone + Send + 'static>(shared: Arc<Shared<M>>) {
    let mut connection: Option<PgConnection> = None;
    let mut batch: Vec<Read<M>> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut waiting = shared.waiting.lock().await;
            if waiting.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return; // every handle is gone
            }
        }
        // Requests that gave up meanwhile need no answer.
        batch.retain(|read| !read.answer.is_closed());
        if batch.is_empty() {
            continue;
        }
        let mut ids: Vec<Uuid> = batch.iter().map(|read| read.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = match query(&shared, &mut connection, &ids).await {
            Ok(rows) => rows,
            Err(failed) => {
                for read in batch.drain(..) {
                    let _ = read.answer.send(Err(failed.clone()));
                }
                continue;
            }
        };
        for read in batch.drain(..) {
            let _ = read.answer.send(Ok(rows.get(&read.id).cloned()));
        }
    }
}

/// One query for `ids`, on the reader's connection (opened if need be), tried once more on a new
/// connection if a reused one fails.
async fn query<M>(
    shared: &Shared<M>,
    connection: &mut Option<PgConnection>,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, M>, ReadFailed> {
    let reused = connection.is_some();
    match query_once(shared, connection, ids).await {
        Err(_) if reused => query_once(shared, connection, ids).await,
        outcome => outcome,
    }
    .map_err(|e| ReadFailed::from(&e))
}

async fn query_once<M>(
    shared: &Shared<M>,
    slot: &mut Option<PgConnection>,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, M>, DbErr> {
    // Taken out of its slot: only a connection whose query completed goes back.
    let mut connection = match slot.take() {
        Some(connection) => connection,
        None => PgConnection::connect_with(&shared.options)
            .await
            .map_err(to_db_err)?,
    };
    let rows = tokio::time::timeout(
        QUERY_TIMEOUT,
        sqlx::query(sqlx::AssertSqlSafe(shared.sql.as_str()))
            .bind(ids)
            .fetch_all(&mut connection),
    )
    .await
    .map_err(|_| {
        DbErr::Conn(RuntimeErr::Internal(format!(
            "the database did not answer within {} s",
            QUERY_TIMEOUT.as_secs()
        )))
    })?
    .map_err(to_db_err)?;
    *slot = Some(connection);
    rows.into_iter()
        .map(|row| (shared.decode)(&QueryResult::from(row)))
        .collect()
}

fn to_db_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}
