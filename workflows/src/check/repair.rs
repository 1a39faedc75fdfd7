//! `ticketing check --repair`: what the checker can mend by itself. An order still `created`
//! whose workflow is gone or has ended (terminated, say) holds its ticket with no timer left to
//! free it: it is cancelled through the same step the workflow uses (reason `operator`), which
//! frees the ticket and records `order:cancelled`. An order `awaiting:payment` without its
//! workflow is left to a person: a charge may have been made.

use std::fmt;

use activities::store;
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
                let (_, cancelled) = store::cancel(db, now.id, CancelReason::Operator)
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
    Ok(repairs)
}
