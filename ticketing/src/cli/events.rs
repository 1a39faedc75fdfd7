//! `ticketing events`: the events on the bus.

use clap::{Args, Subcommand};

use super::{DataDirArgs, NatsArgs};

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print one line per event (`<time> <kind> <record> #<id> <data>`) as they come, through a
    /// durable consumer that goes on where the last tail of the same name stopped.
    Tail(TailArgs),
}

#[derive(Debug, Args)]
#[command(mut_arg("data_dir", |arg| arg.help(
    "Without NATS_URL, the NATS server `ticketing dev` started with this data folder",
)))]
pub struct TailArgs {
    /// Start at the first event the stream holds.
    #[arg(long)]
    pub from_start: bool,
    /// Only events of this kind (`order:created`, `payment:created`, ...); repeatable.
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// The durable consumer's name.
    #[arg(long, value_name = "NAME", default_value = "events-tail")]
    pub durable: String,
    #[command(flatten)]
    pub data: DataDirArgs,
    #[command(flatten)]
    pub nats: NatsArgs,
}
