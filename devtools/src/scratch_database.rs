//! PostgreSQL databases made for one run (a benchmark, a test) and dropped after it.

use database::{connect, with_database};
use sea_orm::{ConnectionTrait, DbErr};

/// A PostgreSQL database made for one run (a benchmark, a test), dropped with this value.
pub struct ScratchDatabase {
    server: String,
    pub name: String,
    /// The new database's URL.
    pub url: String,
}

impl ScratchDatabase {
    /// Makes the empty database `name` on the server of `server_url` (dropping one left by an
    /// earlier run of the same name).
    pub async fn create(server_url: &str, name: &str) -> Result<Self, DbErr> {
        let admin = connect(server_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await.ok();
        Ok(ScratchDatabase {
            server: server_url.to_owned(),
            name: name.to_owned(),
            url: with_database(server_url, name),
        })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop is not async: drop the database from a runtime of its own, on its own thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            runtime.block_on(async {
                let admin = connect(&server).await?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                admin.execute_unprepared(&sql).await?;
                admin.close().await
            })
        });
        if let Ok(Err(e)) = dropped.join() {
            eprintln!("could not drop the database {}: {e}", self.name);
        }
    }
}
