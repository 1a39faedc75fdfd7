//! The read part of the benchmark: `GET /api/tickets/:id` at concurrency C, and what `pgbench`
//! gets from the same PostgreSQL with the same one-row select at the same concurrency.
//!
//! Both read the same tickets: a sample of at most [`MAX_SCRIPTS`] (pgbench's limit of scripts
//! in one run), spread evenly over the seeded ones. The readers go through them, each from its own
//! starting point, so the reads in flight are for different tickets, as they would be on a real
//! site; pgbench picks one of its scripts, one per ticket, at random for each transaction.
//!
//! The two take turns of two seconds, API, pgbench, pgbench, API, API, pgbench..., each for the
//! time asked for in all: the machine's pace drifts by 10-20 % within seconds (other tenants,
//! caches, the work the lifecycles left behind), and one whole measurement after the other would
//! give one of them that drift. Each pair's ratio is kept, so the spread shows.
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

/// At most this many tickets are read: pgbench takes at most 128 scripts (`-f`) in one run.
pub const MAX_SCRIPTS: usize = 128;

/// What the API's readers and pgbench did with the same tickets in the same window.
pub struct Comparison {
    /// The API's reads, all its turns together.
    pub reads: Reads,
    /// pgbench, all its turns (the mean of their transactions/s), or why it could not run.
    pub pgbench: Result<Pgbench, String>,
    /// The API's reads/s over pgbench's, pair of turns by pair of turns.
    pub pair_ratios: Vec<f64>,
}

/// The tickets both sides read: all of them, or [`MAX_SCRIPTS`] evenly spread.
pub fn sample(ids: &[String]) -> Vec<String> {
    if ids.len() <= MAX_SCRIPTS {
        return ids.to_vec();
    }
    (0..MAX_SCRIPTS)
        .map(|i| ids[i * ids.len() / MAX_SCRIPTS].clone())
        .collect()
}

/// How long each turn lasts, at most: the machine's pace drifts within seconds, so the turns are
/// short and many.
pub const TURN_SECONDS: u64 = 2;

/// Reads `ids` (see [`sample`]) through the API at `base` and, when `database_url` is a
/// PostgreSQL database, with pgbench, in turns of [`TURN_SECONDS`]: API, pgbench, pgbench, API,
/// API, pgbench..., each side `seconds` in all. Without pgbench, the API reads for `seconds` in
/// one go.
pub async fn compare(
    base: &str,
    ids: &[String],
    c: usize,
    seconds: u64,
    database_url: Option<&str>,
) -> anyhow::Result<Comparison> {
    let ids = sample(ids);
    let whole = |pgbench: Result<Pgbench, String>| async {
        Ok(Comparison {
            reads: read(base, &ids, c, seconds).await?,
            pgbench,
            pair_ratios: Vec::new(),
        })
    };
    let Some(url) = database_url else {
        return whole(Err("the database is not known (pass --database-url)".into())).await;
    };
    if !is_postgres(url) {
        return whole(Err("the database is not PostgreSQL".into())).await;
    }
    let turn = seconds.clamp(1, TURN_SECONDS);
    let turns = seconds.div_ceil(turn).max(1);
    let mut api = Reads {
        per_second: 0.0,
        done: 0,
        seconds: 0.0,
        failures: Vec::new(),
    };
    let mut tps = Vec::new();
    let mut command = String::new();
    let mut pair_ratios = Vec::new();
    let scripts = Scripts::write(&ids).map_err(|why| anyhow::anyhow!(why))?;
    for pair in 0..turns {
        // API first in even pairs, pgbench first in odd ones: API, pgbench, pgbench, API, ...
        let (reads, database) = if pair % 2 == 0 {
            let reads = read(base, &ids, c, turn).await?;
            (reads, pgbench(url, &scripts, c, turn).await)
        } else {
            let database = pgbench(url, &scripts, c, turn).await;
            (read(base, &ids, c, turn).await?, database)
        };
        let database = match database {
            Ok(database) => database,
            // No pgbench here: the API reads in one go.
            Err(why) if pair == 0 => return whole(Err(why)).await,
            Err(why) => bail!("pgbench failed in turn {}: {why}", pair + 1),
        };
        pair_ratios.push(reads.per_second / database.tps);
        api.done += reads.done;
        api.seconds += reads.seconds;
        api.failures.extend(reads.failures);
        tps.push(database.tps);
        command = database.command;
    }
    api.per_second = api.done as f64 / api.seconds.max(1e-9);
    Ok(Comparison {
        reads: api,
        pgbench: Ok(Pgbench {
            tps: tps.iter().sum::<f64>() / tps.len() as f64,
            command,
        }),
        pair_ratios,
    })
}

/// What the readers did.
pub struct Reads {
    pub per_second: f64,
    pub done: usize,
    pub seconds: f64,
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
    let elapsed = started.elapsed().as_secs_f64();
    let done = done.load(Ordering::Relaxed);
    let failures = outcomes
        .into_iter()
        .filter_map(|outcome| match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(e) => Some(format!("a reader failed: {e}")),
        })
        .collect();
    Ok(Reads {
        per_second: done as f64 / elapsed,
        done,
        seconds: elapsed,
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
/// pgbench's default (simple) query protocol, `c` clients on as many threads as there are cores,
/// one script per ticket.
pub struct Pgbench {
    pub tps: f64,
    pub command: String,
}

/// pgbench's scripts, one per ticket, written once for all the turns in a new folder of their
/// own; the folder goes when this is dropped.
struct Scripts {
    folder: tempfile::TempDir,
    paths: Vec<std::path::PathBuf>,
}

impl Scripts {
    /// Writes the select of each ticket of `ticket_ids` (1 to [`MAX_SCRIPTS`]) to a file.
    fn write(ticket_ids: &[String]) -> Result<Self, String> {
        if ticket_ids.is_empty() || ticket_ids.len() > MAX_SCRIPTS {
            return Err(format!(
                "pgbench reads 1 to {MAX_SCRIPTS} tickets, not {}",
                ticket_ids.len()
            ));
        }
        // A folder no one else uses: the embedded server's data folder is
        // `ticketing-bench-<pid>`, and removing the scripts once removed it with them.
        let folder = tempfile::Builder::new()
            .prefix("ticketing-pgbench-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for pgbench's scripts: {e}"))?;
        let scripts = Scripts {
            folder,
            paths: Vec::with_capacity(ticket_ids.len()),
        };
        ticket_ids
            .iter()
            .enumerate()
            .try_fold(scripts, |mut scripts, (i, id)| {
                let uuid =
                    uuid::Uuid::parse_str(id).map_err(|e| format!("not a ticket id: {e}"))?;
                let path = scripts.folder.path().join(format!("ticket-{i}.sql"));
                std::fs::write(
                    &path,
                    format!(
                        "SELECT id, title, price_cents, user_id, version, order_id, created_at, \
                         updated_at FROM tickets WHERE id = '{uuid}';\n"
                    ),
                )
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                scripts.paths.push(path);
                Ok(scripts)
            })
    }
}

fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// Runs pgbench against `database_url` (PostgreSQL) for `seconds` with `scripts`, or says why it
/// could not (pgbench not installed, it failed).
async fn pgbench(
    database_url: &str,
    scripts: &Scripts,
    c: usize,
    seconds: u64,
) -> Result<Pgbench, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(c);
    let mut args = vec![
        "-n".to_owned(),
        "-c".to_owned(),
        c.to_string(),
        "-j".to_owned(),
        threads.to_string(),
        "-T".to_owned(),
        seconds.max(1).to_string(),
    ];
    for script in &scripts.paths {
        args.push("-f".to_owned());
        args.push(script.display().to_string());
    }
    let command = format!(
        "pgbench -n -c {c} -j {threads} -T {} -f ticket-0.sql ... -f ticket-{}.sql DATABASE_URL \
         (each script the select of one ticket)",
        seconds.max(1),
        scripts.paths.len() - 1
    );
    let output = tokio::process::Command::new("pgbench")
        .args(&args)
        .arg(database_url)
        .output()
        .await;
    let output = output.map_err(|e| format!("cannot run pgbench: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "pgbench failed: {}",
            stderr.lines().last().unwrap_or("")
        ));
    }
    // With several scripts pgbench also prints a "tps = " line per script, indented after a
    // dash; the run's own is the first line that starts with it.
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench's output:\n{stdout}"))?;
    Ok(Pgbench { tps, command })
}
