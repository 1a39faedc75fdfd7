//! The side effects of the order lifecycle, as Temporal activities: reserve the ticket, mark the
//! order as being paid, charge through the [`PaymentGateway`], record the payment, cancel (or
//! expire) the order and free its ticket.
//!
//! Every activity is idempotent under retry. Business outcomes (a taken ticket, a declined card)
//! are returned as values; database and network faults are retryable errors; a refusal that no
//! retry can change (our payment credentials refused) is a non-retryable failure.

pub mod gateway;
pub mod store;
pub mod types;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

pub use gateway::{ChargeOutcome, ChargeRequest, GatewayError, GatewaySettings, PaymentGateway};
use types::{
    CancelInput, ChargeInput, CompleteInput, Payment, ReserveInput, ReserveOutcome, Status,
};

/// The activities of `OrderWorkflow`, with what they need: the database, the payment gateway and
/// the currency prices are in.
pub struct OrderActivities {
    db: DatabaseConnection,
    gateway: Arc<dyn PaymentGateway>,
    currency: String,
}

impl OrderActivities {
    pub fn new(db: DatabaseConnection, gateway: Arc<dyn PaymentGateway>, currency: String) -> Self {
        OrderActivities {
            db,
            gateway,
            currency,
        }
    }
}

/// A fault that no retry can mend.
fn non_retryable(error: impl std::fmt::Display) -> ActivityError {
    ActivityError::application(temporalio_common::error::ApplicationFailure::non_retryable(
        error.to_string(),
    ))
}

#[activities]
impl OrderActivities {
    /// Reserves the ticket and writes the order row (see [`store::reserve`]).
    #[activity]
    pub async fn reserve(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ReserveInput,
    ) -> Result<ReserveOutcome, ActivityError> {
        Ok(store::reserve(&self.db, &input).await?)
    }

    /// `created` → `awaiting:payment`.
    #[activity]
    pub async fn mark_awaiting_payment(
        self: Arc<Self>,
        _ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<(), ActivityError> {
        Ok(store::mark_awaiting_payment(&self.db, order_id).await?)
    }

    /// `awaiting:payment` → `created`, after an attempt that charged nothing.
    #[activity]
    pub async fn reopen(
        self: Arc<Self>,
        _ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<(), ActivityError> {
        Ok(store::reopen(&self.db, order_id).await?)
    }

    /// Charges the order's price; the idempotency key makes a retried charge a no-op at the
    /// provider.
    #[activity]
    pub async fn charge(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: ChargeInput,
    ) -> Result<ChargeOutcome, ActivityError> {
        let request = ChargeRequest {
            idempotency_key: input.idempotency_key,
            amount_cents: input.amount_cents,
            currency: self.currency.clone(),
            token: input.token,
            description: format!("ticketing order {}", input.order_id),
        };
        match self.gateway.charge(&request).await {
            Ok(outcome) => Ok(outcome),
            Err(e @ GatewayError::Transient(_)) => Err(anyhow::Error::from(e).into()),
            Err(e @ GatewayError::Permanent(_)) => Err(non_retryable(e)),
        }
    }

    /// Records the payment and completes the order.
    #[activity]
    pub async fn complete(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CompleteInput,
    ) -> Result<Payment, ActivityError> {
        Ok(store::complete(
            &self.db,
            input.order_id,
            &input.charge_id,
            input.amount_cents,
            &self.currency,
        )
        .await?)
    }

    /// Cancels the order and frees its ticket if it still holds it; answers the status after.
    #[activity]
    pub async fn cancel(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CancelInput,
    ) -> Result<Status, ActivityError> {
        Ok(store::cancel(&self.db, input.order_id, input.reason).await?)
    }
}
