//! How a payment looks in the answer that made it.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Object, Serialize, Deserialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct PaymentJson {
    pub id: Uuid,
    pub order_id: Uuid,
    /// The payment provider's id of the charge.
    pub charge_id: String,
}
