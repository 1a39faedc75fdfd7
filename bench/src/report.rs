//! What a run measured, and how it is shown: the figures (also as JSON), percentiles, and the
//! progress lines on stderr.

use std::{
    collections::BTreeMap,
    io::IsTerminal,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

/// What one run measured.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Figures {
    pub(crate) lifecycles: usize,
    pub(crate) concurrency: usize,
    pub(crate) lifecycles_per_second: f64,
    pub(crate) baseline_workflows_per_second: f64,
    pub(crate) ratio_to_baseline: f64,
    /// The baseline workflow's time from start to result.
    pub(crate) baseline_ms: Percentiles,
    pub(crate) post_orders_ms: Percentiles,
    pub(crate) post_payments_ms: Percentiles,
    pub(crate) ticket_reads_per_second: f64,
    /// pgbench's transactions/s with the same select at the same concurrency (PostgreSQL only).
    pub(crate) pgbench_reads_per_second: Option<f64>,
    pub(crate) pgbench_command: Option<String>,
    pub(crate) ratio_to_pgbench: Option<f64>,
    pub(crate) server_peak_memory_mib: Option<f64>,
    /// What `ticketing check` found afterwards (only when the database is known: `--embedded`
    /// or `--database-url`).
    pub(crate) disagreements: Option<usize>,
    pub(crate) errors: usize,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
}

pub(crate) fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
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

/// How far a phase is, on stderr: an indicatif bar on a terminal; otherwise (a log, CI) a plain
/// line at every tenth of the way, so a log gets ten lines, not hundreds of redrawn frames.
pub(crate) struct Progress {
    label: &'static str,
    total: usize,
    done: AtomicUsize,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub(crate) fn new(label: &'static str, total: usize) -> Arc<Self> {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "  {prefix:<12} {pos:>6}/{len:<6} [{bar:30}] {per_sec:>10} {elapsed}",
                )
                .expect("a valid progress template")
                .progress_chars("#>."),
            );
            bar.set_prefix(label);
            bar
        });
        Arc::new(Progress {
            label,
            total,
            done: AtomicUsize::new(0),
            started: Instant::now(),
            bar,
        })
    }

    pub(crate) fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if done == self.total {
                bar.finish();
            }
            return;
        }
        let step = self.total.div_ceil(10).max(1);
        if done == self.total || done.is_multiple_of(step) {
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "  {:<12} {done:>6}/{:<6} {:>3} % {rate:>8.1}/s",
                self.label,
                self.total,
                done * 100 / self.total.max(1)
            );
        }
    }
}

pub(crate) fn print_figures(f: &Figures) {
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
    rows.insert("4 baseline workflow", p(&f.baseline_ms));
    rows.insert(
        "5 POST /api/orders",
        format!(
            "{} ({:.2} x the baseline's p99; p99/p50 {:.1})",
            p(&f.post_orders_ms),
            f.post_orders_ms.p99 / f.baseline_ms.p99.max(1e-9),
            f.post_orders_ms.p99 / f.post_orders_ms.p50.max(1e-9)
        ),
    );
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
