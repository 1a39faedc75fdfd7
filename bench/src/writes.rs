//! What the lifecycles cost the system's PostgreSQL database: transactions committed and rows
//! written (inserted, updated or deleted, the outbox and its relay included), from
//! `pg_stat_database`, for the capacity model.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// How long a backend may hold its counters before it reports them (PostgreSQL 15's
/// `PGSTAT_IDLE_INTERVAL` is 10 s): a snapshot waits this long after the work it follows.
pub(crate) const SETTLE: Duration = Duration::from_secs(11);

/// The database's counters at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    commits: i64,
    rows: i64,
}

/// Per lifecycle.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct PerLifecycle {
    pub(crate) transactions: f64,
    pub(crate) rows_written: f64,
}

impl Snapshot {
    /// The counters now; `None` on SQLite or when PostgreSQL will not tell.
    pub(crate) async fn take(db: &DatabaseConnection) -> Option<Self> {
        if db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted AS rows \
                 FROM pg_stat_database WHERE datname = current_database()",
            ))
            .await
            .ok()??;
        Some(Snapshot {
            commits: row.try_get("", "xact_commit").ok()?,
            rows: row.try_get("", "rows").ok()?,
        })
    }

    /// What was done since `earlier`, divided among `lifecycles`.
    pub(crate) fn per_lifecycle_since(
        &self,
        earlier: &Snapshot,
        lifecycles: usize,
    ) -> PerLifecycle {
        let n = lifecycles.max(1) as f64;
        PerLifecycle {
            transactions: (self.commits - earlier.commits) as f64 / n,
            rows_written: (self.rows - earlier.rows) as f64 / n,
        }
    }
}
