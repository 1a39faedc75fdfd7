//! Reserving a ticket for a new order through its workflow, and what is answered when the
//! workflow does not: no worker is there (refused at once, or its workflow ended before it
//! reserved), or no answer came (the database says, once no reservation can commit any more).

use entities::Money;
use sea_orm::DatabaseConnection;
use uuid::Uuid;
use workflows::{
    OrderClient, Refusal,
    client::{OrderSummary, ReservationUnknown, Reserved, Workers},
};

use super::{desk::OrderDesk, queries};
use crate::{error::ApiError, idempotency::Answer};

/// Reserves `ticket_id` for `buyer` as a new order (a request without an `Idempotency-Key`).
/// Returns the order's id and its answer.
pub(super) async fn reserve(
    desk: &OrderDesk<'_>,
    ticket_id: Uuid,
    buyer: Uuid,
) -> Result<(Uuid, Answer), ApiError> {
    let OrderDesk { db, orders, .. } = *desk;
    let summary = match look(db, ticket_id, buyer).await? {
        Look::Refused(refused) => return Ok((Uuid::nil(), refused)),
        Look::Free(summary) => summary,
    };
    workers_polling(db, orders).await?;
    let order_id = Uuid::new_v4();
    let ids = (order_id, ticket_id, buyer);
    let decided = decide(db, orders, ids, chrono::Utc::now(), Some(&summary)).await?;
    Ok((order_id, decided))
}

/// What a first look at the ticket found.
pub(super) enum Look {
    /// A refusal the database gives away without starting a workflow (the workflow decides for
    /// real): no such ticket, the buyer's own, or held by another order.
    Refused(Answer),
    /// Free as far as the database knows: what the order's workflow will show of it.
    Free(OrderSummary),
}

/// Looks at the ticket in the database before any workflow starts.
pub(super) async fn look(
    db: &DatabaseConnection,
    ticket_id: Uuid,
    buyer: Uuid,
) -> Result<Look, ApiError> {
    let Some(ticket) = crate::tickets::queries::find(db, ticket_id).await? else {
        return Ok(Look::Refused(Answer::NotFound));
    };
    let refusal = if ticket.user_id == buyer {
        Refusal::OwnTicket
    } else if ticket.order_id.is_some() {
        Refusal::TicketTaken
    } else if ticket.withdrawn_at.is_some() {
        Refusal::Withdrawn
    } else {
        return Ok(Look::Free(OrderSummary {
            title: ticket.title,
            price: Money::from_cents(ticket.price_cents),
        }));
    };
    Ok(Look::Refused(Answer::Refused { refusal }))
}

/// The answer to a reservation whose workflow did not answer: waits until no reservation can
/// commit any more, then answers from the database: the order if it was made; otherwise nothing
/// was reserved, and nothing will be.
pub(super) async fn settle(
    db: &DatabaseConnection,
    order_id: Uuid,
    unknown: ReservationUnknown,
) -> Result<Answer, ApiError> {
    let wait = (unknown.settled_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    // The database cannot say: the order may exist, and the buyer is told where to look.
    let found = queries::find(db, order_id)
        .await
        .map_err(|_| ApiError::OrderUnknown(order_id))?;
    Ok(match found {
        // Made, and still holding its ticket (or paid since): the order is the answer.
        Some((order, _, _)) if order.status != entities::order::Status::Cancelled => Answer::Order,
        // Made, then undone before anybody was told of it: as good as never made.
        Some(_) => {
            tracing::warn!(%order_id, cause = %unknown.cause, "a reservation got no answer; its order was made and cancelled since");
            Answer::NotReserved
        }
        None => {
            tracing::warn!(%order_id, cause = %unknown.cause, "a reservation got no answer; nothing was reserved");
            Answer::NotReserved
        }
    })
}

/// Whether a worker is alive on the order task queue and Temporal answers: otherwise nothing
/// would take the reservation, and the buyer is told at once (503 saying which, with
/// `Retry-After`), before anything starts. A look a second per process (see
/// [`OrderClient::workers_seen`]): this is on every order's path.
pub(super) async fn workers_polling(
    db: &DatabaseConnection,
    orders: &OrderClient,
) -> Result<(), ApiError> {
    match orders.workers_seen(db).await? {
        Workers::Alive => Ok(()),
        Workers::NoWorker => Err(ApiError::NoWorker(orders.task_queue().to_owned())),
        Workers::TemporalUnreachable(why) => Err(ApiError::TemporalUnreachable(why)),
    }
}

/// How long a reservation waits for its answer before it looks whether a worker is there, and
/// how often it looks again.
const LOOK_FOR_WORKERS_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
const LOOK_FOR_WORKERS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Reserves the ticket for order `order_id` through its workflow, first asked for at
/// `first_asked`, and says how it was decided.
pub(super) async fn decide(
    db: &DatabaseConnection,
    orders: &OrderClient,
    (order_id, ticket_id, buyer): (Uuid, Uuid, Uuid),
    first_asked: chrono::DateTime<chrono::Utc>,
    summary: Option<&OrderSummary>,
) -> Result<Answer, ApiError> {
    crate::request_log::about_order(order_id);
    let reserving = orders.reserve(order_id, ticket_id, buyer, first_asked, summary);
    tokio::pin!(reserving);
    // While no answer comes, look whether a worker is still there: one killed just before (its
    // heartbeat not yet stale when the order was let in) never takes the reservation, and the
    // buyer is told so within seconds, not after the reservation's 30 s; the workflow is ended
    // first, so that a worker coming later never reserves for a buyer told no.
    let mut look = tokio::time::interval_at(
        tokio::time::Instant::now() + LOOK_FOR_WORKERS_AFTER,
        LOOK_FOR_WORKERS_EVERY,
    );
    let reserved = loop {
        tokio::select! {
            reserved = &mut reserving => break reserved,
            _ = look.tick() => {
                // Asked afresh (not the second-old look that let the order in).
                let alive = database::workers::alive(
                    db,
                    orders.task_queue(),
                    database::workers::FRESH,
                )
                .await;
                if matches!(alive, Ok(0)) && orders.abandon_unstarted(order_id).await
                {
                    return Err(ApiError::NoWorker(orders.task_queue().to_owned()));
                }
            }
        }
    };
    Ok(match reserved {
        Ok(Reserved::Reserved) => Answer::Order,
        Ok(Reserved::TicketNotFound) => Answer::NotFound,
        Ok(Reserved::Refused(refusal)) => Answer::Refused { refusal },
        Ok(Reserved::TooLate) => Answer::NotReserved,
        // No answer: the order exists once its deadline has passed, or never will.
        Err(unknown) => settle(db, order_id, unknown).await?,
    })
}
