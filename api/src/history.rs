//! `ticketing history export`: a workflow history as JSON for the replay tests (filled in by the
//! durability work).

use crate::config::HistoryExportArgs;

pub async fn export(_args: &HistoryExportArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
