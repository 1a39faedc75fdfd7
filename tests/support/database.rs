//! A fresh database for each test.

use devtools::scratch_database::ScratchDatabase;
use sea_orm::DatabaseConnection;

/// A database made for one test, migrated to the latest schema.
///
/// With `TEST_DATABASE_URL` set to a PostgreSQL server (`postgres://user@host:port[/db]`), a new
/// database named `ticketing_test_<random>` is created on that server; otherwise a SQLite file in
/// a new temporary folder. A server that cannot be reached fails the test: nothing is skipped.
pub struct TestDatabase {
    pub url: String,
    pub connection: DatabaseConnection,
    sqlite_dir: Option<std::path::PathBuf>,
    /// A PostgreSQL test database, dropped with this value.
    _postgres: Option<ScratchDatabase>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let name = format!("ticketing_test_{}", uuid::Uuid::new_v4().simple());
        let mut postgres = None;
        let (url, sqlite_dir) = match std::env::var("TEST_DATABASE_URL") {
            Ok(server) if server.starts_with("postgres") => {
                let database = ScratchDatabase::create(&server, &name)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "cannot make {name} on PostgreSQL at TEST_DATABASE_URL={server}: {e}"
                        )
                    });
                let url = database.url.clone();
                postgres = Some(database);
                (url, None)
            }
            Ok(other) if !other.is_empty() => {
                panic!("TEST_DATABASE_URL must name a PostgreSQL server, not {other}")
            }
            _ => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.join("ticketing.db").display());
                (url, Some(dir))
            }
        };
        let connection = database::connect(&url)
            .await
            .expect("the test database is reachable");
        database::migrate(&connection)
            .await
            .expect("the migrations run");
        TestDatabase {
            url,
            connection,
            sqlite_dir,
            _postgres: postgres,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
