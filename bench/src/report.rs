//! What a run measured, and how it is shown: the figures, printed and as JSON.

use crate::{
    burst::{OrderBurst, SignIns},
    cpu::PerUnit,
    histories::HistoryFigures,
    percentiles::Percentiles,
};

/// One round: lifecycles/s, then the baseline's workflows/s right after.
#[derive(Debug, serde::Serialize)]
pub(crate) struct RoundFigures {
    pub(crate) lifecycles_per_second: f64,
    pub(crate) baseline_workflows_per_second: f64,
    pub(crate) ratio: f64,
}

impl RoundFigures {
    pub(crate) fn new(lifecycles_per_second: f64, baseline_workflows_per_second: f64) -> Self {
        RoundFigures {
            lifecycles_per_second,
            baseline_workflows_per_second,
            ratio: lifecycles_per_second / baseline_workflows_per_second.max(1e-9),
        }
    }
}

/// The median, least and greatest of the rounds' ratios.
pub(crate) fn ratio_spread(rounds: &[RoundFigures]) -> (f64, f64, f64) {
    let mut ratios: Vec<f64> = rounds.iter().map(|r| r.ratio).collect();
    ratios.sort_by(f64::total_cmp);
    let median = match ratios.len() {
        0 => 0.0,
        n if n % 2 == 1 => ratios[n / 2],
        n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
    };
    (
        median,
        ratios.first().copied().unwrap_or(0.0),
        ratios.last().copied().unwrap_or(0.0),
    )
}

/// What one run measured.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Figures {
    pub(crate) lifecycles: usize,
    pub(crate) concurrency: usize,
    pub(crate) lifecycles_per_second: f64,
    pub(crate) baseline_workflows_per_second: f64,
    pub(crate) ratio_to_baseline: f64,
    /// Each round's lifecycles/s and baseline workflows/s.
    pub(crate) rounds: Vec<RoundFigures>,
    /// The baseline workflow's time from start to result.
    pub(crate) baseline_ms: Percentiles,
    pub(crate) post_orders_ms: Percentiles,
    pub(crate) post_payments_ms: Percentiles,
    /// What an order's and a baseline workflow's histories hold, per workflow.
    pub(crate) order_histories: HistoryFigures,
    pub(crate) baseline_histories: HistoryFigures,
    /// CPU time per lifecycle and per baseline workflow, while each ran.
    pub(crate) lifecycle_cpu: PerUnit,
    /// PostgreSQL transactions and rows written per lifecycle (PostgreSQL only).
    pub(crate) lifecycle_writes: Option<crate::writes::PerLifecycle>,
    pub(crate) baseline_cpu: PerUnit,
    pub(crate) ticket_reads_per_second: f64,
    /// pgbench's transactions/s with the same select at the same concurrency (PostgreSQL only).
    pub(crate) pgbench_reads_per_second: Option<f64>,
    pub(crate) pgbench_command: Option<String>,
    pub(crate) ratio_to_pgbench: Option<f64>,
    /// The same ratio in each pair of turns (API then pgbench, or pgbench then API).
    pub(crate) ratio_to_pgbench_pairs: Vec<f64>,
    /// The server's peak resident memory after the reads, and after the lifecycles alone.
    pub(crate) server_peak_memory_mib: Option<f64>,
    pub(crate) server_peak_memory_through_lifecycles_mib: Option<f64>,
    pub(crate) sign_ins: SignIns,
    pub(crate) order_burst: Option<OrderBurst>,
    /// What `ticketing check` found afterwards (only when the database is known: `--embedded`
    /// or `--database-url`).
    pub(crate) disagreements: Option<usize>,
    pub(crate) errors: usize,
}

pub(crate) fn print_figures(f: &Figures) {
    let mut rows: Vec<(&str, String)> = Vec::new();
    let p = |p: &Percentiles| {
        format!(
            "p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
            p.p50, p.p95, p.p99
        )
    };
    let mib = |m: Option<f64>| {
        m.map_or("unknown (pass --server-pid)".to_owned(), |m| {
            format!("{m:.1} MiB")
        })
    };
    rows.push((
        "lifecycles",
        format!("{} at concurrency {}", f.lifecycles, f.concurrency),
    ));
    rows.push(("lifecycles/s", format!("{:.1}", f.lifecycles_per_second)));
    rows.push((
        "baseline workflows/s",
        format!("{:.1}", f.baseline_workflows_per_second),
    ));
    let (median, least, most) = ratio_spread(&f.rounds);
    rows.push((
        "ratio",
        format!(
            "{median:.2} x baseline (median of {} rounds: {}; {:.2} over the whole run)",
            f.rounds.len(),
            f.rounds
                .iter()
                .map(|r| format!("{:.2}", r.ratio))
                .collect::<Vec<_>>()
                .join(", "),
            f.ratio_to_baseline
        ),
    ));
    rows.push(("ratio spread", format!("{least:.2} to {most:.2}")));
    rows.push(("baseline workflow", p(&f.baseline_ms)));
    rows.push((
        "POST /api/orders",
        format!(
            "{} ({:.2} x the baseline's p99; p99/p50 {:.1})",
            p(&f.post_orders_ms),
            f.post_orders_ms.p99 / f.baseline_ms.p99.max(1e-9),
            f.post_orders_ms.p99 / f.post_orders_ms.p50.max(1e-9)
        ),
    ));
    rows.push(("POST /api/payments", p(&f.post_payments_ms)));
    for (name, h) in [
        ("order history", &f.order_histories),
        ("baseline history", &f.baseline_histories),
    ] {
        let count = |c: &crate::histories::Count| {
            if c.min == c.max {
                format!("{}", c.min)
            } else {
                format!("{:.1} ({}-{})", c.mean, c.min, c.max)
            }
        };
        rows.push((
            name,
            format!(
                "{} events, {} workflow tasks, {} actions, {} bytes (of {} histories)",
                count(&h.events),
                count(&h.workflow_tasks),
                count(&h.actions),
                count(&h.bytes),
                h.histories
            ),
        ));
        rows.push(("  first task queued", p(&h.first_task_wait_ms)));
        rows.push(("  later tasks queued", p(&h.later_task_wait_ms)));
        rows.push((
            "  slowest 1 %",
            format!(
                "waited {} for the answer; first task queued {}",
                p(&h.slowest_client_ms),
                p(&h.slowest_first_task_wait_ms)
            ),
        ));
    }
    let cpu = |u: &PerUnit| {
        let ms = |m: Option<f64>| m.map_or("?".to_owned(), |m| format!("{m:.1} ms"));
        format!(
            "server {}, Temporal {}, whole machine {}",
            ms(u.server_ms),
            ms(u.temporal_ms),
            ms(u.machine_ms)
        )
    };
    rows.push(("CPU per lifecycle", cpu(&f.lifecycle_cpu)));
    rows.push(("CPU per baseline wf", cpu(&f.baseline_cpu)));
    // When both are CPU-bound on the same machine, the ratio is about the baseline's whole-machine
    // CPU over the lifecycle's; with everything but Temporal free, it could reach at most this.
    if let (Some(temporal), Some(baseline)) =
        (f.lifecycle_cpu.temporal_ms, f.baseline_cpu.machine_ms)
        && temporal > 0.0
    {
        rows.push((
            "  ratio's ceiling",
            format!(
                "{:.2} x: the baseline's whole machine per workflow over Temporal's share of a \
                 lifecycle (if our server, the database and the client cost nothing)",
                baseline / temporal
            ),
        ));
    }
    if let Some(w) = &f.lifecycle_writes {
        rows.push((
            "PostgreSQL per lifecycle",
            format!(
                "{:.1} transactions, {:.1} rows written (outbox and relay included)",
                w.transactions, w.rows_written
            ),
        ));
    }
    rows.push((
        "GET /api/tickets/:id",
        format!("{:.0} reads/s", f.ticket_reads_per_second),
    ));
    rows.push((
        "pgbench, same select",
        match (f.pgbench_reads_per_second, f.ratio_to_pgbench) {
            (Some(tps), Some(ratio)) => {
                let pairs = &f.ratio_to_pgbench_pairs;
                let low = pairs.iter().copied().fold(f64::INFINITY, f64::min);
                let high = pairs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!(
                    "{tps:.0}/s: the API reads at {ratio:.2} x pgbench ({} pairs of turns: \
                     {low:.2} to {high:.2})",
                    pairs.len()
                )
            }
            _ => "not measured (PostgreSQL and pgbench only)".to_owned(),
        },
    ));
    rows.push((
        "server peak memory",
        format!(
            "{} (lifecycles alone: {})",
            mib(f.server_peak_memory_mib),
            mib(f.server_peak_memory_through_lifecycles_mib)
        ),
    ));
    let s = &f.sign_ins;
    rows.push((
        "sign-ins at once",
        format!(
            "{} in {:.1} s ({} signed in, {} shed): peak {}, {} right after, {} 5 s after",
            s.sign_ins,
            s.seconds,
            s.signed_in,
            s.shed,
            mib(s.peak_mib),
            mib(s.right_after_mib),
            mib(s.five_seconds_after_mib)
        ),
    ));
    if let Some(b) = &f.order_burst {
        rows.push((
            "orders at once",
            format!(
                "{} ({} tickets): {} created, {} taken (400), {} shed (503), {} other",
                b.orders, b.tickets, b.created, b.taken, b.shed, b.other
            ),
        ));
        rows.push((
            "  answered",
            format!(
                "first after {:.0} ms, first 503 after {}, last after {:.0} ms",
                b.first_answer_ms,
                b.first_shed_ms
                    .map_or("none".to_owned(), |ms| format!("{ms:.0} ms")),
                b.last_answer_ms
            ),
        ));
        rows.push((
            "  ghosts",
            format!(
                "{} orders nobody was told of, {} told of and missing",
                b.ghosts, b.missing
            ),
        ));
    }
    rows.push((
        "invariants (check)",
        f.disagreements
            .map_or("not checked (pass --database-url)".to_owned(), |d| {
                if d == 0 {
                    "all agree".to_owned()
                } else {
                    format!("{d} disagreements")
                }
            }),
    ));
    rows.push(("errors", f.errors.to_string()));
    println!();
    for (name, value) in rows {
        println!("  {name:<24} {value}");
    }
}
