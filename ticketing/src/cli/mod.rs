//! The command line: every setting comes from the environment or the matching flag (clap), and
//! each environment variable is declared once, in the group of flags that holds it;
//! [`crate::settings`] turns them into the checked settings each part needs.
//!
//! Each command's flags are in the file of its name; a group that several commands share is in
//! the file of the command it belongs to, and the others flatten it from there:
//!
//! - [`common`]: what nearly every command has: the database, Temporal, where `/metrics` is
//!   served;
//! - [`serve`]: the HTTP server's groups (`HTTP_ADDR`, the guards, orders, sessions);
//! - [`worker`]: the worker's groups (the payment gateway and currency, Stripe, the reconciler);
//! - [`dev`]: `dev` composes `serve`'s and `worker`'s groups, with its own defaults; the data
//!   folder;
//! - [`relay`]: NATS and the outbox relay;
//! - [`events`], [`check`], [`history`], [`bench`], [`users`]: the operator commands.

mod bench;
mod check;
mod common;
mod dev;
mod events;
mod history;
mod relay;
mod serve;
mod users;
mod worker;

use clap::{Parser, Subcommand};

pub use self::{
    bench::BenchArgs,
    check::CheckArgs,
    common::{DatabaseArgs, MetricsArgs, TemporalArgs},
    dev::{DataDirArgs, DevArgs},
    events::{EventsCommand, TailArgs},
    history::{HistoryCommand, HistoryExportArgs},
    relay::{NatsArgs, RelayArgs, RelayHereArgs},
    serve::{GuardArgs, HttpArgs, OrderArgs, ServeArgs, SessionArgs},
    users::{RoleArgs, RoleName, UsersCommand},
    worker::{GatewayKind, PaymentArgs, ReconcilerArgs, StripeArgs, WorkerArgs},
};

#[derive(Debug, Parser)]
#[command(name = "ticketing", version, about = "A ticket-resale marketplace", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything on one machine with embedded defaults: a Temporal dev server (unless
    /// TEMPORAL_ADDRESS is set), SQLite under .data/, migrations, the HTTP server.
    Dev(DevArgs),
    /// The HTTP server only (run `ticketing migrate` first).
    Serve(ServeArgs),
    /// The Temporal worker only (the order workflows and their activities); run as many as needed.
    Worker(WorkerArgs),
    /// The outbox relay only: publishes every domain event to NATS JetStream (stream
    /// `TICKETING`); run one or several (on PostgreSQL they take turns).
    Relay(RelayArgs),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Print the AsyncAPI 3 document of the events (JSON) and exit.
    Asyncapi,
    /// Check that orders, tickets, payments and order workflows agree; print what disagrees.
    Check(CheckArgs),
    /// Benchmark full order lifecycles through HTTP, against a baseline workflow on the same
    /// server (the `bench` crate).
    Bench(BenchArgs),
    /// Workflow histories, for replay tests.
    #[command(subcommand)]
    History(HistoryCommand),
    /// The events on the bus (NATS JetStream).
    #[command(subcommand)]
    Events(EventsCommand),
    /// What users may do beyond buying and selling: grant or revoke a role (`door`).
    #[command(subcommand)]
    Users(UsersCommand),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Clap's own checks of the whole command line: no flag twice in a command, every
    /// `mut_arg` names a flag that exists.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
