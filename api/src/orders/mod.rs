//! `/api/orders`: make an order (which starts its `OrderWorkflow`), list, show, cancel, and the
//! workflow's live state.

mod admission;
mod create;
mod desk;
mod idempotency;
pub mod queries;
mod reservation;

pub use admission::Admission;
pub use api_types::{CancelReason, OrderJson, OrderStatus, WorkflowStateJson, WorkflowStatus};
use api_types::{Currency, Timestamp};
pub use create::{Created, NewOrder};
use desk::OrderDesk;

use entities::order;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use sea_orm::DatabaseConnection;
use uuid::Uuid;
use workflows::{OrderClient, Refusal};

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can},
    idempotency::Key,
    input::{Input, Limit, Offset, Page},
    tags::Tag,
};

#[derive(ApiResponse)]
pub enum Cancelled {
    /// The order is cancelled and its ticket free again.
    #[oai(status = 204)]
    NoContent,
}

/// An order of the signed-in buyer; 404 for none (or a malformed id), 401 for someone else's.
pub async fn owned_order(
    db: &DatabaseConnection,
    auth: &SignedIn,
    id: Input<Uuid>,
) -> Result<queries::OrderWithTicket, ApiError> {
    let Input::Given(id) = id else {
        return Err(ApiError::NotFound);
    };
    crate::request_log::about_order(id);
    let record = queries::find(db, id).await?.ok_or(ApiError::NotFound)?;
    if record.0.user_id != auth.claims().id {
        return Err(ApiError::NotAuthorized);
    }
    Ok(record)
}

pub struct OrdersApi;

#[OpenApi(tag = "Tag::Orders")]
impl OrdersApi {
    /// Order a ticket
    ///
    /// Reserves the ticket for the buyer for the order window (15 minutes by default) and starts
    /// the order's workflow; answers once the reservation is decided.
    ///
    /// With an `Idempotency-Key`, a retry (after a lost reply, say) gets the same answer: the same
    /// order, or the same refusal; never a second order. A 503 saying the order was not reserved
    /// in time is an answer too: try again with a new key.
    #[oai(path = "/api/orders", method = "post", operation_id = "createOrder")]
    async fn create(
        &self,
        auth: SignedIn,
        desk: OrderDesk<'_>,
        /// Makes a retry safe (see the operation).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<Key>>,
        body: Json<NewOrder>,
    ) -> Result<
        Created,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::UNPROCESSABLE
                    | can::DATABASE
            },
        >,
    > {
        create::order(&auth, desk, idempotency_key.0, body.0)
            .await
            .map_err(Into::into)
    }

    /// My orders
    ///
    /// The buyer's orders, all statuses, oldest first.
    #[oai(path = "/api/orders", method = "get", operation_id = "listOrders")]
    async fn list(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        /// How many orders at most (1 to 500; 100 when absent).
        limit: Query<Limit>,
        /// How many to skip (0 when absent).
        offset: Query<Offset>,
    ) -> Result<
        Json<Vec<OrderJson>>,
        Fails<{ can::BAD_REQUEST | can::NOT_AUTHORIZED | can::DATABASE }>,
    > {
        let page = Page::parse(limit.0, offset.0)?;
        let orders = queries::list_for_buyer(&db, auth.claims().id, page).await?;
        Ok(Json(
            orders
                .into_iter()
                .map(|record| OrderJson::new(record, &currency))
                .collect(),
        ))
    }

    /// Show an order
    #[oai(path = "/api/orders/:id", method = "get", operation_id = "getOrder")]
    async fn show(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        id: Path<Input<Uuid>>,
    ) -> Result<Json<OrderJson>, Fails<{ can::NOT_AUTHORIZED | can::NOT_FOUND | can::DATABASE }>>
    {
        let record = owned_order(&db, &auth, id.0).await?;
        Ok(Json(OrderJson::new(record, &currency)))
    }

    /// Cancel an order
    ///
    /// Frees the ticket. Cancelling a cancelled order answers 204 again; a completed order cannot
    /// be cancelled.
    #[oai(
        path = "/api/orders/:id",
        method = "delete",
        operation_id = "cancelOrder"
    )]
    async fn cancel(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        orders: Data<&OrderClient>,
        id: Path<Input<Uuid>>,
    ) -> Result<
        Cancelled,
        Fails<{ can::BAD_REQUEST | can::NOT_AUTHORIZED | can::NOT_FOUND | can::DATABASE }>,
    > {
        let (order, _, _) = owned_order(&db, &auth, id.0).await?;
        match order.status {
            order::Status::Complete => {
                return Err(ApiError::from(Refusal::CannotCancelCompleted).into());
            }
            order::Status::Cancelled => return Ok(Cancelled::NoContent),
            order::Status::Created | order::Status::AwaitingPayment => {}
        }
        match orders.cancel(order.id).await? {
            workflows::client::Cancelled::Cancelled => Ok(Cancelled::NoContent),
            // The database says the order is open, its workflow that it is still reserving: a
            // workflow task being run again (its worker died) has not reached the reservation
            // yet. The buyer may try again in a moment.
            workflows::client::Cancelled::Refused(Refusal::NotOpen) => {
                Err(ApiError::Unavailable(format!(
                    "the workflow of order {} is still reserving its ticket; try again",
                    order.id
                ))
                .into())
            }
            workflows::client::Cancelled::Refused(refusal) => Err(ApiError::from(refusal).into()),
            // The workflow may have ended meanwhile (expired, paid): the database says how.
            workflows::client::Cancelled::Ended => {
                let (now, _, _) = queries::find(&db, order.id)
                    .await?
                    .ok_or(ApiError::NotFound)?;
                match now.status {
                    order::Status::Cancelled => Ok(Cancelled::NoContent),
                    order::Status::Complete => {
                        Err(ApiError::from(Refusal::CannotCancelCompleted).into())
                    }
                    open => Err(ApiError::Unavailable(format!(
                        "the workflow of order {} did not take the cancellation; the order is {open}",
                        order.id
                    ))
                    .into()),
                }
            }
        }
    }

    /// The order's workflow, live
    ///
    /// The state of the order's `OrderWorkflow`, from its `state` query.
    #[oai(
        path = "/api/orders/:id/workflow",
        method = "get",
        operation_id = "getOrderWorkflow"
    )]
    async fn workflow(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        orders: Data<&OrderClient>,
        id: Path<Input<Uuid>>,
    ) -> Result<
        Json<WorkflowStateJson>,
        Fails<{ can::NOT_AUTHORIZED | can::NOT_FOUND | can::DATABASE }>,
    > {
        let (order, _, _) = owned_order(&db, &auth, id.0).await?;
        let live = orders.state(order.id).await?;
        let state = live.state;
        let seconds_left = match (state.is_open(), state.expires_at) {
            (true, Some(at)) => (at - chrono::Utc::now()).num_seconds().max(0),
            _ => 0,
        };
        Ok(Json(WorkflowStateJson {
            workflow_id: live.workflow_id,
            run_id: live.run_id,
            status: WorkflowStatus(state.status),
            expires_at: state.expires_at.map(Timestamp),
            seconds_left,
            cancel_reason: state.cancel_reason.map(Into::into),
            payment_id: state.payment_id,
        }))
    }
}
