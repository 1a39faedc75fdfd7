//! What operators see of every `ticketing` process: its logs ([`logs`]: text or JSON lines on
//! stderr, with the request and order they are about) and its metrics ([`metrics`]: Prometheus,
//! the process's own and the Temporal SDK's worker metrics, on `/metrics`), and the W3C trace
//! context a request came with ([`trace`]).

pub mod logs;
pub mod metrics;
pub mod trace;

pub use logs::{LogFormat, LogGuard};
pub use metrics::{ChargeResult, FnKind, Metrics, OrderOutcome};
