//! The read part of the benchmark: `GET /api/tickets/:id` at concurrency C, and what `pgbench`
//! gets from the same PostgreSQL with the same one-row select at the same concurrency.
//!
//! The readers go through the seeded tickets, each from its own starting point, so the reads in
//! flight are for different tickets, as they would be on a real site.
//!
//! The benchmark client shares the machine with the server and the database, so the readers are
//! as lean as pgbench's client, as `wrk` is: one kept-alive HTTP/1.1 connection each, one request
//! at a time, each request's bytes made once before the clock starts, each answer parsed in place
//! with `httparse` (the parser hyper uses) and its body skipped by its length. A general-purpose
//! client (hyper's, before 2026-12-03) spent about twice pgbench's CPU per request, on the same
//! two cores as the server it measured.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

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
    let requests: Vec<Request> = ids
        .iter()
        .map(|id| {
            let path = format!("{prefix}{id}");
            let bytes = format!(
                "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: ticketing-bench\r\n\r\n"
            )
            .into_bytes();
            Request { path, bytes }
        })
        .collect();
    let requests = Arc::new(requests);
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    // Each reader is a task of its own: woken on the worker thread that saw its socket ready,
    // rather than all of them on the thread that waits for the benchmark.
    let readers: Vec<_> = (0..c)
        .map(|i| {
            let (authority, requests, done) = (authority.clone(), requests.clone(), done.clone());
            let start = i * requests.len() / c;
            tokio::spawn(async move { reader(&authority, &requests, start, deadline, &done).await })
        })
        .collect();
    let outcomes = futures_util::future::join_all(readers).await;
    let per_second = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let failures = outcomes
        .into_iter()
        .filter_map(|outcome| match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(e) => Some(format!("a reader failed: {e}")),
        })
        .collect();
    Ok(Reads {
        per_second,
        failures,
    })
}

/// One request, ready to send.
struct Request {
    path: String,
    bytes: Vec<u8>,
}

/// One connection, one request at a time, going through `requests` from `start`, until
/// `deadline`; stops at the first failure.
async fn reader(
    authority: &str,
    requests: &[Request],
    start: usize,
    deadline: Instant,
    done: &AtomicUsize,
) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(16 * 1024);
    for request in requests.iter().cycle().skip(start) {
        if Instant::now() >= deadline {
            break;
        }
        stream
            .write_all(&request.bytes)
            .await
            .with_context(|| format!("sending GET {}", request.path))?;
        let answer = read_answer(&mut stream, &mut buffer)
            .await
            .with_context(|| format!("GET {}", request.path))?;
        if !(200..300).contains(&answer.status) {
            bail!(
                "GET {} answered {}: {}",
                request.path,
                answer.status,
                String::from_utf8_lossy(&buffer[answer.body.clone()])
            );
        }
        buffer.drain(..answer.body.end);
        done.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// Where an answer lies in the buffer.
struct Answer {
    status: u16,
    body: std::ops::Range<usize>,
}

/// Reads one whole answer into `buffer` (which starts with whatever came after the previous one).
async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<Answer> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = response
            .parse(buffer)
            .context("cannot read the answer's head")?
        {
            let status = response.code.unwrap_or(0);
            let mut length = None;
            for header in response.headers.iter() {
                if header.name.eq_ignore_ascii_case("content-length") {
                    length = std::str::from_utf8(header.value)
                        .ok()
                        .and_then(|v| v.trim().parse::<usize>().ok());
                } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                    bail!("the answer is chunked; the readers expect a Content-Length");
                }
            }
            let length = length.context("the answer has no Content-Length")?;
            while buffer.len() < head + length {
                fill(stream, buffer).await?;
            }
            return Ok(Answer {
                status,
                body: head..head + length,
            });
        }
        fill(stream, buffer).await?;
    }
}

/// Appends what the connection has to `buffer`; an error if the server closed it.
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<()> {
    if buffer.capacity() - buffer.len() < 4096 {
        buffer.reserve(16 * 1024);
    }
    if stream
        .read_buf(buffer)
        .await
        .context("the connection failed")?
        == 0
    {
        bail!("the server closed the connection");
    }
    Ok(())
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
