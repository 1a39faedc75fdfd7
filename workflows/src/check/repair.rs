//! `ticketing check --repair`: what the checker can mend by itself. An order still `created`
//! whose workflow is gone or has ended (terminated, say) holds its ticket with no timer left to
//! free it: it is cancelled through the same step the workflow uses (reason `operator`), which
//! frees the ticket and records `order:cancelled`. An order `awaiting:payment` without its
//! workflow is left to a person: a charge may have been made. A running workflow that still
//! holds its order open while the database holds it paid or cancelled (a step whose workflow
//! task was lost wrote it) is told to catch up (its `sync` signal).

use std::fmt;

use activities::order::cancel::cancel_order;
use anyhow::Context;
use entities::order::{self, CancelReason, Status};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use temporalio_client::{Client, WorkflowExecutionStatus};
use uuid::Uuid;

use super::against_workflows::{Seen, Temporal};

/// One thing the repair did, or would not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    pub order_id: Uuid,
    /// What was done, in words.
    pub done: String,
    /// The order was cancelled (not merely left to a person).
    pub cancelled: bool,
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order {}: {}", self.order_id, self.done)
    }
}

/// Cancels every `created` order whose workflow is not running, and names the
/// `awaiting:payment` ones it leaves alone.
pub async fn repair(db: &DatabaseConnection, client: &Client) -> anyhow::Result<Vec<Repair>> {
    let temporal = Temporal {
        client,
        db,
        retention: None,
    };
    let open = order::Entity::find()
        .filter(order::Column::Status.is_in([Status::Created, Status::AwaitingPayment]))
        .all(db)
        .await
        .context("reading the open orders")?;
    let mut repairs = Vec::new();
    for order in open {
        let seen = temporal.see(order.id).await?;
        let why = match seen {
            Seen::Found(WorkflowExecutionStatus::Running | WorkflowExecutionStatus::Paused) => {
                continue;
            }
            Seen::Missing => "its workflow does not exist".to_owned(),
            Seen::Found(status) => format!("its workflow ended ({status:?})").to_lowercase(),
        };
        // Read again: the workflow writes its order before it ends.
        let Some(now) = order::Entity::find_by_id(order.id).one(db).await? else {
            continue;
        };
        let (done, cancelled) = match now.status {
            Status::Created => {
                let (_, cancelled) = cancel_order(db, now.id, CancelReason::Operator)
                    .await
                    .with_context(|| format!("cancelling order {}", now.id))?;
                (
                    format!("{why}; cancelled it (reason operator) and freed its ticket"),
                    cancelled,
                )
            }
            Status::AwaitingPayment => (
                format!(
                    "{why} while a payment was being made; left as it is: see whether the card \
                     was charged before cancelling or completing it"
                ),
                false,
            ),
            Status::Cancelled | Status::Complete => continue,
        };
        repairs.push(Repair {
            order_id: now.id,
            done,
            cancelled,
        });
    }
    repairs.extend(catch_up(db, client).await?);
    Ok(repairs)
}

/// Tells every running order workflow that still holds its order open (`OrderStatus` `created`,
/// as Temporal's visibility lists it) while the database holds the order paid or cancelled to
/// catch up with the database. One list of the open workflows, one read per order.
async fn catch_up(db: &DatabaseConnection, client: &Client) -> anyhow::Result<Vec<Repair>> {
    use futures::StreamExt;
    use temporalio_client::{WorkflowListOptions, WorkflowSignalOptions};
    let query = format!(
        "WorkflowType = 'OrderWorkflow' AND ExecutionStatus = 'Running' AND {} = '{}'",
        crate::search_attributes::ORDER_STATUS.name(),
        Status::Created.as_str()
    );
    let listed: Vec<_> = client
        .list_workflows(query, WorkflowListOptions::default())
        .collect()
        .await;
    let mut repairs = Vec::new();
    for run in listed {
        let run = run.context("listing the open order workflows")?;
        let Some(order_id) = run
            .id()
            .strip_prefix("order-")
            .and_then(|id| id.parse::<Uuid>().ok())
        else {
            continue;
        };
        let Some(order) = order::Entity::find_by_id(order_id).one(db).await? else {
            continue;
        };
        if order.status.is_open() {
            continue;
        }
        let sent = client
            .get_workflow_handle::<crate::order::OrderWorkflow>(run.id().to_owned())
            .signal(
                crate::order::OrderWorkflow::sync,
                (),
                WorkflowSignalOptions::default(),
            )
            .await;
        if let Err(e) = sent {
            tracing::debug!(%order_id, error = %e, "could not tell the workflow to catch up");
            continue;
        }
        repairs.push(Repair {
            order_id,
            done: format!(
                "{}, but its workflow still held it open; told it to catch up with the database",
                order.status
            ),
            cancelled: false,
        });
    }
    Ok(repairs)
}
