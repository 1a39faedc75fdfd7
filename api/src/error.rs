//! One error type for the whole API, and the middleware that renders every failure (ours and the
//! framework's) as the contract's body: `{"errors":[{"message":"...","field":"..."}]}`.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    error::{MethodNotAllowedError, NotFoundError, ReadBodyError, ResponseError},
    http::{StatusCode, header},
};
use poem_openapi::{
    ApiResponse,
    error::{AuthorizationError, ContentTypeError, ParseParamError, ParseRequestPayloadError},
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::Type,
};

pub use api_types::{ErrorBody, ErrorEntry};

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One entry per failed rule, in the order the fields are declared.
    #[error("validation failed")]
    Validation(Vec<ErrorEntry>),
    /// A business rule refused the request.
    #[error("{0}")]
    BadRequest(String),
    #[error("Not authorized")]
    NotAuthorized,
    /// Signed in, without the role this needs; the message says which.
    #[error("{0}")]
    Forbidden(String),
    #[error("Not Found")]
    NotFound,
    /// The card was declined; the message is the gateway's.
    #[error("{0}")]
    PaymentRequired(String),
    /// The record changed between our read and our write.
    #[error("{0}")]
    Conflict(String),
    /// Well-formed, but not what this request may be (an `Idempotency-Key` reused with another
    /// request).
    #[error("{0}")]
    Unprocessable(String),
    /// The database (or Temporal) cannot be reached.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A reservation's outcome could not be learnt (Temporal did not answer, then the database
    /// could not be read): the order may exist; the buyer looks it up by its id.
    #[error("the outcome of order {0} is unknown")]
    OrderUnknown(uuid::Uuid),
    /// Too many credential attempts: try again after the duration.
    #[error("too many attempts")]
    TooManyRequests(std::time::Duration),
    /// The process sheds load (admission control): try again shortly.
    #[error("busy: {0}")]
    Busy(String),
    /// No worker takes orders on the task queue (none was seen lately): nothing would reserve.
    #[error("no worker is alive on the task queue {0}")]
    NoWorker(String),
    /// Temporal cannot be reached (the detail goes to the log only).
    #[error("Temporal is unreachable: {0}")]
    TemporalUnreachable(String),
    /// Anything unexpected; the details go to the log only.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

/// A validation failure of one field, as an entry.
pub fn invalid(field: &str, message: impl Into<String>) -> ErrorEntry {
    ErrorEntry {
        message: message.into(),
        field: Some(field.to_owned()),
    }
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        if database::is_unavailable(&error) {
            ApiError::Unavailable(error.to_string())
        } else {
            ApiError::Internal(error.into())
        }
    }
}

impl From<database::ReadFailed> for ApiError {
    fn from(failed: database::ReadFailed) -> Self {
        if failed.unavailable {
            ApiError::Unavailable(failed.message)
        } else {
            ApiError::Internal(anyhow::anyhow!(failed.message))
        }
    }
}

impl From<workflows::client::Unavailable> for ApiError {
    fn from(unavailable: workflows::client::Unavailable) -> Self {
        ApiError::Unavailable(unavailable.0)
    }
}

impl From<workflows::Refusal> for ApiError {
    fn from(refusal: workflows::Refusal) -> Self {
        ApiError::BadRequest(refusal.message().to_owned())
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<sea_orm::TransactionError<E>> for ApiError
where
    ApiError: From<E>,
{
    fn from(error: sea_orm::TransactionError<E>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "5";
/// Seconds a client should wait before retrying a request that was shed.
const BUSY_RETRY_AFTER_SECONDS: &str = "1";

/// What a buyer is told when no worker takes orders ([`ApiError::NoWorker`]).
pub const NO_WORKER: &str = "no worker is taking orders right now; try again in a few seconds";
/// What a buyer is told when Temporal cannot be reached ([`ApiError::TemporalUnreachable`]).
pub const TEMPORAL_UNREACHABLE: &str =
    "the workflow service cannot be reached; try again in a few seconds";

fn retry_after(mut response: Response, seconds: &'static str) -> Response {
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from_static(seconds),
    );
    response
}

fn body(status: StatusCode, errors: Vec<ErrorEntry>) -> Response {
    let json = serde_json::to_vec(&ErrorBody { errors }).expect("an error body serializes");
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json)
}

fn message(status: StatusCode, message: impl Into<String>) -> Response {
    body(
        status,
        vec![ErrorEntry {
            message: message.into(),
            field: None,
        }],
    )
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotAuthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_)
            | ApiError::Busy(_)
            | ApiError::OrderUnknown(_)
            | ApiError::NoWorker(_)
            | ApiError::TemporalUnreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        let status = self.status();
        match self {
            ApiError::Validation(entries) => body(status, entries.clone()),
            ApiError::BadRequest(text)
            | ApiError::Conflict(text)
            | ApiError::Unprocessable(text)
            | ApiError::Forbidden(text)
            | ApiError::PaymentRequired(text) => message(status, text.clone()),
            ApiError::NotAuthorized => message(status, "Not authorized"),
            ApiError::NotFound => message(status, "Not Found"),
            ApiError::Unavailable(_) => retry_after(
                message(status, "Service temporarily unavailable"),
                RETRY_AFTER_SECONDS,
            ),
            ApiError::TooManyRequests(wait) => {
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                let mut response = message(
                    status,
                    format!("Too many attempts; try again in {seconds} seconds"),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
                response
            }
            ApiError::OrderUnknown(id) => retry_after(
                message(
                    status,
                    format!(
                        "Could not tell whether order {id} was made: look it up with GET /api/orders/{id}"
                    ),
                ),
                RETRY_AFTER_SECONDS,
            ),
            ApiError::Busy(_) => retry_after(
                message(status, "Service temporarily unavailable"),
                BUSY_RETRY_AFTER_SECONDS,
            ),
            ApiError::NoWorker(_) => retry_after(message(status, NO_WORKER), RETRY_AFTER_SECONDS),
            ApiError::TemporalUnreachable(_) => {
                retry_after(message(status, TEMPORAL_UNREACHABLE), RETRY_AFTER_SECONDS)
            }
            ApiError::Internal(_) => message(status, "Something went wrong"),
        }
    }
}

/// The statuses an operation can fail with, as bits, for [`Fails`].
pub mod can {
    pub const BAD_REQUEST: u16 = 1;
    pub const NOT_AUTHORIZED: u16 = 1 << 1;
    pub const NOT_FOUND: u16 = 1 << 2;
    pub const CONFLICT: u16 = 1 << 3;
    pub const TOO_LARGE: u16 = 1 << 4;
    pub const UNSUPPORTED_MEDIA_TYPE: u16 = 1 << 5;
    pub const INTERNAL: u16 = 1 << 6;
    pub const UNAVAILABLE: u16 = 1 << 7;
    pub const PAYMENT_REQUIRED: u16 = 1 << 8;
    pub const UNPROCESSABLE: u16 = 1 << 9;
    pub const TOO_MANY_REQUESTS: u16 = 1 << 10;
    pub const FORBIDDEN: u16 = 1 << 11;
    /// What the credential endpoints can answer besides their own errors: their rate limit, and
    /// the bound on password hashing (503).
    pub const CREDENTIALS: u16 = TOO_MANY_REQUESTS | UNAVAILABLE;
    /// What any operation that touches the database can answer.
    pub const DATABASE: u16 = INTERNAL | UNAVAILABLE;
    /// What any operation with a JSON body can answer besides its own errors.
    pub const JSON_BODY: u16 = BAD_REQUEST | TOO_LARGE | UNSUPPORTED_MEDIA_TYPE;
}

/// Every error response, with its bit in [`can`].
const DOCUMENTED: &[(u16, u16, &str)] = &[
    (
        can::BAD_REQUEST,
        400,
        "Validation failed (one entry per failed rule, with `field`), a business rule refused the request, or the body is not valid JSON",
    ),
    (can::NOT_AUTHORIZED, 401, "Not signed in, or not the owner"),
    (
        can::FORBIDDEN,
        403,
        "Signed in, without the role this needs (checking tickets in takes the door role)",
    ),
    (
        can::PAYMENT_REQUIRED,
        402,
        "The card was declined (the message is the payment provider's); the order is cancelled",
    ),
    (can::NOT_FOUND, 404, "No such resource (or a malformed id)"),
    (
        can::CONFLICT,
        409,
        "The record changed between read and write; reload and retry",
    ),
    (
        can::TOO_LARGE,
        413,
        "The request body is larger than the limit",
    ),
    (
        can::UNSUPPORTED_MEDIA_TYPE,
        415,
        "The body is not `application/json`",
    ),
    (
        can::UNPROCESSABLE,
        422,
        "The `Idempotency-Key` was used before with a different request",
    ),
    (
        can::TOO_MANY_REQUESTS,
        429,
        "Too many credential attempts for this account or from this address; retry after `Retry-After` seconds",
    ),
    (
        can::INTERNAL,
        500,
        "Something unexpected went wrong; details are only in the server's log",
    ),
    (
        can::UNAVAILABLE,
        503,
        "The database or Temporal cannot be reached, no worker takes orders, the server sheds load (too many reservations in flight), or an order could not be reserved in time (nothing was reserved); retry after `Retry-After` seconds (with a new `Idempotency-Key` after an order that was not reserved). When even the database cannot say whether an order was made, the message names the order to look up (`GET /api/orders/{id}`)",
    ),
];

/// An [`ApiError`] from an operation that documents exactly the statuses in `CAN` (bits of
/// [`can`]); `?` turns any `ApiError` into it.
#[derive(Debug)]
pub struct Fails<const CAN: u16>(pub ApiError);

impl<const CAN: u16> From<ApiError> for Fails<CAN> {
    fn from(error: ApiError) -> Self {
        Fails(error)
    }
}

impl<const CAN: u16> From<workflows::client::Unavailable> for Fails<CAN> {
    fn from(unavailable: workflows::client::Unavailable) -> Self {
        Fails(unavailable.into())
    }
}

impl<const CAN: u16> From<Fails<CAN>> for poem::Error {
    fn from(error: Fails<CAN>) -> Self {
        error.0.into()
    }
}

impl<const CAN: u16> ApiResponse for Fails<CAN> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .filter(|(bit, _, _)| CAN & bit != 0)
                .map(|&(_, status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: if status == 503 || status == 429 {
                        vec![MetaHeader {
                            name: "Retry-After".into(),
                            description: Some("Seconds to wait before retrying".into()),
                            required: true,
                            deprecated: false,
                            schema: u32::schema_ref(),
                        }]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

/// Renders every error that reaches the top as the contract's body, logs the unexpected ones,
/// and turns a panic into a 500 with the same body. A 405 names in `Allow` what `allowed_methods`
/// gives for its path (the OpenAPI document's methods, `crate::openapi::allowed_methods`, passed
/// in so that the errors need not know the document that is made of every handler).
pub async fn render_errors<E: Endpoint>(
    next: E,
    req: Request,
    allowed_methods: fn(&str) -> Vec<String>,
) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let outcome = std::panic::AssertUnwindSafe(next.call(req));
    let result = futures_util::FutureExt::catch_unwind(outcome).await;
    Ok(match result {
        Ok(Ok(response)) => response.into_response(),
        Ok(Err(error)) => {
            // The route the request matched stays known (for the metrics' route label).
            let pattern = error.data::<poem::PathPattern>().cloned();
            let mut response = render(error, &method, &path);
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                let allowed = allowed_methods(&path).join(", ");
                if let Ok(value) = poem::http::HeaderValue::from_str(&allowed) {
                    response
                        .headers_mut()
                        .insert(poem::http::header::ALLOW, value);
                }
            }
            if let Some(pattern) = pattern {
                response.set_data(pattern);
            }
            response
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(%method, %path, panic = %what, "handler panicked");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
        }
    })
}

fn render(error: poem::Error, method: &poem::http::Method, path: &str) -> Response {
    if let Some(api) = error.downcast_ref::<ApiError>() {
        match api {
            ApiError::Internal(e) => {
                tracing::error!(%method, %path, error = %format!("{e:#}"), "request failed")
            }
            ApiError::Unavailable(e) => {
                tracing::warn!(%method, %path, error = %e, "dependency unavailable")
            }
            ApiError::NoWorker(task_queue) => {
                tracing::warn!(%method, %path, %task_queue, "no worker is alive on the order task queue")
            }
            ApiError::TemporalUnreachable(e) => {
                tracing::warn!(%method, %path, error = %e, "Temporal is unreachable")
            }
            ApiError::OrderUnknown(order_id) => {
                tracing::error!(%method, %path, %order_id, "neither Temporal nor the database could say whether an order was made")
            }
            _ => {}
        }
        return api.as_response();
    }
    if error.is::<NotFoundError>() {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    if error.is::<MethodNotAllowedError>() {
        return message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    if error.is::<AuthorizationError>() {
        return message(StatusCode::UNAUTHORIZED, "Not authorized");
    }
    if error.is::<ContentTypeError>() {
        return message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content type must be application/json",
        );
    }
    if let Some(ReadBodyError::PayloadTooLarge) = error.downcast_ref::<ReadBodyError>() {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large");
    }
    if let Some(e) = error.downcast_ref::<ParseRequestPayloadError>() {
        return message(
            StatusCode::BAD_REQUEST,
            format!("Invalid JSON body: {}", e.reason),
        );
    }
    if let Some(e) = error.downcast_ref::<ParseParamError>() {
        return body(
            StatusCode::BAD_REQUEST,
            vec![invalid(
                e.name,
                format!("Invalid value for {}: {}", e.name, e.reason),
            )],
        );
    }
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(%method, %path, error = %error, "request failed");
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong");
    }
    let text = status.canonical_reason().unwrap_or("Bad Request");
    message(status, text)
}
