//! The `ticketing` binary: `dev`, `serve`, `migrate`, `openapi`.

use std::{process::ExitCode, time::Duration};

use api::{
    config::{Cli, Command, ConfigError},
    database, dev, openapi,
    startup::{Application, shutdown_signal},
    telemetry, temporal,
};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    return_big_allocations_to_the_system();
    // Settings may also come from a `.env` file in the working directory (see `.env.example`).
    let _ = dotenvy::dotenv();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line that names the setting, e.g. "error: invalid value 'x' for '--http-addr <HTTP_ADDR>': …".
            let text = e.render().to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
    };
    let _logs = match cli.command {
        // The benchmark's progress and figures are its output: only warnings beside them.
        Command::Bench(_) => telemetry::init_with_default("warn"),
        _ => telemetry::init(),
    };
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(config) = e.downcast_ref::<ConfigError>() {
                eprintln!("error: {config}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

/// Password hashing (Argon2id) allocates 19 MiB per hash. glibc's malloc would, after the first
/// such block is freed, raise its mmap threshold and keep later ones in per-thread arenas, so the
/// process would hold on to tens of MiB per thread that ever hashed. A fixed threshold makes every
/// block that large come from `mmap` and go back to the system when freed.
fn return_big_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only tunes the allocator (it takes its own lock); no pointer is involved.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => dev::run(args).await,
        Command::Serve(args) => {
            let config = args.app_config()?;
            let app = Application::build(config.clone()).await?;
            tracing::info!(addr = %config.http_addr, port = app.port(), "serving HTTP");
            app.run_until_stopped(shutdown_signal()).await?;
            Ok(())
        }
        Command::Worker(args) => {
            let config = args.worker_config()?;
            let client = temporal::connect(&config.temporal, Duration::from_secs(30)).await?;
            temporal::ensure_search_attributes(&client).await?;
            let worker =
                temporal::OrderWorker::build(&config, client, temporal::gateway(&config.gateway))
                    .await?;
            tracing::info!(task_queue = %config.temporal.task_queue, gateway = ?config.gateway, "worker running");
            worker.run_until(shutdown_signal()).await
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
        Command::Bench(args) => api::bench::run(args).await,
        Command::Check(args) => {
            let agreed = api::check::run(&args).await?;
            if agreed {
                Ok(())
            } else {
                Err(anyhow::anyhow!("the data disagrees (see above)"))
            }
        }
        Command::History(api::config::HistoryCommand::Export(args)) => {
            api::history::export(&args).await
        }
        Command::Openapi => {
            println!("{}", openapi::document());
            Ok(())
        }
    }
}
