//! The `ticketing` commands: the composition root that builds each part from its settings and
//! runs it until it is told to stop.

mod check;
pub mod dev;
pub mod history;
mod users;

use std::{future::Future, time::Duration};

use api::Application;
use workflows::{OrderWorker, search_attributes, temporal};

use crate::cli::{Command, EventsCommand, HistoryCommand};

/// Runs one command to its end.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => dev::run(args).await,
        Command::Serve(args) => {
            let settings = args.settings()?;
            let relay = args.events.relay()?;
            // The process's metrics: the app's, and the relay's beside them.
            let metrics = telemetry::Metrics::new();
            let app = Application::build(settings.clone(), metrics.clone()).await?;
            tracing::info!(addr = %settings.http_addr, port = app.port(), "serving HTTP");
            let stop = Stop::on_signal();
            let relaying =
                relay.map(|relay| spawn_relay(&settings.database_url, relay, &metrics, &stop));
            let served = app.run_until_stopped(stop.stopped()).await;
            stop.stop();
            finished(relaying).await?;
            Ok(served?)
        }
        Command::Worker(args) => {
            let settings = args.settings()?;
            let relay = args.events.relay()?;
            // The process's metrics: the worker's, and the relay's beside them.
            let metrics = telemetry::Metrics::new();
            let client = temporal::connect(&settings.temporal, Duration::from_secs(30)).await?;
            search_attributes::ensure_registered(&client).await?;
            let gateway = settings.gateway.build();
            let worker = OrderWorker::build(&settings, client, gateway, metrics.clone()).await?;
            tracing::info!(task_queue = %settings.temporal.task_queue, gateway = ?settings.gateway, "worker running");
            let stop = Stop::on_signal();
            let relaying =
                relay.map(|relay| spawn_relay(&settings.database_url, relay, &metrics, &stop));
            spawn_metrics(args.metrics.metrics_addr, &metrics, &stop);
            let worked = worker.run_until(stop.stopped()).await;
            stop.stop();
            finished(relaying).await?;
            worked
        }
        Command::Relay(args) => {
            let url = args.database.require()?;
            let settings = args.nats.relay().ok_or_else(|| {
                anyhow::anyhow!("NATS_URL is required (e.g. nats://127.0.0.1:4222)")
            })?;
            let db = database::connect(&url)
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
            let metrics = telemetry::Metrics::new();
            let stats = relay_stats(&metrics);
            let stop = Stop::on_signal();
            spawn_metrics(args.metrics.metrics_addr, &metrics, &stop);
            let relayed = events::relay::run_counted(db, settings, stats, stop.stopped()).await;
            stop.stop();
            relayed
        }
        Command::Migrate(args) => {
            let url = args.require()?;
            let db = database::connect(&url)
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
            database::migrate(&db).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Bench(args) => bench::run(args.options()?).await,
        Command::Check(args) => {
            if check::run(&args).await? {
                Ok(())
            } else {
                Err(anyhow::anyhow!("the data disagrees (see above)"))
            }
        }
        Command::History(HistoryCommand::Export(args)) => history::export(&args).await,
        Command::Users(command) => users::run(&command).await,
        Command::Events(EventsCommand::Tail(args)) => {
            let bus = match args.nats.bus() {
                Some(bus) => bus,
                None => match dev::nats_url_of(&args.data.data_dir) {
                    Some(url) => {
                        eprintln!("following the events of `ticketing dev` at {url}");
                        args.nats.bus_at(url)
                    }
                    None => anyhow::bail!(
                        "NATS_URL is required (e.g. nats://127.0.0.1:4222); without it, `events \
                         tail` follows the `ticketing dev` whose data folder is DATA_DIR ({}), \
                         but none runs there",
                        args.data.data_dir.display()
                    ),
                },
            };
            let options = events::tail::TailOptions {
                from_start: args.from_start,
                kinds: args.kinds.clone(),
                durable: args.durable.clone(),
            };
            events::tail::tail(&bus, &options, std::io::stdout()).await
        }
        Command::Asyncapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&events::asyncapi::document())?
            );
            Ok(())
        }
        Command::Openapi => {
            println!("{}", api::openapi::document());
            Ok(())
        }
    }
}

/// The stop of one process's parts: given on SIGINT/SIGTERM, or by a part that ended.
#[derive(Clone)]
pub struct Stop(std::sync::Arc<tokio::sync::watch::Sender<bool>>);

impl Stop {
    /// A stop that SIGINT or SIGTERM gives.
    pub fn on_signal() -> Stop {
        let stop = Stop(std::sync::Arc::new(tokio::sync::watch::channel(false).0));
        let on_signal = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown_signal() => on_signal.stop(),
                _ = on_signal.stopped() => {}
            }
        });
        stop
    }

    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    /// Completes once the stop is given.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopped = self.0.subscribe();
        async move {
            let _ = stopped.wait_for(|stopped| *stopped).await;
        }
    }
}

/// The relay's counters, on the process's metrics.
fn relay_stats(metrics: &telemetry::Metrics) -> events::RelayStats {
    use telemetry::FnKind::{Counter, Gauge};
    let stats = events::RelayStats::default();
    let read = |f: fn(&events::RelayStats) -> u64| {
        let stats = stats.clone();
        move || f(&stats) as f64
    };
    metrics.observe_fn(
        "ticketing_relay_published_total",
        "Events the relay of this process published to NATS (each acknowledged).",
        Counter,
        read(events::RelayStats::published),
    );
    metrics.observe_fn(
        "ticketing_relay_lag_events",
        "Events waiting in the outbox for the relay, as last measured.",
        Gauge,
        read(events::RelayStats::lag_events),
    );
    metrics.observe_fn(
        "ticketing_relay_lag_seconds",
        "How long the oldest event waiting in the outbox has waited, as last measured.",
        Gauge,
        read(events::RelayStats::lag_seconds),
    );
    stats
}

/// Serves `/metrics` on `addr` (if given) until `stop`; a failure to listen stops the process.
fn spawn_metrics(addr: Option<std::net::SocketAddr>, metrics: &telemetry::Metrics, stop: &Stop) {
    let Some(addr) = addr else { return };
    let (metrics, stop) = (metrics.clone(), stop.clone());
    tokio::spawn(async move {
        if let Err(error) = telemetry::metrics::serve(addr, metrics, stop.stopped()).await {
            tracing::error!(error = %format!("{error:#}"), "cannot serve metrics");
            stop.stop();
        }
    });
}

/// Relays the outbox in the background until `stop` (and stops the process if the relay fails),
/// its counters on `metrics`.
fn spawn_relay(
    database_url: &str,
    relay: events::RelaySettings,
    metrics: &telemetry::Metrics,
    stop: &Stop,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    let (url, stop) = (database_url.to_owned(), stop.clone());
    let stats = relay_stats(metrics);
    tokio::spawn(async move {
        let relayed = async {
            let db = database::connect(&url)
                .await
                .map_err(|e| anyhow::anyhow!("the relay cannot connect to DATABASE_URL: {e}"))?;
            events::relay::run_counted(db, relay, stats, stop.stopped()).await
        }
        .await;
        if let Err(error) = &relayed {
            tracing::error!(error = %format!("{error:#}"), "the event relay stopped");
            stop.stop();
        }
        relayed
    })
}

/// Waits for the relay (if any) to finish; its failure, if it failed.
async fn finished(
    relaying: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
) -> anyhow::Result<()> {
    match relaying {
        Some(handle) => handle
            .await
            .map_err(|e| anyhow::anyhow!("the event relay panicked: {e}"))?,
        None => Ok(()),
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Serves HTTP and runs a worker on this task, and the relay if given, until SIGINT/SIGTERM (or
/// until one of them stops), then stops them all gracefully.
pub async fn run_app_and_worker(
    app: Application,
    worker: OrderWorker,
    relay: Option<(String, events::RelaySettings)>,
    metrics: &telemetry::Metrics,
) -> anyhow::Result<()> {
    let stop = Stop::on_signal();
    let relaying = relay.map(|(url, relay)| spawn_relay(&url, relay, metrics, &stop));
    let http = {
        let stop = stop.clone();
        async move {
            let served = app.run_until_stopped(stop.stopped()).await;
            stop.stop();
            served.map_err(anyhow::Error::from)
        }
    };
    let work = async {
        let worked = worker.run_until(stop.stopped()).await;
        stop.stop();
        worked
    };
    let (served, worked) = tokio::join!(http, work);
    let relayed = finished(relaying).await;
    served.and(worked).and(relayed)
}
