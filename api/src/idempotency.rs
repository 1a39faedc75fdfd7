//! `Idempotency-Key` on `POST /api/orders` and `POST /api/payments`, as the payment processors do
//! it: a retry with the same key by the same buyer gets the same answer (the same order, the same
//! payment, or the same refusal) and never makes a second order or charge; the same key with a
//! different request is 422.
//!
//! A key is claimed once per buyer (a unique row); the row holds a fingerprint of the request,
//! the order it is about and, once decided, the answer. A retry of a request whose answer is not
//! recorded (still in flight, or its reply and process lost) drives the same order again: the
//! order's workflow id and the payment's update id come from the key, so Temporal dedupes them.

use entities::idempotency_key;
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromParameter, ParseResult, Type},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use workflows::Refusal;

use crate::error::ApiError;

/// At most this many characters, as the payment processors allow.
const MAX_LENGTH: usize = 255;

/// A client's idempotency key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn parse(text: &str) -> Result<Key, String> {
        if text.is_empty() || text.len() > MAX_LENGTH {
            return Err(format!("must be 1 to {MAX_LENGTH} characters"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be visible ASCII characters without spaces".into());
        }
        Ok(Key(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Type for Key {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> std::borrow::Cow<'static, str> {
        "IdempotencyKey".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some(
                "Makes the request safe to retry: a retry with the same key gets the same answer \
                 and never makes a second change (order, charge, transfer, listing). 1 to 255 \
                 visible ASCII characters, e.g. a UUID; one per request, kept per user.",
            ),
            min_length: Some(1),
            max_length: Some(MAX_LENGTH),
            pattern: Some(r"^[\x21-\x7e]+$".into()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromParameter for Key {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Key::parse(value).map_err(ParseError::custom)
    }
}

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// Refuses a request whose `Idempotency-Key` cannot be read as text (bytes outside visible
/// ASCII): the framework's header parameter would drop such a value, and the request would run as
/// if no key had been sent.
pub async fn refuse_unreadable<E: poem::Endpoint>(
    next: E,
    req: poem::Request,
) -> poem::Result<poem::Response> {
    use poem::IntoResponse;
    let unreadable = req
        .headers()
        .get_all(HEADER)
        .iter()
        .any(|value| value.to_str().is_err());
    if unreadable {
        return Err(ApiError::Validation(vec![crate::error::invalid(
            HEADER,
            "Idempotency-Key must be 1 to 255 visible ASCII characters without spaces",
        )])
        .into());
    }
    Ok(next.call(req).await?.into_response())
}

/// A fingerprint of a request: its operation and its fields, hashed (a card token is not kept).
pub fn fingerprint(operation: &str, fields: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(operation.as_bytes());
    for field in fields {
        hash.update([0]);
        hash.update(field.as_bytes());
    }
    format!("{:x}", hash.finalize())
}

/// A decided answer, kept for retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// 201 with the order (as it stands when asked again).
    Order,
    /// 201 with the order's payment.
    Payment,
    /// 404: no such ticket.
    NotFound,
    /// 400 with the refusal's message.
    Refused { refusal: Refusal },
    /// 402: the card was declined.
    Declined { message: String },
    /// 400: the payment provider refused the payment as invalid.
    Invalid { message: String },
    /// 503: the reservation was not made in time, and never will be; a new key tries again.
    NotReserved,
}

impl Answer {
    /// The answer as an error, for those that are one.
    pub fn into_error(self, order_id: Uuid) -> Option<ApiError> {
        Some(match self {
            Answer::Order | Answer::Payment => return None,
            Answer::NotFound => ApiError::NotFound,
            Answer::Refused { refusal } => refusal.into(),
            Answer::Declined { message } => ApiError::PaymentRequired(message),
            Answer::Invalid { message } => ApiError::BadRequest(message),
            Answer::NotReserved => not_reserved(order_id),
        })
    }
}

/// The answer to a reservation that was not made in time (and will not be).
pub fn not_reserved(order_id: Uuid) -> ApiError {
    ApiError::Unavailable(format!(
        "order {order_id} was not reserved in time; nothing was reserved"
    ))
}

/// What a claimed key says about its request.
#[derive(Debug)]
pub enum Claim {
    /// The key is new: the request is made for the first time, about this order.
    First {
        order_id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// The key was claimed before and its answer is not recorded: the same request is in flight,
    /// or its process died. Drive the same order again (Temporal dedupes).
    Again {
        order_id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Decided before: answer the same again.
    Decided { order_id: Uuid, answer: Answer },
}

/// A buyer's key for one request.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub user_id: Uuid,
    pub key: Key,
}

impl Claimed {
    /// Claims `key` for `request` about `order_id` (the new order's id, or the order paid for),
    /// or finds how it was used before. 422 when it was used with another request.
    pub async fn claim(
        db: &DatabaseConnection,
        user_id: Uuid,
        key: Key,
        request: String,
        order_id: Uuid,
    ) -> Result<(Claimed, Claim), ApiError> {
        let at = entities::now();
        let row = idempotency_key::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(user_id),
            key: Set(key.as_str().to_owned()),
            request: Set(request.clone()),
            order_id: Set(order_id),
            answer: Set(None),
            created_at: Set(at),
        };
        let inserted = idempotency_key::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    idempotency_key::Column::UserId,
                    idempotency_key::Column::Key,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        let claimed = Claimed { user_id, key };
        if inserted == 1 {
            return Ok((claimed, Claim::First { order_id, at }));
        }
        let before = Claimed::find(db, user_id, &claimed.key, &request).await?;
        let claim = before.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("an idempotency key vanished after a clash"))
        })?;
        Ok((claimed, claim))
    }

    /// How `key` was used before, if it was; 422 when with another request than `request`.
    async fn find(
        db: &DatabaseConnection,
        user_id: Uuid,
        key: &Key,
        request: &str,
    ) -> Result<Option<Claim>, ApiError> {
        let Some(before) = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::UserId.eq(user_id))
            .filter(idempotency_key::Column::Key.eq(key.as_str()))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        if before.request != request {
            return Err(ApiError::Unprocessable(
                "Idempotency-Key was already used with a different request".into(),
            ));
        }
        Ok(Some(match before.answer {
            None => Claim::Again {
                order_id: before.order_id,
                at: before.created_at,
            },
            Some(json) => Claim::Decided {
                order_id: before.order_id,
                answer: serde_json::from_str(&json).map_err(ApiError::internal)?,
            },
        }))
    }

    /// This key's row while its answer is not recorded.
    fn undecided(&self) -> Condition {
        Condition::all()
            .add(idempotency_key::Column::UserId.eq(self.user_id))
            .add(idempotency_key::Column::Key.eq(self.key.as_str()))
            .add(idempotency_key::Column::Answer.is_null())
    }

    /// Gives the key back while nothing was done under it (no answer recorded): a retry is a
    /// first try.
    pub async fn forget(&self, db: &DatabaseConnection) -> Result<(), ApiError> {
        idempotency_key::Entity::delete_many()
            .filter(self.undecided())
            .exec(db)
            .await?;
        Ok(())
    }

    /// Records the answer; the first one recorded stays.
    pub async fn decide(&self, db: &DatabaseConnection, answer: &Answer) -> Result<(), ApiError> {
        let json = serde_json::to_string(answer).map_err(ApiError::internal)?;
        idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::Answer, Expr::value(json))
            .filter(self.undecided())
            .exec(db)
            .await?;
        Ok(())
    }
}
