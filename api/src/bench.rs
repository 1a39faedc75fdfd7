//! `ticketing bench`: drives full order lifecycles through HTTP against a running system (or one it
//! starts with `--embedded`), measures a baseline workflow on the same Temporal server, and prints
//! the figures (optionally as JSON).

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use temporalio_client::{Client, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use workflows::baseline::{BaselineActivities, BaselineWorkflow};

use crate::{
    config::{BenchArgs, TemporalConfig},
    database::ScratchDatabase,
};

mod reads;

/// What one run measured.
#[derive(Debug, serde::Serialize)]
struct Figures {
    lifecycles: usize,
    concurrency: usize,
    lifecycles_per_second: f64,
    baseline_workflows_per_second: f64,
    ratio_to_baseline: f64,
    post_orders_ms: Percentiles,
    post_payments_ms: Percentiles,
    ticket_reads_per_second: f64,
    /// pgbench's transactions/s with the same select at the same concurrency (PostgreSQL only).
    pgbench_reads_per_second: Option<f64>,
    pgbench_command: Option<String>,
    ratio_to_pgbench: Option<f64>,
    server_peak_memory_mib: Option<f64>,
    /// What `ticketing check` found afterwards (only when the database is known: `--embedded`
    /// or `--database-url`).
    disagreements: Option<usize>,
    errors: usize,
}

#[derive(Debug, serde::Serialize)]
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
}

fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort();
    let at = |q: f64| {
        if samples.is_empty() {
            return 0.0;
        }
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    Percentiles {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
    }
}

/// A progress line on stderr: `label  done/total  [#####.....]  rate/s`.
struct Progress {
    label: &'static str,
    total: usize,
    done: AtomicUsize,
    started: Instant,
}

impl Progress {
    fn new(label: &'static str, total: usize) -> Arc<Self> {
        Arc::new(Progress {
            label,
            total,
            done: AtomicUsize::new(0),
            started: Instant::now(),
        })
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if done == self.total || done.is_multiple_of(10) {
            let width = 30;
            let filled = done * width / self.total.max(1);
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r  {:<12} {done:>6}/{:<6} [{}{}] {rate:>7.1}/s",
                self.label,
                self.total,
                "#".repeat(filled),
                ".".repeat(width - filled)
            );
            if done == self.total {
                eprintln!();
            }
        }
    }
}

/// The system under test, and how to reach it.
struct Target {
    base: String,
    database_url: Option<String>,
    temporal: TemporalConfig,
    server_pid: Option<u32>,
    embedded: Option<std::process::Child>,
    _data: Option<PathBuf>,
    _scratch_database: Option<ScratchDatabase>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(child) = &mut self.embedded {
            // SAFETY: a signal to our own child process.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
            let _ = child.wait();
        }
        if let Some(dir) = &self._data {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn target(args: &BenchArgs, http: &reqwest::Client) -> anyhow::Result<Target> {
    let namespace = args.temporal.temporal_namespace.clone();
    if !args.embedded {
        let base = args
            .base_url
            .clone()
            .context("give --base-url of a running system, or --embedded")?;
        let temporal = args.temporal.resolve(None)?;
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
    let log = std::fs::File::create(dir.join("dev.log"))?;
    let child = std::process::Command::new(std::env::current_exe()?)
        .arg("dev")
        .env("DATA_DIR", &dir)
        .env("HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("TEMPORAL_DEV_PORT", temporal_port.to_string())
        .env("TEMPORAL_UI_PORT", ui_port.to_string())
        .env_remove("TEMPORAL_ADDRESS")
        .envs(database_url.iter().map(|url| ("DATABASE_URL", url)))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting `ticketing dev`")?;
    let target = Target {
        base: format!("http://127.0.0.1:{http_port}"),
        database_url: Some(database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", dir.join("ticketing.db").display())
        })),
        temporal: TemporalConfig {
            address: format!("127.0.0.1:{temporal_port}"),
            namespace,
            task_queue: args.temporal.temporal_task_queue.clone(),
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

/// Peak resident memory of a process, from `/proc` (Linux).
fn peak_memory_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn json_call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn new_user(http: &reqwest::Client, base: &str, n: usize) -> anyhow::Result<String> {
    let credentials = json!({
        "email": format!("bench-{}-{n}@example.com", std::process::id()),
        "password": "benchmark"
    });
    let (status, _) = json_call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/users/signup"),
        None,
        Some(credentials.clone()),
    )
    .await?;
    if status != 201 {
        bail!("signup answered {status}");
    }
    let (_, token) = json_call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/users/token"),
        None,
        Some(credentials),
    )
    .await?;
    token["token"]
        .as_str()
        .map(str::to_owned)
        .context("no token in the answer")
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let (n, c) = (args.lifecycles, args.concurrency);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(c * 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let target = target(&args, &http).await?;
    let base = target.base.clone();
    let errors = Arc::new(AtomicUsize::new(0));
    let failed = |what: &str, detail: String| {
        errors.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("{what}: {detail}");
    };

    // Seed: one seller per in-flight slot, N tickets, C buyers.
    eprintln!("seeding {n} tickets and {c} buyers on {base}…");
    let mut sellers = Vec::new();
    let mut buyers = Vec::new();
    for i in 0..c {
        sellers.push(new_user(&http, &base, 2 * i).await?);
        buyers.push(new_user(&http, &base, 2 * i + 1).await?);
    }
    let seeding = Progress::new("tickets", n);
    let tickets: Vec<String> = stream::iter(0..n)
        .map(|i| {
            let (http, base, seller, seeding) = (&http, &base, &sellers[i % c], seeding.clone());
            async move {
                let body = json!({"title": format!("Bench ticket {i}"), "price": "25.00"});
                let (status, ticket) = json_call(
                    http,
                    reqwest::Method::POST,
                    format!("{base}/api/tickets"),
                    Some(seller),
                    Some(body),
                )
                .await?;
                seeding.tick();
                if status != 201 {
                    bail!("POST /api/tickets answered {status}: {ticket}");
                }
                Ok(ticket["id"].as_str().unwrap_or_default().to_owned())
            }
        })
        .buffered(c)
        .collect::<Vec<anyhow::Result<String>>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;

    // The lifecycles: order, pay (answered once the order is complete), see it complete.
    let progress = Progress::new("lifecycles", n);
    let started = Instant::now();
    let timings: Vec<Option<(Duration, Duration)>> = stream::iter(tickets.iter().enumerate())
        .map(|(i, ticket)| {
            let (http, base, buyer, progress) = (&http, &base, &buyers[i % c], progress.clone());
            let failed = &failed;
            async move {
                let t = Instant::now();
                let ordered = json_call(
                    http,
                    reqwest::Method::POST,
                    format!("{base}/api/orders"),
                    Some(buyer),
                    Some(json!({"ticketId": ticket})),
                )
                .await;
                let order_time = t.elapsed();
                let order = match ordered {
                    Ok((201, order)) => order,
                    other => {
                        failed("POST /api/orders", format!("{other:?}"));
                        progress.tick();
                        return None;
                    }
                };
                let id = order["id"].as_str().unwrap_or_default().to_owned();
                let t = Instant::now();
                let paid = json_call(
                    http,
                    reqwest::Method::POST,
                    format!("{base}/api/payments"),
                    Some(buyer),
                    Some(json!({"orderId": id, "token": "tok_visa"})),
                )
                .await;
                let pay_time = t.elapsed();
                if !matches!(paid, Ok((201, _))) {
                    failed("POST /api/payments", format!("{paid:?}"));
                    progress.tick();
                    return None;
                }
                let seen = json_call(
                    http,
                    reqwest::Method::GET,
                    format!("{base}/api/orders/{id}"),
                    Some(buyer),
                    None,
                )
                .await;
                if !matches!(&seen, Ok((200, o)) if o["status"] == "complete") {
                    failed("GET /api/orders/:id", format!("not complete: {seen:?}"));
                }
                progress.tick();
                Some((order_time, pay_time))
            }
        })
        .buffer_unordered(c)
        .collect()
        .await;
    let lifecycle_seconds = started.elapsed().as_secs_f64();
    let completed: Vec<_> = timings.into_iter().flatten().collect();
    let lifecycles_per_second = completed.len() as f64 / lifecycle_seconds;

    // Reads of one ticket at concurrency C, then pgbench's with the same select.
    eprintln!(
        "reading GET /api/tickets/:id for {} s at concurrency {c}…",
        args.read_seconds
    );
    let reads = reads::read(&base, &tickets, c, args.read_seconds).await?;
    for failure in reads.failures {
        failed("GET /api/tickets/:id", failure);
    }
    let pgbench = match &target.database_url {
        Some(url) => {
            eprintln!("the same select with pgbench…");
            reads::pgbench(
                url,
                tickets.first().map_or("", |t| t.as_str()),
                c,
                args.read_seconds,
            )
        }
        None => Err("the database is not known (pass --database-url)".to_owned()),
    };
    if let Err(why) = &pgbench {
        eprintln!("  no pgbench comparison: {why}");
    }
    let peak = target.server_pid.and_then(peak_memory_mib);

    // The baseline on the same server and namespace, through a client like the API's.
    let baseline = baseline(&target.temporal, n, c).await?;

    // Nothing may disagree afterwards.
    let disagreements = match &target.database_url {
        Some(url) => {
            eprintln!("checking invariants…");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let db = crate::database::connect(url).await?;
            let client =
                crate::temporal::connect(&target.temporal, Duration::from_secs(10)).await?;
            let found = crate::check::find_disagreements(&db, Some(&client)).await?;
            for disagreement in &found {
                eprintln!("  disagrees: {disagreement}");
            }
            Some(found.len())
        }
        None => None,
    };

    let figures = Figures {
        lifecycles: completed.len(),
        concurrency: c,
        lifecycles_per_second,
        baseline_workflows_per_second: baseline,
        ratio_to_baseline: lifecycles_per_second / baseline.max(1e-9),
        post_orders_ms: percentiles(completed.iter().map(|t| t.0).collect()),
        post_payments_ms: percentiles(completed.iter().map(|t| t.1).collect()),
        ticket_reads_per_second: reads.per_second,
        pgbench_reads_per_second: pgbench.as_ref().ok().map(|p| p.tps),
        pgbench_command: pgbench.as_ref().ok().map(|p| p.command.clone()),
        ratio_to_pgbench: pgbench.as_ref().ok().map(|p| reads.per_second / p.tps),
        server_peak_memory_mib: peak,
        disagreements,
        errors: errors.load(Ordering::Relaxed),
    };
    print_figures(&figures);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&figures)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("figures written to {}", path.display());
    }
    if figures.errors > 0 {
        bail!("{} requests failed", figures.errors);
    }
    if figures.disagreements.is_some_and(|d| d > 0) {
        bail!("the data disagrees after the run (see above)");
    }
    Ok(())
}

fn print_figures(f: &Figures) {
    let mut rows: BTreeMap<&str, String> = BTreeMap::new();
    rows.insert(
        "1 lifecycles",
        format!("{} at concurrency {}", f.lifecycles, f.concurrency),
    );
    rows.insert("2 lifecycles/s", format!("{:.1}", f.lifecycles_per_second));
    rows.insert(
        "3 baseline workflows/s",
        format!("{:.1}", f.baseline_workflows_per_second),
    );
    rows.insert("4 ratio", format!("{:.2} x baseline", f.ratio_to_baseline));
    let p = |p: &Percentiles| {
        format!(
            "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            p.p50, p.p95, p.p99
        )
    };
    rows.insert("5 POST /api/orders", p(&f.post_orders_ms));
    rows.insert("6 POST /api/payments", p(&f.post_payments_ms));
    rows.insert(
        "7 GET /api/tickets/:id",
        format!("{:.0} reads/s", f.ticket_reads_per_second),
    );
    rows.insert(
        "7 pgbench, same select",
        match (f.pgbench_reads_per_second, f.ratio_to_pgbench) {
            (Some(tps), Some(ratio)) => {
                format!("{tps:.0}/s: the API reads at {ratio:.2} x pgbench")
            }
            _ => "not measured (PostgreSQL and pgbench only)".to_owned(),
        },
    );
    rows.insert(
        "8 server peak memory",
        f.server_peak_memory_mib.map_or(
            "unknown (pass --server-pid, or use --embedded)".to_owned(),
            |m| format!("{m:.1} MiB"),
        ),
    );
    rows.insert(
        "9 invariants (check)",
        f.disagreements
            .map_or("not checked (pass --database-url)".to_owned(), |d| {
                if d == 0 {
                    "all agree".to_owned()
                } else {
                    format!("{d} disagreements")
                }
            }),
    );
    rows.insert("9 errors", f.errors.to_string());
    println!();
    for (name, value) in rows {
        println!("  {:<24} {value}", &name[2..]);
    }
}

/// Workflows/s of [`BaselineWorkflow`] (one no-op activity), `n` of them with `c` in flight, with
/// a worker of its own on a queue of its own.
async fn baseline(temporal: &TemporalConfig, n: usize, c: usize) -> anyhow::Result<f64> {
    let queue = format!("bench-baseline-{}", std::process::id());
    let config = TemporalConfig {
        task_queue: queue.clone(),
        ..temporal.clone()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker_config = config.clone();
    let worker = std::thread::spawn(move || -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let client = crate::temporal::connect(&worker_config, Duration::from_secs(10)).await?;
            let sdk = Runtime::from_current_tokio(Default::default())?;
            let options = WorkerOptions::new(worker_config.task_queue.clone())
                .register_workflow::<BaselineWorkflow>()?
                .register_activities(BaselineActivities)
                .build();
            let mut worker = Worker::new(&sdk, client, options)?;
            let shutdown = worker.shutdown_handle();
            let mut run = std::pin::pin!(worker.run());
            tokio::select! {
                _ = stopped => { shutdown(); run.await?; }
                ran = &mut run => { ran?; }
            }
            Ok(())
        })
    });
    let client: Client = crate::temporal::connect(&config, Duration::from_secs(10)).await?;
    let progress = Progress::new("baseline", n);
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = stream::iter(0..n)
        .map(|i| {
            let (client, queue, progress) = (&client, &queue, progress.clone());
            async move {
                let id = format!("{queue}-{i}");
                let handle = client
                    .start_workflow(
                        BaselineWorkflow::run,
                        (),
                        WorkflowStartOptions::new(queue.clone(), id).build(),
                    )
                    .await?;
                handle
                    .get_result(WorkflowGetResultOptions::default())
                    .await?;
                progress.tick();
                Ok(())
            }
        })
        .buffer_unordered(c)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = worker.join();
    let failures = results.iter().filter(|r| r.is_err()).count();
    if failures > 0 {
        bail!(
            "{failures} baseline workflows failed: {:?}",
            results.into_iter().find_map(Result::err)
        );
    }
    Ok(n as f64 / seconds)
}
