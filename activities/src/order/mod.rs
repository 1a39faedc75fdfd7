//! The order lifecycle's activities: [`OrderActivities`], the one `#[activities]` block that
//! registers them with Temporal, and the span and failure helpers they share. Each step's work
//! lives in its own file, with its database writes and the inputs and outcomes it exchanges with
//! the workflow:
//!
//! - [`reserve`]: reserve the ticket and write the order row;
//! - [`payment`]: begin the payment (`created` → `awaiting:payment`), charge through the gateway,
//!   and reopen the order after a charge that took nothing;
//! - [`complete`]: record the payment and complete the order;
//! - [`cancel`]: cancel the order (by the buyer, an operator, a declined card or its expiry) and
//!   free its ticket;
//! - [`facts`]: what the database holds of the order, for a workflow catching up with it.
//!
//! `context.rs` holds what every step runs with (the activities' state, their span, the failure
//! no retry mends); `row.rs` reads the order row and writes over it at the version read.
//!
//! The `#[activities]` macro allows one block per type (it registers every activity of the
//! block), so the methods below stay here, each a call into its step. An activity's name is
//! `OrderActivities::<method>`: recorded histories replay against these names, so they must not
//! change, nor the serde shapes of their inputs and outputs.

pub mod cancel;
pub mod complete;
mod context;
pub mod facts;
pub mod payment;
pub mod reserve;
mod row;

use std::sync::Arc;

use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

pub use cancel::{CancelInput, outcome_of};
pub use complete::{CompleteInput, Payment, RequestId};
pub use entities::order::{CancelReason, Status};
pub use facts::OrderFacts;
pub use payment::ChargeInput;
pub use reserve::{Reservation, ReserveInput, ReserveOutcome};

pub use crate::gateway::ChargeOutcome;
pub use context::OrderActivities;

#[activities]
impl OrderActivities {
    /// Reserves the ticket and writes the order row (see [`reserve::reserve_ticket`]).
    #[activity]
    pub async fn reserve(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ReserveInput,
    ) -> Result<ReserveOutcome, ActivityError> {
        reserve::reserve(&self, &ctx, input).await
    }

    /// `created` → `awaiting:payment` (see [`payment::mark_order_awaiting_payment`]).
    #[activity]
    pub async fn mark_awaiting_payment(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<(), ActivityError> {
        payment::mark_awaiting_payment(&self, &ctx, order_id).await
    }

    /// `created` → `awaiting:payment`, answering what the database holds afterwards (see
    /// [`payment::begin_order_payment`]).
    #[activity]
    pub async fn begin_payment(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<OrderFacts, ActivityError> {
        payment::begin_payment(&self, &ctx, order_id).await
    }

    /// What the database holds of the order (see [`facts::order_facts`]).
    #[activity]
    pub async fn observe(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<OrderFacts, ActivityError> {
        facts::observe(&self, &ctx, order_id).await
    }

    /// `awaiting:payment` → `created`, after an attempt that charged nothing (see
    /// [`payment::reopen_order`]).
    #[activity]
    pub async fn reopen(
        self: Arc<Self>,
        ctx: ActivityContext,
        order_id: Uuid,
    ) -> Result<(), ActivityError> {
        payment::reopen(&self, &ctx, order_id).await
    }

    /// Charges the order's price through the gateway (see [`payment`]).
    #[activity]
    pub async fn charge(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ChargeInput,
    ) -> Result<ChargeOutcome, ActivityError> {
        payment::charge(&self, &ctx, input).await
    }

    /// Records the payment and completes the order (see [`complete::record_payment`]).
    #[activity]
    pub async fn complete(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: CompleteInput,
    ) -> Result<Payment, ActivityError> {
        complete::complete(&self, &ctx, input).await
    }

    /// Cancels the order and frees its ticket (see [`cancel::cancel_order`]).
    #[activity]
    pub async fn cancel(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: CancelInput,
    ) -> Result<Status, ActivityError> {
        cancel::cancel(&self, &ctx, input).await
    }
}
