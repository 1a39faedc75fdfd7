//! A few PostgreSQL connections of their own for the hottest read: one row by its id.
//!
//! sqlx's pool pings every connection handed back to it, a second round trip to PostgreSQL after
//! each query, which nearly halves what a one-row read can reach. The connections here go back
//! as they are after a query that completed. One whose query failed, or whose request was
//! dropped midway, is closed instead, so a connection in an unknown state is never reused. A read
//! that fails on a reused connection is tried once more on a new one (a read is safe to repeat),
//! so connections the server closed while they sat idle (a restart, an idle timeout) cost no
//! request an error.

use std::{
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use sea_orm::{
    DbErr, QueryResult, RuntimeErr,
    sqlx::{
        self, ConnectOptions, Connection,
        postgres::{PgConnectOptions, PgConnection},
    },
};
use tokio::sync::{Semaphore, SemaphorePermit};
use uuid::Uuid;

/// How long a read waits for a free connection, like the main pool's acquire timeout.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct DirectConnections {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    slots: Semaphore,
}

impl DirectConnections {
    /// No connection is opened until the first read.
    pub fn new(url: &str, max: usize) -> Result<Arc<Self>, DbErr> {
        let options = PgConnectOptions::from_str(url)
            .map_err(to_db_err)?
            .disable_statement_logging();
        Ok(Arc::new(DirectConnections {
            options,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(max),
        }))
    }

    /// Runs `sql` (a prepared statement with one parameter, `$1`) and returns its first row.
    pub async fn fetch_optional(&self, sql: &str, id: Uuid) -> Result<Option<QueryResult>, DbErr> {
        let slot = tokio::time::timeout(ACQUIRE_TIMEOUT, self.slots.acquire())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed))?;
        let reused = self.take_idle();
        let was_reused = reused.is_some();
        let mut lease = Lease {
            set: self,
            connection: reused,
            _slot: slot,
        };
        match lease.fetch_optional(sql, id).await {
            Err(_) if was_reused => {
                // Most likely closed by the server since its last use (a restart, a timeout).
                lease.connection = None;
                lease.fetch_optional(sql, id).await
            }
            outcome => outcome,
        }
    }

    fn take_idle(&self) -> Option<PgConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.pop()
    }
}

/// A connection taken from the set for one read, with its slot.
struct Lease<'a> {
    set: &'a DirectConnections,
    connection: Option<PgConnection>,
    _slot: SemaphorePermit<'a>,
}

impl Lease<'_> {
    async fn fetch_optional(&mut self, sql: &str, id: Uuid) -> Result<Option<QueryResult>, DbErr> {
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => PgConnection::connect_with(&self.set.options)
                .await
                .map_err(to_db_err)?,
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut connection)
            .await
            .map_err(to_db_err)?;
        // Only a connection whose query completed goes back.
        self.connection = Some(connection);
        Ok(row.map(QueryResult::from))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            let mut idle = self.set.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(connection);
        }
    }
}

fn to_db_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}
