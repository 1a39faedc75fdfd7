//! What counts as "the database is away": an error to answer 503 and try again later, not a
//! mistake in a query (500).

use sea_orm::DbErr;

/// Whether a database error means the database could not be reached or went away (try again
/// later) rather than a mistake in a query.
pub fn is_unavailable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    match error {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            match &**e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed => true,
                // PostgreSQL going away: a connection exception (class 08), or a shutdown, a
                // crash or a start-up in progress (57P01-57P03).
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}
