//! `ticketing check`: its flags.

use clap::Args;

use super::{DatabaseArgs, NatsArgs, TemporalArgs};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// First cancel the `created` orders whose workflow is gone or has ended (terminated), which
    /// nothing else would ever free, and print what was done.
    #[arg(long)]
    pub repair: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    /// With NATS_URL set (a relay should be publishing), events left unpublished for more than
    /// five minutes disagree too.
    #[command(flatten)]
    pub nats: NatsArgs,
}
