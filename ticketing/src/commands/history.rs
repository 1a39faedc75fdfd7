//! `ticketing history export`: the history of an order's workflow as JSON, the format the replay
//! tests read (`tests/histories/`; see `docs/workflow-changes.md`).

use std::{io::Write, path::Path, time::Duration};

use anyhow::Context;
use workflows::{history, temporal, workflow_id};

use crate::cli::HistoryExportArgs;

/// `ticketing history export <ORDER_ID> [--out FILE]`.
pub async fn export(args: &HistoryExportArgs) -> anyhow::Result<()> {
    let config = args.temporal.resolve(None)?;
    let client = temporal::connect(&config, Duration::from_secs(10)).await?;
    let id = workflow_id(args.order_id);
    let history = history::fetch(&client, args.order_id)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no workflow {id} on {} (namespace {})",
                config.address,
                config.namespace
            )
        })?;
    if history.running {
        eprintln!("note: {id} is still running; its history is partial");
    }
    let mut bytes = history.json;
    bytes.push(b'\n');
    match &args.out {
        Some(path) => write_file(path, &bytes)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`, creating its parent folders.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
