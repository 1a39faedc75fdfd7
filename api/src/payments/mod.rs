//! `/api/payments`: pay for an order through its workflow's `pay` update.

use entities::order::{self, CancelReason};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use sea_orm::DatabaseConnection;
use temporalio_client::WorkflowExecuteUpdateOptions;
use uuid::Uuid;
use workflows::{OrderWorkflow, PayInput, PayOutcome};

use crate::{
    auth::SignedIn,
    error::{ApiError, Fails, can, invalid},
    input::Input,
    openapi::Tag,
    orders::{
        OrderService, owned_order, store, temporal_unavailable, update_failure_message,
        within_patience,
    },
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

/// Why an order in the database cannot be paid, in the contract's words.
fn refusal(order: &order::Model) -> Option<&'static str> {
    match order.status() {
        order::Status::Complete => Some("Order has already been paid"),
        order::Status::Cancelled if order.cancel_reason() == Some(CancelReason::Expired) => {
            Some("Order has expired")
        }
        order::Status::Cancelled => Some("Cannot pay for a cancelled order"),
        order::Status::Created | order::Status::AwaitingPayment => None,
    }
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
        orders: Data<&OrderService>,
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
                    errors.push(invalid("token", "Token is required"));
                }
                return Err(ApiError::Validation(errors).into());
            }
        };
        let (order, _) = owned_order(&db, &auth, Input::Given(order_id)).await?;
        if let Some(refusal) = refusal(&order) {
            return Err(ApiError::bad_request(refusal).into());
        }
        let sent = within_patience(
            "payment",
            orders.handle(order.id).execute_update(
                OrderWorkflow::pay,
                PayInput { token },
                WorkflowExecuteUpdateOptions::default(),
            ),
        )
        .await?;
        match sent {
            Ok(PayOutcome::Paid {
                payment_id,
                charge_id,
            }) => Ok(Paid::Created(Json(PaymentJson {
                id: payment_id,
                order_id,
                charge_id,
            }))),
            Ok(PayOutcome::Declined { message }) => Err(ApiError::PaymentRequired(message).into()),
            Ok(PayOutcome::Invalid { message }) => Err(ApiError::BadRequest(message).into()),
            Err(error) => {
                if let Some(message) = update_failure_message(&error) {
                    // A refusal of the workflow's validator is the client's; anything else is ours.
                    return Err(if message.starts_with(workflows::PAYMENT_FAILED) {
                        temporal_unavailable(message)
                    } else {
                        ApiError::BadRequest(message)
                    }
                    .into());
                }
                // The workflow may have ended meanwhile (expired): the database says how.
                let (now, _) = store::find(&db, order.id)
                    .await?
                    .ok_or(ApiError::NotFound)?;
                match refusal(&now) {
                    Some(refusal) => Err(ApiError::bad_request(refusal).into()),
                    None => Err(temporal_unavailable(error).into()),
                }
            }
        }
    }
}
