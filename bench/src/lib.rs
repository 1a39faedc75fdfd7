//! The benchmark (`ticketing bench`): drives full order lifecycles through HTTP against a running
//! system (or one it starts with `--embedded`), measures a baseline workflow ([`baseline`]) on the
//! same Temporal server, reads tickets against pgbench ([`reads`]), checks the invariants, and
//! prints the figures (optionally as JSON). Apart from the production code: nothing depends on it
//! but the binary's `bench` command.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use workflows::{check, temporal};

pub mod baseline;
mod burst;
mod calls;
mod cpu;
mod histories;
mod options;
mod percentiles;
mod progress;
mod reads;
mod report;
mod target;
mod writes;

pub use options::Options;

use calls::{credentials, json_call, new_user, post_order};
use percentiles::percentiles;
use progress::Progress;
use report::{Figures, RoundFigures, print_figures};
use target::{memory_mib, target};

/// Runs the benchmark and prints its figures; an error when a request failed or the data
/// disagrees afterwards.
pub async fn run(args: Options) -> anyhow::Result<()> {
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

    // What the database did before the lifecycles (PostgreSQL only).
    let stats_db = match &target.database_url {
        Some(url) if url.starts_with("postgres") => Some(database::connect(url).await?),
        _ => None,
    };
    let writes_before = match &stats_db {
        Some(db) => {
            eprintln!("letting PostgreSQL's statistics settle…");
            tokio::time::sleep(writes::SETTLE).await;
            writes::Snapshot::take(db).await
        }
        None => None,
    };

    // The lifecycles (order, pay, see it complete) and the baseline, in alternating rounds.
    let rounds = args.rounds.clamp(1, n);
    let mut baseline = baseline::Baseline::start(&target.temporal).await?;
    let (mut completed, mut baseline_workflows, mut round_figures) = (vec![], vec![], vec![]);
    let (mut lifecycle_seconds, mut baseline_seconds) = (0.0, 0.0);
    let (mut lifecycle_cpu, mut baseline_cpu) =
        (cpu::Snapshot::default(), cpu::Snapshot::default());
    for (round, chunk) in tickets.chunks(n.div_ceil(rounds)).enumerate() {
        eprintln!("round {} of {rounds}:", round + 1);
        let started = Instant::now();
        let before = cpu::Snapshot::take(target.server_pid);
        let done = lifecycles(&http, &base, chunk, &buyers, &failed).await;
        let seconds = started.elapsed().as_secs_f64();
        let between = cpu::Snapshot::take(target.server_pid);
        between.add_since(&before, &mut lifecycle_cpu);
        let measured = baseline.round(chunk.len(), c).await?;
        cpu::Snapshot::take(target.server_pid).add_since(&between, &mut baseline_cpu);
        round_figures.push(RoundFigures::new(
            done.len() as f64 / seconds,
            measured.per_second,
        ));
        lifecycle_seconds += seconds;
        baseline_seconds += chunk.len() as f64 / measured.per_second;
        completed.extend(done);
        baseline_workflows.extend(measured.workflows);
    }
    let lifecycles_per_second = completed.len() as f64 / lifecycle_seconds;
    let peak_through_lifecycles = target.server_pid.and_then(|pid| memory_mib(pid, "VmHWM"));
    let lifecycle_writes = match (&stats_db, writes_before) {
        (Some(db), Some(before)) => {
            tokio::time::sleep(writes::SETTLE).await;
            writes::Snapshot::take(db)
                .await
                .map(|after| after.per_lifecycle_since(&before, completed.len()))
        }
        _ => None,
    };
    drop(stats_db);

    // Reads of one ticket at concurrency C, in turns with pgbench's of the same select.
    let sampled = tickets.len().min(reads::MAX_SCRIPTS);
    eprintln!(
        "reading GET /api/tickets/:id ({sampled} tickets) at concurrency {c} for {} s, in turns \
         with pgbench when the database is PostgreSQL…",
        args.read_seconds
    );
    let reads::Comparison {
        reads,
        pgbench,
        pair_ratios,
    } = reads::compare(
        &base,
        &tickets,
        c,
        args.read_seconds,
        target.database_url.as_deref(),
    )
    .await?;
    for failure in reads.failures {
        failed("GET /api/tickets/:id", failure);
    }
    if let Err(why) = &pgbench {
        eprintln!("  no pgbench comparison: {why}");
    }
    let peak = target.server_pid.and_then(|pid| memory_mib(pid, "VmHWM"));

    // Many sign-ins at once: what password hashing does to the server's memory.
    let buyer_credentials: Vec<Value> = (0..c).map(|i| credentials(2 * i + 1)).collect();
    let sign_ins =
        burst::sign_ins(&base, &buyer_credentials, args.sign_ins, target.server_pid).await?;

    // Many orders at once, if asked for.
    let order_burst = match args.burst {
        0 => None,
        orders => Some(burst::orders(&base, &sellers[0], &buyers, orders.div_ceil(c)).await?),
    };
    if let Some(b) = &order_burst
        && (b.other > 0 || b.ghosts > 0 || b.missing > 0)
    {
        failed(
            "the burst of orders",
            format!(
                "{} undocumented answers, {} orders nobody was told of, {} told of and missing",
                b.other, b.ghosts, b.missing
            ),
        );
    }

    // What the lifecycles and the baseline cost Temporal, from their histories.
    eprintln!("reading the histories…");
    let order_histories = histories::read(
        baseline.client(),
        "histories",
        completed
            .iter()
            .filter_map(|l| Some((workflows::workflow_id(l.order_id.parse().ok()?), l.order)))
            .collect(),
    )
    .await?;
    let baseline_histories =
        histories::read(baseline.client(), "baseline", baseline_workflows.clone()).await?;
    drop(baseline);

    // Nothing may disagree afterwards.
    let disagreements = match &target.database_url {
        Some(url) => {
            eprintln!("checking invariants…");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let db = database::connect(url).await?;
            let client = temporal::connect(&target.temporal, Duration::from_secs(10)).await?;
            let found = check::find_disagreements(&db, Some(&client)).await?;
            for disagreement in &found {
                eprintln!("  disagrees: {disagreement}");
            }
            Some(found.len())
        }
        None => None,
    };

    let baseline_per_second = baseline_workflows.len() as f64 / baseline_seconds;
    let figures = Figures {
        lifecycles: completed.len(),
        concurrency: c,
        lifecycles_per_second,
        baseline_workflows_per_second: baseline_per_second,
        ratio_to_baseline: lifecycles_per_second / baseline_per_second.max(1e-9),
        rounds: round_figures,
        baseline_ms: percentiles(baseline_workflows.iter().map(|w| w.1).collect()),
        post_orders_ms: percentiles(completed.iter().map(|l| l.order).collect()),
        post_payments_ms: percentiles(completed.iter().map(|l| l.pay).collect()),
        order_histories,
        baseline_histories,
        lifecycle_cpu: lifecycle_cpu.per(completed.len()),
        lifecycle_writes,
        baseline_cpu: baseline_cpu.per(baseline_workflows.len()),
        ticket_reads_per_second: reads.per_second,
        pgbench_reads_per_second: pgbench.as_ref().ok().map(|p| p.tps),
        pgbench_command: pgbench.as_ref().ok().map(|p| p.command.clone()),
        ratio_to_pgbench: pgbench.as_ref().ok().map(|p| reads.per_second / p.tps),
        ratio_to_pgbench_pairs: pair_ratios,
        server_peak_memory_mib: peak,
        server_peak_memory_through_lifecycles_mib: peak_through_lifecycles,
        sign_ins,
        order_burst,
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

/// One lifecycle that went through: its order, and how long ordering and paying took.
struct Lifecycle {
    order_id: String,
    order: Duration,
    pay: Duration,
}

/// One lifecycle per ticket, as many in flight as there are buyers: `POST /api/orders`, `POST
/// /api/payments` (answered once the order is complete), `GET /api/orders/:id` (must say
/// `complete`).
async fn lifecycles(
    http: &reqwest::Client,
    base: &str,
    tickets: &[String],
    buyers: &[String],
    failed: &impl Fn(&str, String),
) -> Vec<Lifecycle> {
    let c = buyers.len();
    let progress = Progress::new("lifecycles", tickets.len());
    let done: Vec<Option<Lifecycle>> = stream::iter(tickets.iter().enumerate())
        .map(|(i, ticket)| {
            let (buyer, progress) = (&buyers[i % c], progress.clone());
            async move {
                let t = Instant::now();
                let ordered = post_order(http, base, buyer, ticket).await;
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
                Some(Lifecycle {
                    order_id: id,
                    order: order_time,
                    pay: pay_time,
                })
            }
        })
        .buffer_unordered(c)
        .collect()
        .await;
    done.into_iter().flatten().collect()
}
