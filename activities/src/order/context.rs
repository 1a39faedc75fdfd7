//! What every step of the order lifecycle runs with: [`OrderActivities`] (the database, the
//! payment gateway, the currency, the metrics), the span its log lines carry, and the failure no
//! retry can mend.

use std::{future::Future, sync::Arc};

use sea_orm::DatabaseConnection;
use telemetry::Metrics;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tracing::Instrument;
use uuid::Uuid;

use crate::gateway::PaymentGateway;

/// The activities of `OrderWorkflow`, with what they need: the database, the payment gateway,
/// the currency prices are in, and the process's metrics.
pub struct OrderActivities {
    pub(super) db: DatabaseConnection,
    pub(super) gateway: Arc<dyn PaymentGateway>,
    pub(super) currency: String,
    pub(super) metrics: Metrics,
}

impl OrderActivities {
    pub fn new(
        db: DatabaseConnection,
        gateway: Arc<dyn PaymentGateway>,
        currency: String,
        metrics: Metrics,
    ) -> Self {
        OrderActivities {
            db,
            gateway,
            currency,
            metrics,
        }
    }
}

/// Runs `work`, the activity `name` about order `order_id`, in a span that its log lines carry.
pub(super) fn about<T>(
    ctx: &ActivityContext,
    name: &'static str,
    order_id: Uuid,
    work: impl Future<Output = T>,
) -> impl Future<Output = T> {
    let info = ctx.info();
    let span = tracing::info_span!(
        "activity",
        activity = name,
        %order_id,
        workflow_id = info.workflow_id.as_deref().unwrap_or_default(),
        attempt = info.attempt,
    );
    work.instrument(span)
}

/// A fault that no retry can mend.
pub(super) fn non_retryable(error: impl std::fmt::Display) -> ActivityError {
    ActivityError::application(temporalio_common::error::ApplicationFailure::non_retryable(
        error.to_string(),
    ))
}
