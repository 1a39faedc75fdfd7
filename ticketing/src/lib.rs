//! The `ticketing` binary's library: its command line ([`cli`]), the settings each part is built
//! from ([`settings`]), the commands themselves ([`commands`]) and the
//! Temporal dev server and NATS server that `dev` (and the tests) start ([`temporal_dev_server`],
//! [`nats_dev_server`]), and the memory allocator every binary built on it runs with (`allocator`).

mod allocator;
pub mod cli;
pub mod commands;
pub mod nats_dev_server;
pub mod settings;
pub mod temporal_dev_server;

use std::process::ExitCode;

use clap::Parser;

use crate::{
    cli::{Cli, Command},
    settings::ConfigError,
};

/// The whole program: reads the command line (and `.env`), starts logging, runs the command, and
/// answers with the exit code (2 for a refused setting).
pub fn main() -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
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
    let format = match telemetry::LogFormat::from_env() {
        Ok(format) => format,
        Err(refused) => {
            eprintln!("error: {refused}");
            return ExitCode::from(2);
        }
    };
    let _logs = match cli.command {
        // The benchmark's progress and figures are its output: only warnings beside them.
        Command::Bench(_) => telemetry::logs::init_with_default("warn", format),
        _ => telemetry::logs::init(format),
    };
    match commands::run(cli.command).await {
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
