//! `ticketing check`: the invariant checker of `workflows::check`, as an operator runs it.

use std::time::Duration;

use workflows::{check, temporal};

use crate::cli::CheckArgs;

/// Connects (DATABASE_URL and TEMPORAL_ADDRESS required), runs every check, prints a progress line
/// (on standard error), then each disagreement on its own line or that all agree (on standard
/// output). `Ok(true)` when everything agrees.
pub async fn run(args: &CheckArgs) -> anyhow::Result<bool> {
    let url = args.database.require()?;
    let settings = args.temporal.resolve(None)?;
    let db = database::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to DATABASE_URL: {e}"))?;
    let client = temporal::connect(&settings, Duration::from_secs(10)).await?;
    if args.repair {
        let repairs = check::repair(&db, &client).await?;
        for repair in &repairs {
            println!("repaired {repair}");
        }
        if repairs.is_empty() {
            eprintln!("nothing to repair");
        }
    }
    eprintln!(
        "checking orders, tickets and payments against the order workflows in Temporal at {} (namespace {})…",
        settings.address, settings.namespace
    );
    let report = check::check(&db, Some(&client)).await;
    let unpublished = match args.nats.relay() {
        Some(_) => check::unpublished_events(&db).await?,
        None => None,
    };
    db.close().await.ok();
    let mut report = report?;
    report.disagreements.extend(unpublished);
    if report.disagreements.is_empty() {
        println!(
            "all {} orders, {} tickets and {} payments agree",
            report.orders, report.tickets, report.payments
        );
        return Ok(true);
    }
    for disagreement in &report.disagreements {
        println!("{disagreement}");
    }
    Ok(false)
}
