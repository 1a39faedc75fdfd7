//! The system under test: one already running (`--base-url`), or `ticketing dev` started on free
//! ports with fresh data (`--embedded`), stopped and cleaned up on drop.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use devtools::{
    process::{ChildProcess, Launch, Output},
    scratch_database::ScratchDatabase,
};
use workflows::TemporalSettings;

use crate::options::Options;

/// The system under test, and how to reach it.
pub(crate) struct Target {
    pub(crate) base: String,
    pub(crate) database_url: Option<String>,
    pub(crate) temporal: TemporalSettings,
    pub(crate) server_pid: Option<u32>,
    embedded: Option<ChildProcess>,
    _data: Option<PathBuf>,
    _scratch_database: Option<ScratchDatabase>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.embedded {
            child.stop();
        }
        if let Some(dir) = &self._data {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// How long `ticketing dev` has to stop (its servers too) before it is killed.
const DEV_STOP_GRACE: Duration = Duration::from_secs(60);

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) async fn target(args: &Options, http: &reqwest::Client) -> anyhow::Result<Target> {
    let namespace = args.namespace.clone();
    if !args.embedded {
        let base = args
            .base_url
            .clone()
            .context("give --base-url of a running system, or --embedded")?;
        let temporal = args
            .temporal
            .clone()
            .context("the running system's TEMPORAL_ADDRESS is needed with --base-url")?;
        return Ok(Target {
            base: base.trim_end_matches('/').to_owned(),
            database_url: args.database_url.clone(),
            temporal,
            server_pid: args.server_pid,
            embedded: None,
            _data: None,
            _scratch_database: None,
        });
    }
    let dir = std::env::temp_dir().join(format!("ticketing-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // A PostgreSQL server gets a fresh database of its own, like the fresh SQLite file otherwise.
    let mut scratch = None;
    let database_url = match &args.database_url {
        Some(url) if url.starts_with("postgres") => {
            let name = format!("ticketing_bench_{}", std::process::id());
            let database = ScratchDatabase::create(url, &name).await.with_context(|| {
                format!("cannot make the database {name} on the PostgreSQL server of DATABASE_URL")
            })?;
            eprintln!(
                "using a new database {} (dropped afterwards)…",
                database.name
            );
            let url = database.url.clone();
            scratch = Some(database);
            Some(url)
        }
        other => other.clone(),
    };
    let (http_port, temporal_port, ui_port) = (free_port()?, free_port()?, free_port()?);
    eprintln!("starting `ticketing dev` (data in {})…", dir.display());
    let launch = Launch::new("`ticketing dev`", std::env::current_exe()?)
        .args(["dev"])
        .env("DATA_DIR", &dir)
        .env("HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("TEMPORAL_DEV_PORT", temporal_port.to_string())
        .env("TEMPORAL_UI_PORT", ui_port.to_string())
        // Every buyer signs in from the benchmark's one address: not a credential attack.
        .env("AUTH_ATTEMPTS_PER_ACCOUNT", "100000")
        .env("AUTH_ATTEMPTS_PER_ADDRESS", "1000000")
        .env_remove("TEMPORAL_ADDRESS")
        .envs(database_url.iter().map(|url| ("DATABASE_URL", url)))
        .output(Output::NewLog(dir.join("dev.log")))
        // It stops its own servers first, each within 10 s.
        .stop_grace(DEV_STOP_GRACE);
    // Ready is its `/readyz`, below.
    let child = ChildProcess::start_async(launch)
        .await
        .context("starting `ticketing dev`")?;
    let target = Target {
        base: format!("http://127.0.0.1:{http_port}"),
        database_url: Some(database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", dir.join("ticketing.db").display())
        })),
        temporal: TemporalSettings {
            address: format!("127.0.0.1:{temporal_port}"),
            namespace,
            task_queue: args.task_queue.clone(),
            access: Default::default(),
        },
        server_pid: Some(child.id()),
        embedded: Some(child),
        _data: Some(dir.clone()),
        _scratch_database: scratch,
    };
    let started = Instant::now();
    loop {
        let ready = http.get(format!("{}/readyz", target.base)).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            bail!(
                "`ticketing dev` did not get ready; its log:\n{}",
                std::fs::read_to_string(dir.join("dev.log")).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(target)
}

/// A process's memory from `/proc` (Linux): `VmHWM` (its peak resident memory) or `VmRSS` (now).
pub(crate) fn memory_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
