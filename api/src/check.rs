//! `ticketing check`: the invariant checker (filled in by the durability work).

use crate::config::CheckArgs;

/// Runs every check and prints what disagrees; `Ok(true)` when everything agrees.
pub async fn run(_args: &CheckArgs) -> anyhow::Result<bool> {
    anyhow::bail!("not implemented yet")
}
