//! `OrderWorkflow`: one workflow per order (id `order-<orderId>`) owns the order's whole life.
//!
//! 1. It reserves the ticket (the `reserve` activity). The API starts the workflow together with the
//!    `reservation` update, which answers once the reservation is decided, so no reservation ever
//!    exists without the timer below.
//! 2. It waits on a durable timer until `expiresAt`, racing the `pay` and `cancel` updates. A
//!    payment accepted before the timer fires wins: the order is `awaiting:payment` and the timer can
//!    no longer cancel it. Once the timer has fired, payments are refused ([`Refusal::Expired`]) and
//!    the order is cancelled as soon as no payment is in flight.
//! 3. It ends `complete` or `cancelled` (the ticket freed), or `rejected` when the reservation was
//!    refused (no order row exists then).
//!
//! Everything here is deterministic: time comes from `ctx.workflow_time()`, side effects from the
//! activities. The search attributes of [`crate::search_attributes`] and a `title` memo let
//! operators find orders in the Temporal UI. Refusals are [`Refusal`]s.
//!
//! Where each part lives: this file holds the workflow's state, its start (the reservation) and
//! its handlers; `payment.rs` the payment, `expiry.rs` the expiry timer and its race,
//! `cancellation.rs` the cancellation, `adoption.rs` catching up with what the database holds,
//! `phase.rs` the phases and how each is published, `steps.rs` how the activities run (local,
//! retried) behind the patches that moved them.

use std::time::Duration;

use activities::{
    OrderActivities,
    order::{CancelReason, ReserveInput, ReserveOutcome},
};
use chrono::{DateTime, Utc};
use entities::order::WorkflowPhase;
use serde::{Deserialize, Serialize};
use temporalio_macros::workflow_methods;
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};
use uuid::Uuid;

use adoption::{adopt, observe};
use cancellation::cancel_order;
use steps::database_step;

mod adoption;
mod cancellation;
mod expiry;
mod payment;
mod phase;
mod state;
mod steps;

pub use payment::{PayInput, PayOutcome};
use phase::Phase;
pub use state::OrderWorkflow;
use state::{HandlerError, enter, handlers_finished, wait};

use crate::{
    refusal::Refusal,
    search_attributes::{BUYER_ID, ORDER_STATUS, TICKET_ID},
};

/// The patch that gave reservations a deadline ([`OrderInput::reserve_by`]); histories recorded
/// before it reserve without one.
const RESERVATION_DEADLINE: &str = "reservation-deadline";

/// The patch that made an operator's cancellation of the workflow an order cancellation (reason
/// `operator`): the steps run under a token of their own ([`steps::shield`]).
const OPERATOR_CANCEL: &str = "operator-cancel";

/// The patch that makes every decision after a step follow what the database holds, since a step
/// whose workflow task was lost (a Temporal outage, a worker killed) has run all the same:
/// - the reservation is always the `reserve` step's answer (it finds an order row written by a
///   lost attempt and adopts it; it refuses by the deadline itself), never the workflow's clock;
/// - the timer runs until the reservation's own `expiresAt`;
/// - a payment begins with `begin_payment`, which answers the order as the database holds it:
///   paid or cancelled by a lost attempt, the workflow adopts that instead of charging;
/// - a cancellation that finds the order paid adopts its payment (`observe`).
///
/// See `docs/failure-modes.md`.
const DECIDED_BY_DATABASE: &str = "decided-by-database";

/// The workflow id of an order.
pub fn workflow_id(order_id: Uuid) -> String {
    format!("order-{order_id}")
}

/// What starts an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInput {
    pub order_id: Uuid,
    pub ticket_id: Uuid,
    pub buyer_id: Uuid,
    /// How long the order holds the ticket before it expires.
    pub expiration_seconds: u64,
    /// The API's deadline: a reservation attempted after it is refused
    /// ([`ReserveOutcome::TooLate`]), so a request that stopped waiting never becomes an order.
    /// Absent in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_by: Option<DateTime<Utc>>,
}

/// How the workflow ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderOutcome {
    Rejected(ReserveOutcome),
    Complete { payment_id: Uuid },
    Cancelled { reason: CancelReason },
}

/// The live state, from the `state` query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    /// Reserving, rejected, or its order's status.
    pub status: WorkflowPhase,
    pub expires_at: Option<DateTime<Utc>>,
    /// True once the timer has fired.
    pub expired: bool,
    pub cancel_reason: Option<CancelReason>,
    pub payment_id: Option<Uuid>,
}

impl OrderState {
    /// Reserving, or holding its ticket while it waits for payment or expiry.
    pub fn is_open(&self) -> bool {
        match self.status {
            WorkflowPhase::Reserving => true,
            WorkflowPhase::Rejected => false,
            WorkflowPhase::Order(status) => status.is_open(),
        }
    }
}

impl OrderWorkflow {
    fn snapshot(&self) -> OrderState {
        OrderState {
            status: self.phase.public(),
            expires_at: self.expires_at,
            expired: self.expired,
            cancel_reason: match self.phase {
                Phase::Cancelling(r) | Phase::Cancelled(r) => Some(r),
                _ => None,
            },
            payment_id: self.payment_id,
        }
    }
}

#[workflow_methods]
impl OrderWorkflow {
    #[run]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: OrderInput,
    ) -> WorkflowResult<OrderOutcome> {
        let window = Duration::from_secs(input.expiration_seconds);
        let started: DateTime<Utc> = ctx
            .workflow_time()
            .map(DateTime::<Utc>::from)
            .unwrap_or_default();
        let expires_at = started + chrono::Duration::from_std(window).unwrap_or_default();
        ctx.upsert_search_attributes([
            ORDER_STATUS.value_set(Phase::Reserving.label().to_owned()),
            TICKET_ID.value_set(input.ticket_id.to_string()),
            BUYER_ID.value_set(input.buyer_id.to_string()),
        ]);
        ctx.set_current_details(Phase::Reserving.details(None));

        if ctx.patched(OPERATOR_CANCEL) {
            ctx.state_mut(|s| s.shielded = true);
        }
        let reserve_by = if ctx.patched(RESERVATION_DEADLINE) {
            input.reserve_by
        } else {
            None
        };
        let by_database = ctx.patched(DECIDED_BY_DATABASE);
        ctx.state_mut(|s| s.by_database = by_database);
        // Before the patch the workflow's clock could refuse the reservation; but that clock is
        // the time of the workflow task, and a task run again after a lost one (whose step may
        // have reserved) comes later: since it, only the step decides.
        let outcome = if !by_database && reserve_by.is_some_and(|by| started > by) {
            // The workflow started after the API stopped waiting: nobody is told of this order.
            ReserveOutcome::TooLate
        } else {
            let reserve = ReserveInput {
                order_id: input.order_id,
                ticket_id: input.ticket_id,
                buyer_id: input.buyer_id,
                expires_at,
                reserve_by,
            };
            database_step(ctx, OrderActivities::reserve, reserve, "reserve ticket").await?
        };
        let reservation = match &outcome {
            ReserveOutcome::Reserved(reservation) => reservation.clone(),
            refused => {
                ctx.state_mut(|s| s.reservation = Some(refused.clone()));
                enter(ctx, Phase::Rejected);
                handlers_finished(ctx).await?;
                return Ok(OrderOutcome::Rejected(refused.clone()));
            }
        };
        ctx.upsert_memo([(
            "title",
            Some(temporalio_common::MemoValue::new(reservation.title.clone())),
        )])?;
        ctx.state_mut(|s| {
            s.expires_at = Some(reservation.expires_at);
            s.reservation = Some(outcome.clone());
        });
        enter(ctx, Phase::Created);

        expiry::race(ctx, input.order_id, &reservation, window, started).await?;

        wait(ctx, |s| s.phase.is_final()).await?;
        handlers_finished(ctx).await?;
        let (phase, payment_id) = ctx.state(|s| (s.phase, s.payment_id));
        Ok(match (phase, payment_id) {
            (Phase::Complete, Some(payment_id)) => OrderOutcome::Complete { payment_id },
            (Phase::Cancelled(reason), _) => OrderOutcome::Cancelled { reason },
            _ => OrderOutcome::Cancelled {
                reason: CancelReason::Cancelled,
            },
        })
    }

    /// Answers once the reservation is decided: reserved, or why not.
    #[update]
    pub async fn reservation(
        ctx: &mut WorkflowContext<Self>,
        _input: (),
    ) -> Result<ReserveOutcome, HandlerError> {
        wait(ctx, |s| s.reservation.is_some()).await?;
        ctx.state(|s| s.reservation.clone())
            .ok_or_else(|| "the reservation was not decided".into())
    }

    #[update_validator(pay)]
    fn validate_pay(
        &self,
        _ctx: &WorkflowContextView,
        input: &PayInput,
    ) -> Result<(), HandlerError> {
        if input.token.trim().is_empty() {
            return Err(Refusal::TokenRequired.into_error());
        }
        match self.payment_refusal() {
            Some(refusal) => Err(refusal.into_error()),
            None => Ok(()),
        }
    }

    /// Charges the order's price once and completes it; a declined card cancels it.
    #[update]
    pub async fn pay(
        ctx: &mut WorkflowContext<Self>,
        input: PayInput,
    ) -> Result<PayOutcome, HandlerError> {
        payment::pay(ctx, input).await
    }

    #[update_validator(cancel)]
    fn validate_cancel(&self, _ctx: &WorkflowContextView, _input: &()) -> Result<(), HandlerError> {
        match self.cancel_refusal() {
            Some(refusal) => Err(refusal.into_error()),
            None => Ok(()),
        }
    }

    /// Cancels the order and frees its ticket; a no-op for an order already cancelled.
    #[update]
    pub async fn cancel(ctx: &mut WorkflowContext<Self>, _input: ()) -> Result<(), HandlerError> {
        if let Some(refusal) = ctx.state(|s| s.cancel_refusal()) {
            return Err(refusal.into_error());
        }
        if ctx.state(|s| s.phase) == Phase::Created {
            let order_id = ctx.state(|s| match &s.reservation {
                Some(ReserveOutcome::Reserved(r)) => Some(r.order_id),
                _ => None,
            });
            if let Some(order_id) = order_id {
                cancel_order(ctx, order_id, CancelReason::Cancelled).await?;
            }
        }
        wait(ctx, |s| s.phase.is_final()).await?;
        match ctx.state(|s| s.phase) {
            Phase::Complete => Err(Refusal::CannotCancelCompleted.into_error()),
            _ => Ok(()),
        }
    }

    /// Catches up with the database: an order that the database holds as paid or cancelled (by a
    /// step whose workflow task was lost) ends so here too. Sent by the API and the reconciler
    /// when they find the two apart; a no-op otherwise, and while a step is in flight.
    #[signal]
    pub async fn sync(ctx: &mut WorkflowContext<Self>, _input: ()) {
        let order_id = ctx.state(|s| match (&s.reservation, s.phase) {
            (Some(ReserveOutcome::Reserved(r)), Phase::Created) => Some(r.order_id),
            _ => None,
        });
        let Some(order_id) = order_id else {
            return;
        };
        if let Ok(facts) = observe(ctx, order_id).await
            && ctx.state(|s| s.phase) == Phase::Created
        {
            adopt(ctx, &facts);
        }
    }

    /// The live state of the order.
    #[query]
    pub fn state(&self, _ctx: &WorkflowContextView) -> OrderState {
        self.snapshot()
    }
}
