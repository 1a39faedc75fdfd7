//! The process's metrics in the Prometheus text format (the `prometheus` crate): HTTP requests by
//! route template, the orders' lifecycle, the payment gateway, the relay, and the Temporal SDK's
//! own worker metrics (`temporal_...`: workflow task latencies, slots, polls), which the SDK's
//! Prometheus exporter serves on a loopback port of its own and [`Metrics::render`] passes on.
//!
//! One [`Metrics`] per process (cheap to clone), handed to every part that records something:
//! the HTTP application, the worker's activities, the relay. `/metrics` is on the HTTP port of
//! `serve` and `dev`, and on `METRICS_ADDR` for `worker` and `relay` ([`serve`]).

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
    core::{Collector, Desc},
    proto::MetricFamily,
};
use temporalio_common::telemetry::{
    PrometheusExporterOptions, metrics::CoreMeter, start_prometheus_metric_exporter,
};

/// How an order ended, as `ticketing_orders_finished_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderOutcome {
    /// Paid.
    Complete,
    /// Not paid in time.
    Expired,
    /// The card was declined.
    Declined,
    /// The buyer cancelled it.
    Cancelled,
    /// An operator (or the reconciler) cancelled it.
    OperatorCancelled,
    /// The reservation was refused (ticket taken, not found, the buyer's own, too late).
    Rejected,
}

impl OrderOutcome {
    pub const ALL: [OrderOutcome; 6] = [
        OrderOutcome::Complete,
        OrderOutcome::Expired,
        OrderOutcome::Declined,
        OrderOutcome::Cancelled,
        OrderOutcome::OperatorCancelled,
        OrderOutcome::Rejected,
    ];

    /// The label value (and the `OrderOutcome` search attribute's).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderOutcome::Complete => "complete",
            OrderOutcome::Expired => "expired",
            OrderOutcome::Declined => "declined",
            OrderOutcome::Cancelled => "cancelled",
            OrderOutcome::OperatorCancelled => "operator_cancelled",
            OrderOutcome::Rejected => "rejected",
        }
    }
}

/// What a charge through the payment gateway came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeResult {
    Charged,
    Declined,
    /// Refused as invalid (a bad token): nothing charged.
    Invalid,
    /// The provider could not be reached or failed: retried.
    Transient,
    /// The provider refused our credentials: not retried.
    Permanent,
}

impl ChargeResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeResult::Charged => "charged",
            ChargeResult::Declined => "declined",
            ChargeResult::Invalid => "invalid",
            ChargeResult::Transient => "transient_error",
            ChargeResult::Permanent => "permanent_error",
        }
    }
}

/// Buckets of request and step latencies, in seconds: 5 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The metrics of one process.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    orders_started: IntCounter,
    orders_finished: IntCounterVec,
    reservation_seconds: Histogram,
    payment_seconds: Histogram,
    charges: IntCounterVec,
    charge_seconds: Histogram,
    /// The Temporal SDK's exporters (one per worker runtime), passed on by [`Metrics::render`].
    temporal_exporters: Mutex<Vec<SocketAddr>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, collector: C) -> C {
    registry
        .register(Box::new(collector.clone()))
        .expect("each metric is registered once, under a name of its own");
    collector
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                &registry,
                IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter"),
            )
        };
        let histogram = |name: &str, help: &str| {
            register(
                &registry,
                Histogram::with_opts(
                    HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
                )
                .expect("a valid histogram"),
            )
        };
        let http_requests = counter_vec(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            &["method", "route", "status"],
        );
        let http_duration = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "How long HTTP requests took to answer, by method and route template.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["method", "route"],
            )
            .expect("a valid histogram"),
        );
        let orders_started = register(
            &registry,
            IntCounter::new(
                "ticketing_orders_started_total",
                "Orders whose reservation was attempted (each order workflow once).",
            )
            .expect("a valid counter"),
        );
        let orders_finished = counter_vec(
            "ticketing_orders_finished_total",
            "Orders that ended, by outcome: complete, expired, declined, cancelled, \
             operator_cancelled, rejected.",
            &["outcome"],
        );
        for outcome in OrderOutcome::ALL {
            // Every outcome is on the page from the start, at 0.
            orders_finished.with_label_values(&[outcome.as_str()]);
        }
        let charges = counter_vec(
            "ticketing_gateway_charges_total",
            "Charges asked of the payment gateway, by result.",
            &["result"],
        );
        Metrics(Arc::new(Inner {
            http_requests,
            http_duration,
            orders_started,
            orders_finished,
            reservation_seconds: histogram(
                "ticketing_reservation_seconds",
                "How long a reservation took, from asking the order's workflow to its answer.",
            ),
            payment_seconds: histogram(
                "ticketing_payment_seconds",
                "How long a payment took, from asking the order's workflow to its answer.",
            ),
            charges,
            charge_seconds: histogram(
                "ticketing_gateway_charge_seconds",
                "How long the payment gateway took to answer a charge.",
            ),
            registry,
            temporal_exporters: Mutex::default(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client"),
        }))
    }

    /// One HTTP request answered: `route` is the path template (`/api/orders/:id`), never the
    /// raw path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.0
            .http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.0
            .http_duration
            .with_label_values(&[method, route])
            .observe(took.as_secs_f64());
    }

    pub fn order_started(&self) {
        self.0.orders_started.inc();
    }

    pub fn order_finished(&self, outcome: OrderOutcome) {
        self.0
            .orders_finished
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    pub fn reservation(&self, took: Duration) {
        self.0.reservation_seconds.observe(took.as_secs_f64());
    }

    pub fn payment(&self, took: Duration) {
        self.0.payment_seconds.observe(took.as_secs_f64());
    }

    pub fn charge(&self, result: ChargeResult, took: Duration) {
        self.0.charges.with_label_values(&[result.as_str()]).inc();
        self.0.charge_seconds.observe(took.as_secs_f64());
    }

    /// A value read when the metrics are scraped (a relay's lag, say): `kind` is `counter` or
    /// `gauge`.
    pub fn observe_fn(
        &self,
        name: &str,
        help: &str,
        kind: FnKind,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        let collector = FnCollector {
            desc: Desc::new(name.to_owned(), help.to_owned(), vec![], Default::default())
                .expect("a valid metric name"),
            kind,
            read: Arc::new(read),
        };
        self.0
            .registry
            .register(Box::new(collector))
            .expect("each metric is registered once, under a name of its own");
    }

    /// A meter for a Temporal worker runtime: the SDK's own Prometheus exporter on a loopback
    /// port, whose metrics (`temporal_...`) [`Metrics::render`] includes from then on.
    pub fn temporal_meter(&self) -> anyhow::Result<Arc<dyn CoreMeter>> {
        let options = PrometheusExporterOptions::builder()
            .socket_addr(SocketAddr::from(([127, 0, 0, 1], 0)))
            .counters_total_suffix(true)
            .unit_suffix(true)
            .use_seconds_for_durations(true)
            .build();
        let started = start_prometheus_metric_exporter(options)?;
        self.0
            .temporal_exporters
            .lock()
            .expect("the exporters' list")
            .push(started.bound_addr);
        Ok(started.meter)
    }

    /// Every metric in the Prometheus text format: this process's, then the Temporal SDK's.
    pub async fn render(&self) -> String {
        let mut text = Vec::new();
        let families: Vec<MetricFamily> = self.0.registry.gather();
        if let Err(error) = TextEncoder::new().encode(&families, &mut text) {
            tracing::warn!(%error, "cannot encode the metrics");
        }
        let mut text = String::from_utf8(text).unwrap_or_default();
        let exporters = self
            .0
            .temporal_exporters
            .lock()
            .expect("the exporters' list")
            .clone();
        for exporter in exporters {
            let url = format!("http://{exporter}/metrics");
            match self.0.client.get(&url).send().await {
                Ok(response) => match response.text().await {
                    Ok(body) => text.push_str(&body),
                    Err(error) => tracing::debug!(%error, "cannot read the SDK's metrics"),
                },
                Err(error) => tracing::debug!(%error, "cannot read the SDK's metrics"),
            }
        }
        text
    }
}

/// What a value read at scrape time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    /// Only grows (its name should end in `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
}

#[derive(Clone)]
struct FnCollector {
    desc: Desc,
    kind: FnKind,
    read: Arc<dyn Fn() -> f64 + Send + Sync>,
}

impl Collector for FnCollector {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let value = (self.read)();
        let mut family = MetricFamily::default();
        family.set_name(self.desc.fq_name.clone());
        family.set_help(self.desc.help.clone());
        let mut metric = prometheus::proto::Metric::default();
        match self.kind {
            FnKind::Counter => {
                family.set_field_type(prometheus::proto::MetricType::COUNTER);
                let mut counter = prometheus::proto::Counter::default();
                counter.set_value(value);
                metric.set_counter(counter);
            }
            FnKind::Gauge => {
                family.set_field_type(prometheus::proto::MetricType::GAUGE);
                let mut gauge = prometheus::proto::Gauge::default();
                gauge.set_value(value);
                metric.set_gauge(gauge);
            }
        }
        family.set_metric(vec![metric]);
        vec![family]
    }
}

/// Serves `GET /metrics` on `addr` until `shutdown` (for the processes with no HTTP server of
/// their own: `worker`, `relay`).
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use poem::{EndpointExt, Route, Server, get, handler, listener::TcpListener, web::Data};

    #[handler]
    async fn scrape(metrics: Data<&Metrics>) -> poem::Response {
        poem::Response::builder()
            .content_type(CONTENT_TYPE)
            .body(metrics.render().await)
    }

    let app = Route::new().at("/metrics", get(scrape)).data(metrics);
    tracing::info!(%addr, "serving /metrics");
    Server::new(TcpListener::bind(addr))
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(2)))
        .await
        .map_err(|e| anyhow::anyhow!("cannot serve metrics on METRICS_ADDR {addr}: {e}"))
}

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_every_metric_and_outcome() {
        let metrics = Metrics::new();
        metrics.http_request("GET", "/api/tickets/:id", 200, Duration::from_millis(3));
        metrics.order_started();
        metrics.order_finished(OrderOutcome::Expired);
        metrics.observe_fn(
            "ticketing_relay_lag_events",
            "Events waiting.",
            FnKind::Gauge,
            || 7.0,
        );
        let text = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(metrics.render());
        for line in [
            r#"http_requests_total{method="GET",route="/api/tickets/:id",status="200"} 1"#,
            r#"http_request_duration_seconds_count{method="GET",route="/api/tickets/:id"} 1"#,
            "ticketing_orders_started_total 1",
            r#"ticketing_orders_finished_total{outcome="expired"} 1"#,
            r#"ticketing_orders_finished_total{outcome="complete"} 0"#,
            "ticketing_relay_lag_events 7",
        ] {
            assert!(text.contains(line), "no {line} in\n{text}");
        }
    }
}
