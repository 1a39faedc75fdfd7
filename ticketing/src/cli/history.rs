//! `ticketing history`: its subcommands and their flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::TemporalArgs;

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Write the history of an order's workflow as JSON (the format the SDK's replayer reads).
    Export(HistoryExportArgs),
}

#[derive(Debug, Args)]
pub struct HistoryExportArgs {
    /// The order whose workflow to export: its id, or its workflow's id (`order-<id>`).
    #[arg(value_name = "ORDER_ID", value_parser = parse_order_id)]
    pub order_id: uuid::Uuid,
    /// Where to write it; standard output when absent.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub temporal: TemporalArgs,
}

/// An order's id, given as itself or as its workflow's id (`order-<id>`, as the Temporal UI
/// shows it).
fn parse_order_id(text: &str) -> Result<uuid::Uuid, String> {
    let text = text.trim();
    text.strip_prefix("order-")
        .unwrap_or(text)
        .parse()
        .map_err(|_| "an order id (a UUID) or its workflow's id, order-<UUID>".to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_order_id;

    #[test]
    fn an_order_is_named_by_its_id_or_its_workflow_id() {
        let id = "2be96a30-6750-4d29-839a-178b99f14892";
        assert_eq!(parse_order_id(id).unwrap().to_string(), id);
        assert_eq!(
            parse_order_id(&format!("order-{id}")).unwrap().to_string(),
            id
        );
        assert!(parse_order_id("order-nope").is_err());
        assert!(parse_order_id("reconcile-ticketing").is_err());
    }
}
