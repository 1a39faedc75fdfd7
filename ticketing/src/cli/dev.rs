//! `ticketing dev`: `serve`'s and `worker`'s groups of flags in one command, with the defaults
//! that differ on one machine (stated here), and the servers `dev` starts; the data folder.

use std::path::PathBuf;

use clap::Args;

use super::{
    DatabaseArgs, HttpArgs, NatsArgs, OrderArgs, PaymentArgs, ReconcilerArgs, SessionArgs,
    StripeArgs, TemporalArgs,
};

#[derive(Debug, Args)]
// What `dev` does differently with `serve`'s session flags: it keeps keys of its own, and serves
// plain HTTP.
#[command(
    mut_arg("jwt_key", |arg| arg.help(
        "Key that signs session tokens; `dev` creates one in the data folder when unset",
    )),
    mut_arg("ticket_code_key", |arg| arg.help(
        "Key that signs ticket codes, not JWT_KEY; `dev` creates one in the data folder when unset",
    )),
    mut_arg("cookie_secure", |arg| arg.default_value("false").help(
        "Mark the session cookie `Secure`; off in `dev`, which serves plain HTTP",
    )),
)]
pub struct DevArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    #[command(flatten)]
    pub orders: OrderArgs,
    #[command(flatten)]
    pub payment: PaymentArgs,
    #[command(flatten)]
    pub stripe: StripeArgs,
    #[command(flatten)]
    pub reconciler: ReconcilerArgs,
    #[command(flatten)]
    pub nats: NatsArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub data: DataDirArgs,

    /// The `temporal` CLI to start the dev server with (found on PATH when unset).
    #[arg(long, env = "TEMPORAL_CLI", value_name = "TEMPORAL_CLI")]
    pub temporal_cli: Option<PathBuf>,

    /// Port of the Temporal dev server's frontend.
    #[arg(
        long,
        env = "TEMPORAL_DEV_PORT",
        value_name = "TEMPORAL_DEV_PORT",
        default_value_t = 7233
    )]
    pub temporal_dev_port: u16,

    /// Port of the Temporal Web UI.
    #[arg(
        long,
        env = "TEMPORAL_UI_PORT",
        value_name = "TEMPORAL_UI_PORT",
        default_value_t = 8233
    )]
    pub temporal_ui_port: u16,

    /// The `nats-server` to start for the events when NATS_URL is not set (found on PATH, or in
    /// /usr/sbin, when unset).
    #[arg(long, env = "NATS_SERVER", value_name = "NATS_SERVER")]
    pub nats_server: Option<PathBuf>,

    /// Port of the NATS server `dev` starts; when unset, 4222, or a free port if 4222 is taken.
    #[arg(long, env = "NATS_DEV_PORT", value_name = "NATS_DEV_PORT")]
    pub nats_dev_port: Option<u16>,
}

/// The data folder of `dev` (`events tail` finds the NATS server of a `dev` by it).
#[derive(Debug, Args)]
pub struct DataDirArgs {
    /// Folder for the SQLite database, the JWT and ticket code keys and the Temporal dev server's
    /// data.
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = ".data"
    )]
    pub data_dir: PathBuf,
}
