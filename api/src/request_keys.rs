//! `Idempotency-Key` on the writes decided in one database transaction: a transfer, a sell-on, a
//! withdrawal. The key, a fingerprint of its request and the answer are written in the
//! transaction that makes the change, so the change and its key are kept or lost together: a
//! retry with the same key finds the answer and changes nothing again; the same key with another
//! request is 422. A refusal changes nothing and keeps no key: a retry of it is asked again.
//! (`POST /api/orders` and `/api/payments`, whose answers come from a workflow, keep theirs in
//! [`crate::idempotency`].)

use entities::request_key;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, SqlErr, TransactionTrait,
};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::{
    error::ApiError,
    idempotency::{Key, fingerprint},
};

/// A key given with a request, and what it is kept with.
pub struct RequestKey {
    user_id: Uuid,
    key: Key,
    request: String,
}

impl RequestKey {
    /// `key` of `user_id` for `operation` with `fields` (what makes two requests the same one).
    pub fn new(user_id: Uuid, key: Key, operation: &str, fields: &[&str]) -> Self {
        RequestKey {
            user_id,
            key,
            request: fingerprint(operation, fields),
        }
    }

    /// The answer kept with this key, if a request made with it was decided; 422 when the key
    /// was used with another request.
    pub async fn answered<T: DeserializeOwned>(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<T>, ApiError> {
        let Some(kept) =
            request_key::Entity::find_by_id((self.user_id, self.key.as_str().to_owned()))
                .one(db)
                .await?
        else {
            return Ok(None);
        };
        if kept.request != self.request {
            return Err(ApiError::Unprocessable(
                "Idempotency-Key was already used with a different request".into(),
            ));
        }
        serde_json::from_str(&kept.answer)
            .map(Some)
            .map_err(ApiError::internal)
    }

    /// Writes the key with `answer` in `txn`, first thing, so that a concurrent request with the
    /// same key waits here. `Ok(false)` when another request with the key was decided first
    /// (`txn` is then unusable: roll it back and read that answer).
    pub async fn keep<T: Serialize>(
        &self,
        txn: &DatabaseTransaction,
        answer: &T,
    ) -> Result<bool, ApiError> {
        let row = request_key::Model {
            user_id: self.user_id,
            key: self.key.as_str().to_owned(),
            request: self.request.clone(),
            answer: serde_json::to_string(answer).map_err(ApiError::internal)?,
            created_at: entities::now(),
        };
        match request_key::Entity::insert(request_key::ActiveModel::from(row))
            .exec_without_returning(txn)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// What one attempt of a keyed write did.
pub enum Attempt<T> {
    /// Written, with this answer.
    Done(T),
    /// Another request with the same key was decided first: its answer.
    Answered(T),
    /// What the write was conditional on changed since it was read: nothing was written.
    Stale,
}

/// Runs `write` in a transaction that first keeps `key` (if any) with `answer`, and commits when
/// `write` says it wrote (`true`); rolls back when it did not (a stale read).
pub async fn write_once<T, F>(
    db: &DatabaseConnection,
    key: Option<&RequestKey>,
    answer: T,
    write: F,
) -> Result<Attempt<T>, ApiError>
where
    T: Serialize + DeserializeOwned,
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<bool, ApiError>,
{
    let txn = db.begin().await?;
    if let Some(key) = key
        && !key.keep(&txn, &answer).await?
    {
        txn.rollback().await?;
        let kept = key.answered(db).await?.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("an idempotency key vanished after a clash"))
        })?;
        return Ok(Attempt::Answered(kept));
    }
    if !write(&txn).await? {
        txn.rollback().await?;
        return Ok(Attempt::Stale);
    }
    txn.commit().await?;
    Ok(Attempt::Done(answer))
}
