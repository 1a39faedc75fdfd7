//! `POST /api/orders`: the ticket id read once, admission, the reservation (with or without an
//! `Idempotency-Key`), and the answer.

use api_types::{Currency, OrderJson};
use poem_openapi::{ApiResponse, Object, payload::Json};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{desk::OrderDesk, idempotency, queries, reservation};
use crate::{
    auth::SignedIn,
    error::{ApiError, invalid},
    idempotency::{Answer, Key},
    input::Input,
};

#[derive(Debug, Object)]
pub struct NewOrder {
    /// The ticket to reserve.
    #[oai(rename = "ticketId")]
    pub ticket_id: Input<Uuid>,
}

#[derive(ApiResponse)]
pub enum Created {
    /// The ticket is reserved for the buyer until `expiresAt`.
    #[oai(status = 201)]
    Created(Json<OrderJson>),
}

/// Makes the order `body` asks for, as the buyer of `auth`: 201 with the order, or why not.
pub(super) async fn order(
    auth: &SignedIn,
    desk: OrderDesk<'_>,
    key: Option<Key>,
    body: NewOrder,
) -> Result<Created, ApiError> {
    let Input::Given(ticket_id) = body.ticket_id else {
        let missing = invalid("ticketId", "TicketId must be provided");
        return Err(ApiError::Validation(vec![missing]));
    };
    let buyer = auth.claims().id;
    // Shed before any work (no database read, no workflow, no key claimed): a request shed is
    // retried as a first try.
    let _admitted = desk.admission.admit()?;
    let (order_id, decided) = match key {
        None => reservation::reserve(&desk, ticket_id, buyer).await?,
        Some(key) => idempotency::reserve(&desk, key, ticket_id, buyer).await?,
    };
    answer(desk.db, desk.currency, order_id, decided).await
}

/// The answer as the response: 201 with the order as it stands, or the error.
async fn answer(
    db: &DatabaseConnection,
    currency: &Currency,
    order_id: Uuid,
    answer: Answer,
) -> Result<Created, ApiError> {
    if let Some(error) = answer.into_error(order_id) {
        return Err(error);
    }
    let record = queries::find(db, order_id).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("reserved order {order_id} has no row"))
    })?;
    Ok(Created::Created(Json(OrderJson::new(record, currency))))
}
