//! An order made with an `Idempotency-Key` (see [`crate::idempotency`]): the first request
//! reserves a new order, a retry drives the same order again or gets the answer recorded, and
//! none makes a second order.

use uuid::Uuid;

use super::{
    desk::OrderDesk,
    queries,
    reservation::{Look, decide, look, workers_polling},
};
use crate::{
    error::ApiError,
    idempotency::{self, Answer, Claim, Claimed, Key},
};

/// Reserves `ticket_id` for `buyer` under `key`, and records the answer for retries. Returns the
/// order's id and its answer.
pub(super) async fn reserve(
    desk: &OrderDesk<'_>,
    key: Key,
    ticket_id: Uuid,
    buyer: Uuid,
) -> Result<(Uuid, Answer), ApiError> {
    let OrderDesk { db, orders, .. } = *desk;
    let request = idempotency::fingerprint("POST /api/orders", &[&ticket_id.to_string()]);
    let (claimed, claim) = Claimed::claim(db, buyer, key, request, Uuid::new_v4()).await?;
    let (order_id, first_asked, summary) = match claim {
        Claim::Decided { order_id, answer } => return Ok((order_id, answer)),
        Claim::First { order_id, at } => {
            let summary = match look(db, ticket_id, buyer).await? {
                Look::Refused(refused) => {
                    claimed.decide(db, &refused).await?;
                    return Ok((order_id, refused));
                }
                Look::Free(summary) => summary,
            };
            if let Err(no_worker) = workers_polling(db, orders).await {
                // Nothing started: the key is given back, and a retry is a first try.
                claimed.forget(db).await?;
                return Err(no_worker);
            }
            (order_id, at, Some(summary))
        }
        // Asked before, undecided: in flight, or its process died (perhaps after the order was
        // made, which the database knows).
        Claim::Again { order_id, at } => {
            if queries::find(db, order_id).await?.is_some() {
                claimed.decide(db, &Answer::Order).await?;
                return Ok((order_id, Answer::Order));
            }
            workers_polling(db, orders).await?;
            // A workflow already started keeps its summary; one that is not gets none.
            (order_id, at, None)
        }
    };
    let ids = (order_id, ticket_id, buyer);
    let decided = match decide(db, orders, ids, first_asked, summary.as_ref()).await {
        Ok(decided) => decided,
        Err(no_worker @ ApiError::NoWorker(_)) => {
            // Its workflow was ended before it reserved anything: the key is given back, and a
            // retry is a first try (a new order).
            claimed.forget(db).await?;
            return Err(no_worker);
        }
        Err(other) => return Err(other),
    };
    claimed.decide(db, &decided).await?;
    Ok((order_id, decided))
}
