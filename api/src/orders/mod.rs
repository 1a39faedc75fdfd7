//! `/api/orders`: make an order (which starts its `OrderWorkflow`), list, show, cancel, and the
//! workflow's live state.

mod json;
mod reservation;
pub mod store;

use reservation::{decide, workers_polling};

pub use json::{CancelReason, OrderJson, OrderStatus, WorkflowStateJson, WorkflowStatus};

use std::sync::Arc;

use entities::{Money, order};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::Json,
};
use sea_orm::DatabaseConnection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;
use workflows::{OrderClient, Refusal, client::OrderSummary};

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can},
    idempotency::{self, Answer, Claim, Claimed, Key},
    input::{Input, Limit, Offset, Page, Text, rules},
    json::{Currency, Timestamp},
    tags::Tag,
};

/// Admission control: at most so many reservations are in hand at once in this process (from
/// their first database read to their workflow's answer); the next one is shed at once (503 with
/// `Retry-After`), before any work.
#[derive(Clone)]
pub struct Admission(Arc<Semaphore>);

impl Admission {
    pub fn new(in_flight: usize) -> Self {
        Admission(Arc::new(Semaphore::new(in_flight.max(1))))
    }

    /// A place among the reservations in flight, held until it is dropped.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy("too many reservations in flight".into()))
    }
}

#[derive(Debug, Object)]
pub struct NewOrder {
    /// The ticket to reserve.
    #[oai(rename = "ticketId")]
    ticket_id: Input<Text<rules::Uuid>>,
}

#[derive(ApiResponse)]
pub enum Created {
    /// The ticket is reserved for the buyer until `expiresAt`.
    #[oai(status = 201)]
    Created(Json<OrderJson>),
}

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
) -> Result<store::OrderWithTicket, ApiError> {
    let Input::Given(id) = id else {
        return Err(ApiError::NotFound);
    };
    crate::request_log::about_order(id);
    let record = store::find(db, id).await?.ok_or(ApiError::NotFound)?;
    if record.0.user_id != auth.claims().id {
        return Err(ApiError::NotAuthorized);
    }
    Ok(record)
}

/// 201 with the order as it stands.
async fn created(
    db: &DatabaseConnection,
    currency: &Currency,
    order_id: Uuid,
) -> Result<Created, ApiError> {
    let record = store::find(db, order_id).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("reserved order {order_id} has no row"))
    })?;
    Ok(Created::Created(Json(OrderJson::new(record, currency))))
}

/// The answer as the response.
async fn answer(
    db: &DatabaseConnection,
    currency: &Currency,
    order_id: Uuid,
    answer: Answer,
) -> Result<Created, ApiError> {
    match answer.into_error(order_id) {
        Some(error) => Err(error),
        None => created(db, currency, order_id).await,
    }
}

/// What a first look at the ticket found.
enum Look {
    /// A refusal the database gives away without starting a workflow (the workflow decides for
    /// real): no such ticket, the buyer's own, or held by another order.
    Refused(Answer),
    /// Free as far as the database knows: what the order's workflow will show of it.
    Free(OrderSummary),
}

async fn look(db: &DatabaseConnection, ticket_id: Uuid, buyer: Uuid) -> Result<Look, ApiError> {
    let Some(ticket) = crate::tickets::store::find(db, ticket_id).await? else {
        return Ok(Look::Refused(Answer::NotFound));
    };
    let refusal = if ticket.user_id == buyer {
        Refusal::OwnTicket
    } else if ticket.order_id.is_some() {
        Refusal::TicketTaken
    } else {
        return Ok(Look::Free(OrderSummary {
            title: ticket.title,
            price: Money::from_cents(ticket.price_cents),
        }));
    };
    Ok(Look::Refused(Answer::Refused { refusal }))
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
    #[allow(clippy::too_many_arguments)]
    async fn create(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        currency: Data<&Currency>,
        orders: Data<&OrderClient>,
        admission: Data<&Admission>,
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
        let ticket_id = match body.0.ticket_id {
            Input::Given(text) => text.0.trim().parse::<Uuid>().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            ApiError::Validation(vec![crate::error::invalid(
                "ticketId",
                "TicketId must be provided",
            )])
        })?;
        let buyer = auth.claims().id;
        // Shed before any work (no database read, no workflow, no key claimed): a request shed
        // is retried as a first try.
        let _admitted = admission.admit()?;
        let Some(key) = idempotency_key.0 else {
            let summary = match look(&db, ticket_id, buyer).await? {
                Look::Refused(refused) => {
                    return answer(&db, &currency, Uuid::nil(), refused)
                        .await
                        .map_err(Into::into);
                }
                Look::Free(summary) => summary,
            };
            workers_polling(&db, &orders).await?;
            let order_id = Uuid::new_v4();
            let ids = (order_id, ticket_id, buyer);
            let decided = decide(&db, &orders, ids, chrono::Utc::now(), Some(&summary)).await?;
            return answer(&db, &currency, order_id, decided)
                .await
                .map_err(Into::into);
        };

        let request = idempotency::fingerprint("POST /api/orders", &[&ticket_id.to_string()]);
        let (claimed, claim) = Claimed::claim(&db, buyer, key, request, Uuid::new_v4()).await?;
        let (order_id, first_asked, summary) = match claim {
            Claim::Decided {
                order_id,
                answer: decided,
            } => {
                return answer(&db, &currency, order_id, decided)
                    .await
                    .map_err(Into::into);
            }
            Claim::First { order_id, at } => {
                let summary = match look(&db, ticket_id, buyer).await? {
                    Look::Refused(refused) => {
                        claimed.decide(&db, &refused).await?;
                        return answer(&db, &currency, order_id, refused)
                            .await
                            .map_err(Into::into);
                    }
                    Look::Free(summary) => summary,
                };
                if let Err(no_worker) = workers_polling(&db, &orders).await {
                    // Nothing started: the key is given back, and a retry is a first try.
                    claimed.forget(&db).await?;
                    return Err(no_worker.into());
                }
                (order_id, at, Some(summary))
            }
            // Asked before, undecided: in flight, or its process died (perhaps after the order
            // was made, which the database knows).
            Claim::Again { order_id, at } => {
                if store::find(&db, order_id).await?.is_some() {
                    claimed.decide(&db, &Answer::Order).await?;
                    return created(&db, &currency, order_id).await.map_err(Into::into);
                }
                workers_polling(&db, &orders).await?;
                // A workflow already started keeps its summary; one that is not gets none.
                (order_id, at, None)
            }
        };
        let ids = (order_id, ticket_id, buyer);
        let decided = match decide(&db, &orders, ids, first_asked, summary.as_ref()).await {
            Ok(decided) => decided,
            Err(no_worker @ ApiError::NoWorker(_)) => {
                // Its workflow was ended before it reserved anything: the key is given back,
                // and a retry is a first try (a new order).
                claimed.forget(&db).await?;
                return Err(no_worker.into());
            }
            Err(other) => return Err(other.into()),
        };
        claimed.decide(&db, &decided).await?;
        answer(&db, &currency, order_id, decided)
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
        let orders = store::list_for_buyer(&db, auth.claims().id, page).await?;
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
                let (now, _, _) = store::find(&db, order.id)
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
        let status = WorkflowStatus::of(&state.status).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "the workflow of order {} is in an unknown state {:?}",
                order.id,
                state.status
            ))
        })?;
        Ok(Json(WorkflowStateJson {
            workflow_id: live.workflow_id,
            run_id: live.run_id,
            status,
            expires_at: state.expires_at.map(Timestamp),
            seconds_left,
            cancel_reason: state.cancel_reason.map(Into::into),
            payment_id: state.payment_id,
        }))
    }
}
