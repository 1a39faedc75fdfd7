//! Telling an order's workflow to catch up with the database (its `sync` signal): the database
//! holds the order as paid or cancelled by a step whose workflow task was lost.

use std::time::Duration;

use uuid::Uuid;

use super::OrderClient;
use crate::order::OrderWorkflow;

/// How long [`OrderClient::sync_soon`] keeps trying.
pub const SYNC_FOR: Duration = Duration::from_secs(120);

impl OrderClient {
    /// Tells the order's workflow to catch up with the database (its `sync` signal): the database
    /// holds the order as paid or cancelled by a step whose workflow task was lost, and the
    /// workflow may not know yet. Tried in the background until it is delivered (or the workflow
    /// has ended), for [`SYNC_FOR`] at most: Temporal may be the reason it is needed.
    pub fn sync_soon(&self, order_id: Uuid) {
        let handle = self.handle(order_id);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut pause = Duration::from_millis(250);
            loop {
                let sent = tokio::time::timeout(
                    Duration::from_secs(5),
                    handle.signal(
                        OrderWorkflow::sync,
                        (),
                        temporalio_client::WorkflowSignalOptions::default(),
                    ),
                )
                .await;
                match sent {
                    Ok(Ok(())) => {
                        tracing::info!(%order_id, "told the order's workflow to catch up with the database");
                        return;
                    }
                    Ok(Err(error)) if gone(&error) => return,
                    Ok(Err(error)) => {
                        tracing::debug!(%order_id, %error, "the order's workflow could not be told yet")
                    }
                    Err(_) => tracing::debug!(%order_id, "no answer to the sync signal yet"),
                }
                if started.elapsed() > SYNC_FOR {
                    tracing::warn!(%order_id, "the order's workflow could not be told to catch up; the reconciler will");
                    return;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        });
    }
}

/// The workflow has ended or does not exist: nothing to tell it.
fn gone(error: &temporalio_client::errors::WorkflowInteractionError) -> bool {
    use temporalio_client::errors::WorkflowInteractionError;
    matches!(error, WorkflowInteractionError::NotFound(_))
        || error.to_string().contains("already completed")
}
