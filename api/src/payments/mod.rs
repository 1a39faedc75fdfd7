//! `/api/payments`: pay for an order through its workflow's `pay` update.

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use sea_orm::DatabaseConnection;
use uuid::Uuid;
use workflows::{OrderClient, Refusal, client::Paid as PayAnswer};

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can, invalid},
    input::Input,
    orders::{owned_order, store},
    tags::Tag,
};

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct NewPayment {
    /// The order to pay.
    order_id: Input<String>,
    /// The card token from the payment form (e.g. `tok_visa`).
    token: Input<String>,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct PaymentJson {
    id: Uuid,
    order_id: Uuid,
    /// The payment provider's id of the charge.
    charge_id: String,
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
    #[oai(path = "/api/payments", method = "post")]
    async fn pay(
        &self,
        auth: SignedIn,
        db: Data<&DatabaseConnection>,
        orders: Data<&OrderClient>,
        body: Json<NewPayment>,
    ) -> Result<
        Paid,
        Fails<
            {
                can::JSON_BODY
                    | can::NOT_AUTHORIZED
                    | can::NOT_FOUND
                    | can::PAYMENT_REQUIRED
                    | can::DATABASE
            },
        >,
    > {
        let body = body.0;
        let order_id = match body.order_id {
            Input::Given(text) => text.trim().parse::<Uuid>().ok(),
            _ => None,
        };
        let token = match body.token {
            Input::Given(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            _ => None,
        };
        let (order_id, token) = match (order_id, token) {
            (Some(order_id), Some(token)) => (order_id, token),
            (order_id, token) => {
                let mut errors = Vec::new();
                if order_id.is_none() {
                    errors.push(invalid("orderId", "Order ID is required"));
                }
                if token.is_none() {
                    errors.push(invalid("token", Refusal::TokenRequired.message()));
                }
                return Err(ApiError::Validation(errors).into());
            }
        };
        let (order, _) = owned_order(&db, &auth, Input::Given(order_id)).await?;
        if let Some(refusal) = Refusal::to_pay(order.status, order.cancel_reason) {
            return Err(ApiError::from(refusal).into());
        }
        match orders.pay(order.id, token).await? {
            PayAnswer::Paid {
                payment_id,
                charge_id,
            } => Ok(Paid::Created(Json(PaymentJson {
                id: payment_id,
                order_id,
                charge_id,
            }))),
            PayAnswer::Declined { message } => Err(ApiError::PaymentRequired(message).into()),
            PayAnswer::Invalid { message } => Err(ApiError::BadRequest(message).into()),
            PayAnswer::Refused(refusal) => Err(ApiError::from(refusal).into()),
            // The workflow may have ended meanwhile (expired): the database says how.
            PayAnswer::Ended => {
                let (now, _) = store::find(&db, order.id)
                    .await?
                    .ok_or(ApiError::NotFound)?;
                match Refusal::to_pay(now.status, now.cancel_reason) {
                    Some(refusal) => Err(ApiError::from(refusal).into()),
                    None => Err(ApiError::Unavailable(format!(
                        "the workflow of order {} did not take the payment; the order is {}",
                        order.id, now.status
                    ))
                    .into()),
                }
            }
        }
    }
}
