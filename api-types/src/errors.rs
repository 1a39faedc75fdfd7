//! The body of every error response: `{"errors":[{"message":"...","field":"..."}]}`.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

/// One failed rule or refusal.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct ErrorEntry {
    pub message: String,
    /// The request field that broke the rule; only on validation errors.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
#[oai(rename = "Errors")]
pub struct ErrorBody {
    pub errors: Vec<ErrorEntry>,
}
