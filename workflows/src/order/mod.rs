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

use std::time::Duration;

use activities::{
    OrderActivities,
    types::{
        CancelInput, CancelReason, ChargeInput, ChargeOutcome, CompleteInput, OrderFacts,
        RequestId, ReserveInput, ReserveOutcome, Status,
    },
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{CancellableFuture, WorkflowContext, WorkflowContextView, WorkflowResult};
use uuid::Uuid;

use steps::{charge, database_step};

mod steps;

use crate::{
    refusal::{self, Refusal},
    search_attributes::{BUYER_ID, EXPIRES_AT, ORDER_OUTCOME, ORDER_STATUS, TICKET_ID},
};

type HandlerError = Box<dyn std::error::Error + Send + Sync>;

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

/// Waits for `condition`, under the steps' token: an operator's cancellation does not cut it.
async fn wait(
    ctx: &WorkflowContext<OrderWorkflow>,
    condition: impl FnMut(&OrderWorkflow) -> bool,
) -> WorkflowResult<()> {
    let options = temporalio_workflow::WaitConditionOptions::builder()
        .maybe_cancellation_token(steps::shield(ctx))
        .build();
    ctx.wait_condition_with_options(condition, options).await?;
    Ok(())
}

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

/// The `pay` update's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayInput {
    /// The card token from the client (`tok_visa`, ...).
    pub token: String,
    /// This request's id (the update's id): recorded with the payment it makes, so that the
    /// request is answered by what was recorded. Absent in histories recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
}

/// How a payment ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PayOutcome {
    /// Charged once and recorded; the order is complete.
    Paid { payment_id: Uuid, charge_id: String },
    /// The card was declined; the order is cancelled and its ticket freed.
    Declined { message: String },
    /// The payment was refused as invalid; nothing was charged and the order is open again.
    Invalid { message: String },
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
    /// `reserving`, `rejected`, or an order status (`created`, `awaiting:payment`, `cancelled`,
    /// `complete`).
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// True once the timer has fired.
    pub expired: bool,
    pub cancel_reason: Option<CancelReason>,
    pub payment_id: Option<Uuid>,
}

impl OrderState {
    /// Reserving, or holding its ticket while it waits for payment or expiry.
    pub fn is_open(&self) -> bool {
        [Phase::Reserving, Phase::Created, Phase::AwaitingPayment]
            .iter()
            .any(|phase| phase.label() == self.status)
    }
}

/// Where the order is; finer than [`Status`] so that handlers can tell work in flight apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Reserving,
    Rejected,
    Created,
    AwaitingPayment,
    Cancelling(CancelReason),
    Cancelled(CancelReason),
    Complete,
}

impl Phase {
    fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Rejected | Phase::Cancelled(_) | Phase::Complete
        )
    }

    /// How an order that ended in this phase ended (the `OrderOutcome` search attribute).
    fn outcome(self) -> Option<telemetry::OrderOutcome> {
        match self {
            Phase::Rejected => Some(telemetry::OrderOutcome::Rejected),
            Phase::Complete => Some(telemetry::OrderOutcome::Complete),
            Phase::Cancelled(reason) => Some(activities::outcome_of(reason)),
            _ => None,
        }
    }

    /// What the workflow is doing in this phase, for the Temporal UI ("current details").
    fn details(self, expires_at: Option<DateTime<Utc>>) -> String {
        match self {
            Phase::Reserving => "Reserving the ticket.".to_owned(),
            Phase::Created => match expires_at {
                Some(at) => format!(
                    "Waiting for the buyer to pay (or cancel) until the order expires at {}.",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                None => "Waiting for the buyer to pay (or cancel).".to_owned(),
            },
            Phase::AwaitingPayment => {
                "Charging the card; the order can no longer expire.".to_owned()
            }
            Phase::Cancelling(reason) => {
                format!("Cancelling the order ({reason}) and freeing its ticket.")
            }
            Phase::Rejected => "Ended: the reservation was refused (no order was made).".to_owned(),
            Phase::Cancelled(reason) => format!(
                "Ended: {}; the ticket is free again.",
                match reason {
                    CancelReason::Expired => "expired unpaid",
                    CancelReason::Declined => "the card was declined",
                    CancelReason::Cancelled => "cancelled by the buyer",
                    CancelReason::Operator => "cancelled by an operator",
                }
            ),
            Phase::Complete => "Ended: paid; the ticket is sold.".to_owned(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Phase::Reserving => "reserving",
            Phase::Rejected => "rejected",
            Phase::Created => Status::Created.as_str(),
            Phase::AwaitingPayment => Status::AwaitingPayment.as_str(),
            // Being cancelled is, for everyone outside, already cancelled.
            Phase::Cancelling(_) | Phase::Cancelled(_) => Status::Cancelled.as_str(),
            Phase::Complete => Status::Complete.as_str(),
        }
    }
}

#[workflow]
#[derive(Default)]
pub struct OrderWorkflow {
    phase: Phase,
    /// Set once the reservation is decided.
    reservation: Option<ReserveOutcome>,
    expires_at: Option<DateTime<Utc>>,
    /// The timer has fired.
    expired: bool,
    payment_id: Option<Uuid>,
    /// Payment attempts that were refused as invalid (nothing charged); each new attempt gets a
    /// new idempotency key, while a retried attempt keeps its own.
    refused_attempts: u32,
    /// The steps and waits run under tokens of their own (see [`steps::shield`]).
    shielded: bool,
    /// Decisions follow the database (the patch [`DECIDED_BY_DATABASE`]).
    by_database: bool,
}

impl OrderWorkflow {
    fn snapshot(&self) -> OrderState {
        OrderState {
            status: self.phase.label().to_owned(),
            expires_at: self.expires_at,
            expired: self.expired,
            cancel_reason: match self.phase {
                Phase::Cancelling(r) | Phase::Cancelled(r) => Some(r),
                _ => None,
            },
            payment_id: self.payment_id,
        }
    }

    /// Why a payment cannot be taken now.
    fn payment_refusal(&self) -> Option<Refusal> {
        match self.phase {
            Phase::Complete => Some(Refusal::AlreadyPaid),
            Phase::Cancelling(CancelReason::Expired) | Phase::Cancelled(CancelReason::Expired) => {
                Some(Refusal::Expired)
            }
            Phase::Cancelling(_) | Phase::Cancelled(_) => Some(Refusal::Cancelled),
            _ if self.expired => Some(Refusal::Expired),
            Phase::AwaitingPayment => Some(Refusal::BeingPaid),
            Phase::Reserving | Phase::Rejected => Some(Refusal::NotOpenForPayment),
            Phase::Created => None,
        }
    }

    /// Why the order cannot be cancelled now.
    fn cancel_refusal(&self) -> Option<Refusal> {
        match self.phase {
            Phase::Complete => Some(Refusal::CannotCancelCompleted),
            Phase::AwaitingPayment => Some(Refusal::CannotCancelWhilePaying),
            Phase::Reserving | Phase::Rejected => Some(Refusal::NotOpen),
            _ => None,
        }
    }
}

/// Moves to `phase` and publishes it: the `OrderStatus` search attribute (with `ExpiresAt` once
/// the order holds its ticket, `OrderOutcome` once it ended, in the same one upsert, so the
/// command sequence is as it always was) and the workflow's current details.
fn enter(ctx: &WorkflowContext<OrderWorkflow>, phase: Phase) {
    let expires_at = ctx.state_mut(|s| {
        s.phase = phase;
        s.expires_at
    });
    let mut updates = vec![ORDER_STATUS.value_set(phase.label().to_owned())];
    if let (Phase::Created, Some(at)) = (phase, expires_at) {
        updates.push(EXPIRES_AT.value_set(std::time::SystemTime::from(at).into()));
    }
    if let Some(outcome) = phase.outcome() {
        updates.push(ORDER_OUTCOME.value_set(outcome.as_str().to_owned()));
    }
    ctx.upsert_search_attributes(updates);
    ctx.set_current_details(phase.details(expires_at));
}

/// Cancels the order for `reason` (the activity frees the ticket if the order still holds it).
async fn cancel_order(
    ctx: &WorkflowContext<OrderWorkflow>,
    order_id: Uuid,
    reason: CancelReason,
) -> WorkflowResult<()> {
    enter(ctx, Phase::Cancelling(reason));
    let status = database_step(
        ctx,
        OrderActivities::cancel,
        CancelInput { order_id, reason },
        &format!("cancel order ({reason}), free ticket"),
    )
    .await?;
    if status == Status::Complete {
        if ctx.state(|s| s.by_database && s.payment_id.is_none()) {
            // Paid by an attempt whose workflow task was lost: its payment is the order's.
            let facts = observe(ctx, order_id).await?;
            adopt(ctx, &facts);
        }
        enter(ctx, Phase::Complete);
    } else {
        enter(ctx, Phase::Cancelled(reason));
    }
    Ok(())
}

/// Reads what the database holds of the order.
async fn observe(
    ctx: &WorkflowContext<OrderWorkflow>,
    order_id: Uuid,
) -> Result<OrderFacts, temporalio_common::error::ActivityExecutionError> {
    database_step(ctx, OrderActivities::observe, order_id, "read the order").await
}

/// Takes on an order's end that the database holds (written by an attempt whose workflow task was
/// lost): its payment, or its cancellation. Returns whether the order has ended there.
fn adopt(ctx: &WorkflowContext<OrderWorkflow>, facts: &OrderFacts) -> bool {
    match (facts.status, &facts.payment) {
        (Status::Complete, payment) => {
            let payment_id = payment.as_ref().map(|p| p.payment_id);
            ctx.state_mut(|s| s.payment_id = s.payment_id.or(payment_id));
            if ctx.state(|s| s.phase) != Phase::Complete {
                enter(ctx, Phase::Complete);
            }
            true
        }
        (Status::Cancelled, _) => {
            let reason = facts.cancel_reason.unwrap_or(CancelReason::Operator);
            if ctx.state(|s| !s.phase.is_final()) {
                enter(ctx, Phase::Cancelled(reason));
            }
            true
        }
        (Status::Created | Status::AwaitingPayment, _) => false,
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

        // The race: the timer against a payment or a cancellation. `select!` is biased: within
        // one activation the timer, listed first, wins a tie.
        // An operator's cancellation of the workflow ends the race too (the timer and this wait
        // are the workflow's own, not the steps').
        // Since the patch, until the reservation's own `expiresAt` (a reservation adopted from a
        // lost workflow task was made earlier than this task's time).
        let left = if by_database {
            let now: DateTime<Utc> = ctx
                .workflow_time()
                .map(DateTime::<Utc>::from)
                .unwrap_or(started);
            // In whole seconds: the database keeps `expiresAt` to the microsecond, so a window
            // reserved by this very task reads back a hair short of it.
            let left = (reservation.expires_at - now).to_std().unwrap_or_default();
            Duration::from_secs(left.as_secs_f64().round() as u64).max(Duration::from_millis(1))
        } else {
            window
        };
        let mut timer = ctx.timer(
            temporalio_sdk::TimerOptions::builder(left)
                .summary(format!(
                    "order expiry: expires the order at {} unless it is paid",
                    reservation
                        .expires_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))
                .build(),
        );
        let timer_fired = temporalio_sdk::workflows::select! {
            _ = &mut timer => true,
            _ = ctx.wait_condition(|s| s.phase.is_final()) => false,
        };
        let operator = ctx.state(|s| s.shielded) && ctx.cancellation_token().is_cancelled();
        if operator {
            // A payment in flight finishes first; an order still open is cancelled.
            wait(ctx, |s| s.phase != Phase::AwaitingPayment).await?;
            if ctx.state(|s| s.phase) == Phase::Created {
                cancel_order(ctx, input.order_id, CancelReason::Operator).await?;
            }
        } else if timer_fired {
            ctx.state_mut(|s| s.expired = true);
            // A payment already in flight finishes first; if it charged nothing, the order expires.
            wait(ctx, |s| s.phase != Phase::AwaitingPayment).await?;
            if ctx.state(|s| s.phase) == Phase::Created {
                cancel_order(ctx, input.order_id, CancelReason::Expired).await?;
            }
        } else {
            timer.cancel();
        }

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
        // Checked again here: two payments validated in one activation must not both proceed.
        if let Some(refusal) = ctx.state(|s| s.payment_refusal()) {
            return Err(refusal.into_error());
        }
        enter(ctx, Phase::AwaitingPayment);
        let (reservation, attempt, by_database) =
            ctx.state(|s| (s.reservation.clone(), s.refused_attempts, s.by_database));
        let Some(ReserveOutcome::Reserved(reservation)) = reservation else {
            return Err(Refusal::NotOpenForPayment.into_error());
        };
        let order_id = reservation.order_id;
        if by_database {
            let facts = database_step(
                ctx,
                OrderActivities::begin_payment,
                order_id,
                "mark order as being paid",
            )
            .await?;
            if adopt(ctx, &facts) {
                // Paid or cancelled by an attempt whose workflow task was lost: nothing is
                // charged now. This request is answered by what was recorded.
                return match facts.payment {
                    Some(payment) if payment.made_by(input.request_id.as_ref()) => {
                        Ok(PayOutcome::Paid {
                            payment_id: payment.payment_id,
                            charge_id: payment.charge_id,
                        })
                    }
                    _ => Err(ctx
                        .state(|s| s.payment_refusal())
                        .unwrap_or(Refusal::AlreadyPaid)
                        .into_error()),
                };
            }
        } else {
            database_step(
                ctx,
                OrderActivities::mark_awaiting_payment,
                order_id,
                "mark order as being paid",
            )
            .await?;
        }
        let charged = charge(
            ctx,
            ChargeInput {
                order_id,
                idempotency_key: if attempt == 0 {
                    order_id.to_string()
                } else {
                    format!("{order_id}-{attempt}")
                },
                amount_cents: reservation.price_cents,
                token: input.token,
            },
        )
        .await;
        match charged {
            Ok(ChargeOutcome::Charged { charge_id }) => {
                let payment = database_step(
                    ctx,
                    OrderActivities::complete,
                    CompleteInput {
                        order_id,
                        charge_id,
                        amount_cents: reservation.price_cents,
                        request_id: input.request_id.clone(),
                    },
                    "record payment, complete order",
                )
                .await?;
                ctx.state_mut(|s| s.payment_id = Some(payment.payment_id));
                enter(ctx, Phase::Complete);
                Ok(PayOutcome::Paid {
                    payment_id: payment.payment_id,
                    charge_id: payment.charge_id,
                })
            }
            Ok(ChargeOutcome::Declined { message }) => {
                cancel_order(ctx, order_id, CancelReason::Declined).await?;
                Ok(PayOutcome::Declined { message })
            }
            Ok(ChargeOutcome::Invalid { message }) => {
                reopen(ctx, order_id).await?;
                Ok(PayOutcome::Invalid { message })
            }
            Err(failure) => {
                // Only a non-retryable refusal ends the retries: nothing was charged.
                reopen(ctx, order_id).await?;
                Err(refusal::payment_not_processed(failure))
            }
        }
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

/// Waits until every update handler has answered, so that none is cut off by the workflow ending.
async fn handlers_finished(ctx: &WorkflowContext<OrderWorkflow>) -> WorkflowResult<()> {
    wait(ctx, |_| ctx.all_handlers_finished()).await
}

/// Opens the order again after a payment attempt that charged nothing.
async fn reopen(ctx: &WorkflowContext<OrderWorkflow>, order_id: Uuid) -> WorkflowResult<()> {
    database_step(
        ctx,
        OrderActivities::reopen,
        order_id,
        "reopen order (nothing charged)",
    )
    .await?;
    ctx.state_mut(|s| s.refused_attempts += 1);
    enter(ctx, Phase::Created);
    Ok(())
}
