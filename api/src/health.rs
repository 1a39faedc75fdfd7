//! `/healthz` (the process is up) and `/readyz` (its dependencies answer).

use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};
use sea_orm::DatabaseConnection;

use workflows::{OrderClient, temporal};

use crate::{
    error::{ApiError, Fails, can},
    tags::Tag,
};

#[derive(Debug, Object)]
pub struct Status {
    /// `ok` or `ready`.
    status: String,
}

pub struct HealthApi;

#[OpenApi(tag = "Tag::Operations")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 while the process serves requests.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Result<Json<Status>, Fails<{ can::INTERNAL }>> {
        Ok(Json(Status {
            status: "ok".into(),
        }))
    }

    /// Readiness
    ///
    /// 200 when the database and Temporal answer; 503 (with `Retry-After`) when one does not.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(
        &self,
        db: Data<&DatabaseConnection>,
        orders: Data<&OrderClient>,
    ) -> Result<Json<Status>, Fails<{ can::DATABASE }>> {
        database::ping(&db)
            .await
            .map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
        temporal::ping(orders.temporal())
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        Ok(Json(Status {
            status: "ready".into(),
        }))
    }
}
