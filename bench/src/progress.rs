//! Progress of a phase of the benchmark on stderr.

use std::{
    io::IsTerminal,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use indicatif::{ProgressBar, ProgressStyle};

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
