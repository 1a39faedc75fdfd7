//! What a run measured, and how it is shown: the figures (also as JSON), percentiles, and the
//! progress lines on stderr.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// What one run measured.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Figures {
    pub(crate) lifecycles: usize,
    pub(crate) concurrency: usize,
    pub(crate) lifecycles_per_second: f64,
    pub(crate) baseline_workflows_per_second: f64,
    pub(crate) ratio_to_baseline: f64,
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

/// A progress line on stderr: `label  done/total  [#####.....]  rate/s`.
pub(crate) struct Progress {
    label: &'static str,
    total: usize,
    done: AtomicUsize,
    started: Instant,
}

impl Progress {
    pub(crate) fn new(label: &'static str, total: usize) -> Arc<Self> {
        Arc::new(Progress {
            label,
            total,
            done: AtomicUsize::new(0),
            started: Instant::now(),
        })
    }

    pub(crate) fn tick(&self) {
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
