//! The `ticketing` binary's library: its command line ([`cli`]), the settings each part is built
//! from ([`settings`]), the commands themselves ([`commands`]) and the
//! Temporal dev server and NATS server that `dev` (and the tests) start ([`temporal_dev_server`],
//! [`nats_dev_server`]).

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
    tune_the_allocator();
    trim_the_heap_now_and_then();
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

/// Every few seconds, hands the memory glibc holds free inside its arenas back to the system
/// (`malloc_trim`). glibc returns only the free top of a heap by itself, so the fragments a burst
/// of work leaves behind would keep the process's resident memory up: 105 MiB five seconds after
/// the benchmark's sign-ins in one run. A trim of a heap this size takes about a millisecond.
fn trim_the_heap_now_and_then() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let trimmer = std::thread::Builder::new()
            .name("heap-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    // SAFETY: malloc_trim only gives free pages back; no pointer is involved.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                }
            });
        if let Err(e) = trimmer {
            eprintln!("warning: cannot start the heap trimmer: {e}");
        }
    }
}

/// Keeps the process's memory close to what it uses.
///
/// - Password hashing (Argon2id) allocates 19 MiB per hash. glibc's malloc would, after the first
///   such block is freed, raise its mmap threshold and keep later ones in per-thread arenas, so the
///   process would hold on to tens of MiB per thread that ever hashed. A fixed threshold makes
///   every block that large come from `mmap` and go back to the system when freed.
/// - glibc gives each thread that contends for memory an arena of its own (up to 8 per core), and
///   memory freed in one arena is not reused by another: the runtime's threads, the blocking
///   pool's and the Temporal SDK's left the server at 103 MiB after 1,000 lifecycles, 85.9 MiB
///   with two arenas, and no slower (`ticketing bench`, docs/performance.md).
fn tune_the_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only tunes the allocator (it takes its own lock); no pointer is involved.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
