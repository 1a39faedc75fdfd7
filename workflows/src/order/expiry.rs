//! The expiry timer: a durable timer until the reservation's `expiresAt`, raced against a payment
//! or a cancellation. Once it fires, payments are refused and the order is cancelled as soon as
//! no payment is in flight; an operator's cancellation of the workflow ends the race too.

use std::time::Duration;

use activities::order::{CancelReason, Reservation};
use chrono::{DateTime, Utc};
use temporalio_sdk::{CancellableFuture, WorkflowContext, WorkflowResult};
use uuid::Uuid;

use super::{
    cancellation::cancel_order,
    phase::Phase,
    state::{OrderWorkflow, wait},
};

/// Runs the race for the order `order_id` holding `reservation`, whose workflow started at
/// `started` with an order window of `window`.
pub(super) async fn race(
    ctx: &WorkflowContext<OrderWorkflow>,
    order_id: Uuid,
    reservation: &Reservation,
    window: Duration,
    started: DateTime<Utc>,
) -> WorkflowResult<()> {
    let by_database = ctx.state(|s| s.by_database);
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
            cancel_order(ctx, order_id, CancelReason::Operator).await?;
        }
    } else if timer_fired {
        ctx.state_mut(|s| s.expired = true);
        // A payment already in flight finishes first; if it charged nothing, the order expires.
        wait(ctx, |s| s.phase != Phase::AwaitingPayment).await?;
        if ctx.state(|s| s.phase) == Phase::Created {
            cancel_order(ctx, order_id, CancelReason::Expired).await?;
        }
    } else {
        timer.cancel();
    }
    Ok(())
}
