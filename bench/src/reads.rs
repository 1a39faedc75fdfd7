//! The read part of the benchmark: `GET /api/tickets/:id` at concurrency C, and what `pgbench`
//! gets from the same PostgreSQL with the same one-row select at the same concurrency.
//!
//! The readers go through the seeded tickets, each from its own starting point, so the reads in
//! flight are for different tickets, as they would be on a real site.
//!
//! The benchmark client shares the machine with the server and the database, so the readers are
//! lean like pgbench's: one kept-alive HTTP/1.1 connection each, one request at a time.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper::{
    Request,
    body::Bytes,
    header::{HOST, USER_AGENT},
};
use hyper_util::rt::TokioIo;

/// What the readers did.
pub struct Reads {
    pub per_second: f64,
    /// What went wrong, one line each.
    pub failures: Vec<String>,
}

/// Reads the tickets `ids` from `base` with `c` readers for `seconds`.
pub async fn read(base: &str, ids: &[String], c: usize, seconds: u64) -> anyhow::Result<Reads> {
    if ids.is_empty() {
        bail!("no ticket to read");
    }
    let url = reqwest::Url::parse(base).with_context(|| format!("not a URL: {base}"))?;
    if url.scheme() != "http" {
        bail!("the read benchmark speaks plain http, not {}", url.scheme());
    }
    let host = url.host_str().context("the URL has no host")?;
    let authority = format!("{host}:{}", url.port_or_known_default().unwrap_or(80));
    let prefix = format!("{}/api/tickets/", url.path().trim_end_matches('/'));
    let paths: Vec<String> = ids.iter().map(|id| format!("{prefix}{id}")).collect();
    let done = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let outcomes = futures_util::future::join_all(
        (0..c).map(|i| reader(&authority, &paths, i * paths.len() / c, deadline, &done)),
    )
    .await;
    let per_second = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let failures = outcomes
        .into_iter()
        .filter_map(Result::err)
        .map(|e| format!("{e:#}"))
        .collect();
    Ok(Reads {
        per_second,
        failures,
    })
}

/// One connection, one request at a time, going through `paths` from `start`, until `deadline`;
/// stops at the first failure.
async fn reader(
    authority: &str,
    paths: &[String],
    start: usize,
    deadline: Instant,
    done: &AtomicUsize,
) -> anyhow::Result<()> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    // The connection is driven by the reader's own task, beside its requests: a response wakes
    // one task, not a connection task that then wakes the reader.
    let requests = async {
        for path in paths.iter().cycle().skip(start) {
            if Instant::now() >= deadline {
                break;
            }
            sender.ready().await.context("connection closed")?;
            let request = Request::get(path.as_str())
                .header(HOST, authority)
                .header(USER_AGENT, "ticketing-bench")
                .body(Empty::<Bytes>::new())?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            if !status.is_success() {
                bail!(
                    "GET {path} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    };
    tokio::pin!(requests);
    tokio::select! {
        outcome = &mut requests => outcome,
        ended = connection => match ended {
            Ok(()) => bail!("the server closed the connection"),
            Err(e) => Err(anyhow::Error::new(e).context("the connection failed")),
        },
    }
}

/// What pgbench got, and the command that got it: the select the API runs for one ticket, in
/// pgbench's default (simple) query protocol, `c` clients on as many threads as there are cores.
pub struct Pgbench {
    pub tps: f64,
    pub command: String,
}

/// Runs pgbench against `database_url` with the select of the ticket `ticket_id`, or says why
/// it could not (not PostgreSQL, pgbench not installed, it failed).
pub fn pgbench(
    database_url: &str,
    ticket_id: &str,
    c: usize,
    seconds: u64,
) -> Result<Pgbench, String> {
    if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
        return Err("the database is not PostgreSQL".into());
    }
    let uuid = uuid::Uuid::parse_str(ticket_id).map_err(|e| format!("no ticket to read: {e}"))?;
    let script = std::env::temp_dir().join(format!("ticketing-bench-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "SELECT id, title, price_cents, user_id, version, order_id, created_at, updated_at \
             FROM tickets WHERE id = '{uuid}';\n"
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(c);
    let args = [
        "-n".to_owned(),
        "-c".to_owned(),
        c.to_string(),
        "-j".to_owned(),
        threads.to_string(),
        "-T".to_owned(),
        seconds.max(1).to_string(),
        "-f".to_owned(),
        script.display().to_string(),
    ];
    let command = format!("pgbench {} DATABASE_URL", args.join(" "));
    let output = std::process::Command::new("pgbench")
        .args(&args)
        .arg(database_url)
        .output();
    let _ = std::fs::remove_file(&script);
    let output = output.map_err(|e| format!("cannot run pgbench: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "pgbench failed: {}",
            stderr.lines().last().unwrap_or("")
        ));
    }
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench's output:\n{stdout}"))?;
    Ok(Pgbench { tps, command })
}
