//! What the database holds of an order, whichever attempt of a step wrote it: the `observe`
//! activity (for a workflow catching up with its order), its database read, and [`OrderFacts`].

use entities::order::{self, CancelReason, Status};
use sea_orm::{DatabaseConnection, DbErr};
use serde::{Deserialize, Serialize};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use super::{
    complete::{Payment, find_payment},
    context::{OrderActivities, about},
    row::find_order,
};

/// What the database holds of an order: what durably happened, whichever attempt of a step
/// (perhaps one whose workflow task was lost) wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFacts {
    pub status: Status,
    pub cancel_reason: Option<CancelReason>,
    pub payment: Option<Payment>,
}

/// The `observe` activity: what the database holds of the order (see [`order_facts`]).
pub(super) async fn observe(
    activities: &OrderActivities,
    ctx: &ActivityContext,
    order_id: Uuid,
) -> Result<OrderFacts, ActivityError> {
    about(ctx, "observe", order_id, async {
        Ok(order_facts(&activities.db, order_id).await?)
    })
    .await
}

/// What the database holds of an order (see [`OrderFacts`]).
pub async fn order_facts(db: &DatabaseConnection, order_id: Uuid) -> Result<OrderFacts, DbErr> {
    let order = find_order(db, order_id).await?;
    facts_of(db, &order).await
}

/// The facts of `order` as read, with its payment when it is complete.
pub(super) async fn facts_of(
    db: &DatabaseConnection,
    order: &order::Model,
) -> Result<OrderFacts, DbErr> {
    let payment = match order.status {
        Status::Complete => find_payment(db, order.id).await?,
        _ => None,
    };
    Ok(OrderFacts {
        status: order.status,
        cancel_reason: order.cancel_reason,
        payment,
    })
}
