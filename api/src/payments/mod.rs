//! `/api/payments`: pay for an order through its workflow's `pay` update.

use api_types::PaymentJson;
use entities::{order, payment};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Header, payload::Json};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;
use workflows::{
    OrderClient, Refusal,
    client::{Paid as PayAnswer, RequestId},
};

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can, invalid},
    idempotency::{self, Answer, Claim, Claimed, Key},
    input::{Input, Text, rules},
    orders::{owned_order, queries},
    tags::Tag,
};

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NewPayment {
    /// The order to pay.
    order_id: Input<Uuid>,
    /// The card token from the payment form (e.g. `tok_visa`).
    token: Input<Text<rules::CardToken>>,
}

#[derive(ApiResponse)]
pub enum Paid {
    /// Charged once; the order is complete.
    #[oai(status = 201)]
    Created(Json<PaymentJson>),
}

pub struct PaymentsApi;

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// Pay for an order
    ///
    /// Charges the order's captured price once. A declined card answers 402 and cancels the
    /// order (its ticket is free again).
    #[oai(path = "/api/payments", method = "post", operation_id = "payOrder")]
    async fn pay(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        orders: Data<&OrderClient>,
        /// Makes a retry safe: a retry with the same key gets the same answer, and the order is
        /// charged at most once.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<Key>>,
        body: Json<NewPayment>,
    ) -> Result<
        Paid,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::PAYMENT_REQUIRED
                    | can::UNPROCESSABLE
                    | can::DATABASE
            },
        >,
    > {
        let body = body.0;
        let order_id = match body.order_id {
            Input::Given(id) => Some(id),
            _ => None,
        };
        const TOKEN_CONTROL: &str = "Token must not contain control characters";
        let token = match body.token {
            Input::Given(Text(text, _)) if text.chars().any(char::is_control) => Err(TOKEN_CONTROL),
            Input::Given(Text(text, _)) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
            _ => Err(Refusal::TokenRequired.message()),
        };
        let (order_id, token) = match (order_id, token) {
            (Some(order_id), Ok(token)) => (order_id, token),
            (order_id, token) => {
                let mut errors = Vec::new();
                if order_id.is_none() {
                    errors.push(invalid("orderId", "Order ID is required"));
                }
                if let Err(message) = token {
                    errors.push(invalid("token", message));
                }
                return Err(ApiError::Validation(errors).into());
            }
        };
        let (order, _, _) = owned_order(&db, &auth, Input::Given(order_id)).await?;
        let Some(key) = idempotency_key.0 else {
            // A request of its own: nobody else's payment is its answer.
            let request = RequestId(format!("payment:{}", Uuid::new_v4()));
            let paid = charge(&db, &orders, &order, token, &request, false).await?;
            return answer(&db, order_id, paid).await.map_err(Into::into);
        };
        let fingerprint =
            idempotency::fingerprint("POST /api/payments", &[&order_id.to_string(), &token]);
        // The key names the payment: a retry while the first is charged joins it (Temporal
        // dedupes the update by its id), and the payment it makes records it.
        let request = RequestId(format!("payment:{}", key.as_str()));
        let (claimed, claim) =
            Claimed::claim(&db, order.user_id, key, fingerprint, order_id).await?;
        let again = match claim {
            Claim::Decided { answer: paid, .. } => {
                return answer(&db, order_id, paid).await.map_err(Into::into);
            }
            Claim::First { .. } => false,
            Claim::Again { .. } => true,
        };
        let paid = charge(&db, &orders, &order, token, &request, again).await?;
        claimed.decide(&db, &paid).await?;
        answer(&db, order_id, paid).await.map_err(Into::into)
    }
}

/// Pays for `order` through its workflow and says how it went, decided by what durably happened:
/// a payment that `request` made is its answer (201) whatever any attempt saw, and whatever the
/// workflow answered (a workflow task lost in a Temporal outage may have charged and recorded it
/// without the workflow knowing); a payment made by another request is a refusal ("already
/// paid"). `again`: the request was made before and its answer is not known; a payment recorded
/// before requests were is then taken as its own (an order is charged once).
async fn charge(
    db: &DatabaseConnection,
    orders: &OrderClient,
    order: &order::Model,
    token: String,
    request: &RequestId,
    again: bool,
) -> Result<Answer, ApiError> {
    let told = match Refusal::to_pay(order.status, order.cancel_reason) {
        Some(refusal) => Ok(Answer::Refused { refusal }),
        None => ask_workflow(db, orders, order, token, request).await,
    };
    let recorded = recorded(db, order.id).await?;
    let mine = recorded.as_ref().is_some_and(|payment| {
        payment.request_id.as_deref() == Some(request.0.as_str())
            || (again && payment.request_id.is_none())
    });
    let answer = match (mine, recorded.is_some(), told) {
        (true, _, told) => {
            if !matches!(told, Ok(Answer::Payment)) {
                // The workflow did not say so: its task was lost, and it may still think the
                // order open.
                tracing::warn!(order_id = %order.id, "the payment was recorded, but its workflow did not answer it; answered from the database");
                orders.sync_soon(order.id);
            }
            Answer::Payment
        }
        // Another request paid (perhaps a lost attempt that another request joined).
        (false, true, Ok(Answer::Payment)) => Answer::Refused {
            refusal: Refusal::AlreadyPaid,
        },
        (false, _, told) => told?,
    };
    if let Answer::Refused { .. } = answer {
        // The database's word: the workflow may not have caught up with it.
        let now = queries::find(db, order.id)
            .await?
            .map(|(now, _, _)| now.status);
        if now.is_some_and(|status| !status.is_open()) {
            orders.sync_soon(order.id);
        }
    }
    Ok(answer)
}

/// The order's payment, if one is recorded.
async fn recorded(
    db: &DatabaseConnection,
    order_id: Uuid,
) -> Result<Option<payment::Model>, ApiError> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .one(db)
        .await?)
}

/// The `pay` update's answer; for a workflow that has ended or is gone, the database's.
async fn ask_workflow(
    db: &DatabaseConnection,
    orders: &OrderClient,
    order: &order::Model,
    token: String,
    request: &RequestId,
) -> Result<Answer, ApiError> {
    Ok(match orders.pay(order.id, token, request.clone()).await? {
        PayAnswer::Paid { .. } => Answer::Payment,
        PayAnswer::Declined { message } => Answer::Declined { message },
        PayAnswer::Invalid { message } => Answer::Invalid { message },
        // The database says the order holds its ticket, its workflow that it is still reserving:
        // a workflow task being run again (its worker died) has not reached the reservation yet.
        // Not a refusal to remember: the buyer may try again in a moment.
        PayAnswer::Refused(Refusal::NotOpenForPayment) => {
            return Err(still_reserving(order.id));
        }
        PayAnswer::Refused(refusal) => Answer::Refused { refusal },
        // The workflow may have ended meanwhile (expired, or paid): the database says how.
        PayAnswer::Ended => {
            let (now, _, _) = queries::find(db, order.id)
                .await?
                .ok_or(ApiError::NotFound)?;
            match Refusal::to_pay(now.status, now.cancel_reason) {
                Some(refusal) => Answer::Refused { refusal },
                None => {
                    return Err(ApiError::Unavailable(format!(
                        "the workflow of order {} did not take the payment; the order is {}",
                        order.id, now.status
                    )));
                }
            }
        }
    })
}

/// 503: the order's workflow has not yet reached the reservation the database already holds.
fn still_reserving(order_id: Uuid) -> ApiError {
    ApiError::Unavailable(format!(
        "the workflow of order {order_id} is still reserving its ticket; try again"
    ))
}

/// The answer as the response: 201 with the order's payment, or the error.
async fn answer(db: &DatabaseConnection, order_id: Uuid, answer: Answer) -> Result<Paid, ApiError> {
    if let Some(error) = answer.into_error(order_id) {
        return Err(error);
    }
    let payment = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("paid order {order_id} has no payment"))
        })?;
    Ok(Paid::Created(Json(PaymentJson {
        id: payment.id,
        order_id,
        charge_id: payment.charge_id,
    })))
}
