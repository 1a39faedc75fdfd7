//! The `ticketing` commands: the composition root that builds each part from its settings and
//! runs it until it is told to stop.

mod check;
pub mod dev;
pub mod history;

use std::time::Duration;

use api::Application;
use workflows::{OrderWorker, search_attributes, temporal};

use crate::cli::{Command, EventsCommand, HistoryCommand};

/// Runs one command to its end.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => dev::run(args).await,
        Command::Serve(args) => {
            let settings = args.settings()?;
            let app = Application::build(settings.clone()).await?;
            tracing::info!(addr = %settings.http_addr, port = app.port(), "serving HTTP");
            app.run_until_stopped(shutdown_signal()).await?;
            Ok(())
        }
        Command::Worker(args) => {
            let settings = args.settings()?;
            let client = temporal::connect(&settings.temporal, Duration::from_secs(30)).await?;
            search_attributes::ensure_registered(&client).await?;
            let worker = OrderWorker::build(&settings, client, settings.gateway.build()).await?;
            tracing::info!(task_queue = %settings.temporal.task_queue, gateway = ?settings.gateway, "worker running");
            worker.run_until(shutdown_signal()).await
        }
        Command::Relay(args) => {
            let url = args.database.require()?;
            let settings = args.nats.relay().ok_or_else(|| {
                anyhow::anyhow!("NATS_URL is required (e.g. nats://127.0.0.1:4222)")
            })?;
            let db = database::connect(&url)
                .await
                .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
            events::relay::run(db, settings, shutdown_signal()).await
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
        Command::Events(EventsCommand::Tail(args)) => {
            let settings = args.nats.relay().ok_or_else(|| {
                anyhow::anyhow!("NATS_URL is required (e.g. nats://127.0.0.1:4222)")
            })?;
            let options = events::tail::TailOptions {
                from_start: args.from_start,
                kinds: args.kinds.clone(),
                durable: args.durable.clone(),
            };
            events::tail::tail(
                &settings.nats_url,
                &settings.stream,
                &options,
                std::io::stdout(),
            )
            .await
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

/// Serves HTTP and runs a worker on this task until SIGINT/SIGTERM (or until either stops), then
/// stops both gracefully.
pub async fn run_app_and_worker(app: Application, worker: OrderWorker) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = std::sync::Arc::new(stop);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    };
    let on_signal = {
        let stop = stop.clone();
        let stopped = stopped.clone();
        async move {
            tokio::select! {
                _ = shutdown_signal() => { let _ = stop.send(true); }
                _ = wait(stopped) => {}
            }
        }
    };
    let http = {
        let stop = stop.clone();
        let until = wait(stopped.clone());
        async move {
            let served = app.run_until_stopped(until).await;
            let _ = stop.send(true);
            served.map_err(anyhow::Error::from)
        }
    };
    let work = async {
        let worked = worker.run_until(wait(stopped.clone())).await;
        let _ = stop.send(true);
        worked
    };
    let ((), served, worked) = tokio::join!(on_signal, http, work);
    served.and(worked)
}
