//! CPU time spent by the server, its Temporal dev server and the whole machine while a phase ran,
//! from `/proc` (Linux): the measured cost per lifecycle that the capacity model starts from.

/// CPU seconds used so far.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Snapshot {
    /// The server process (`ticketing dev`: the API, the worker, the relay).
    server: Option<f64>,
    /// The Temporal dev server `ticketing dev` started (a child of the server).
    temporal: Option<f64>,
    /// Every core of the machine, busy (everything but idle and I/O wait).
    machine: Option<f64>,
}

/// CPU milliseconds per unit of work (a lifecycle, a baseline workflow).
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct PerUnit {
    pub(crate) server_ms: Option<f64>,
    pub(crate) temporal_ms: Option<f64>,
    pub(crate) machine_ms: Option<f64>,
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// `utime + stime` of a process, and its parent's id.
fn process(pid: u32) -> Option<(f64, u32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let parent = fields.get(1)?.parse().ok()?;
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(((utime + stime) / ticks_per_second(), parent, name))
}

/// The `temporal` child of `parent`, if it has one.
fn temporal_child(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let (_, of, name) = process(pid)?;
        (of == parent && name == "temporal").then_some(pid)
    })
}

fn machine() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<f64> = cpu
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy: f64 = ticks.iter().take(8).sum::<f64>() - ticks.get(3)? - ticks.get(4)?;
    Some(busy / ticks_per_second())
}

impl Snapshot {
    pub(crate) fn take(server_pid: Option<u32>) -> Self {
        Snapshot {
            server: server_pid.and_then(process).map(|p| p.0),
            temporal: server_pid
                .and_then(temporal_child)
                .and_then(process)
                .map(|p| p.0),
            machine: machine(),
        }
    }

    /// What was used since `earlier`, added to `self`'s running total `into`.
    pub(crate) fn add_since(&self, earlier: &Snapshot, into: &mut Snapshot) {
        let add = |total: &mut Option<f64>, now: Option<f64>, then: Option<f64>| {
            if let (Some(now), Some(then)) = (now, then) {
                *total = Some(total.unwrap_or(0.0) + (now - then));
            }
        };
        add(&mut into.server, self.server, earlier.server);
        add(&mut into.temporal, self.temporal, earlier.temporal);
        add(&mut into.machine, self.machine, earlier.machine);
    }

    /// A running total divided among `units`.
    pub(crate) fn per(&self, units: usize) -> PerUnit {
        let per = |total: Option<f64>| total.map(|s| s * 1000.0 / units.max(1) as f64);
        PerUnit {
            server_ms: per(self.server),
            temporal_ms: per(self.temporal),
            machine_ms: per(self.machine),
        }
    }
}
