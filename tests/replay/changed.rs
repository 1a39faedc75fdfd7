//! A copy of `OrderWorkflow`'s paid path (see the documentation of `mod changed` in `main.rs`).

use std::time::Duration;

use activities::{
    OrderActivities,
    order::{ChargeInput, ChargeOutcome, CompleteInput, ReserveInput, ReserveOutcome},
};
use chrono::{DateTime, Utc};
use temporalio_common::{MemoValue, RetryPolicy};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, CancellableFuture, WorkflowContext, WorkflowResult};
use workflows::{
    OrderInput, OrderOutcome, PayInput, PayOutcome,
    search_attributes::{BUYER_ID, ORDER_STATUS, TICKET_ID},
};

type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The patch id of the change.
pub const PATCH: &str = "fraud-check-delay";

/// How the change is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Change {
    /// Not made: the copy is `OrderWorkflow` as it is.
    #[default]
    None,
    /// `ctx.timer(1 s).await` before reserving, as is.
    Unguarded,
    /// `if ctx.patched(PATCH) { ctx.timer(1 s).await }`.
    Guarded,
    /// `ctx.deprecate_patch(PATCH); ctx.timer(1 s).await`: the next step once no run without
    /// the patch is left, but too early while one is.
    Deprecated,
}

#[workflow]
#[derive(Default)]
pub struct ChangedOrderWorkflow {
    change: Change,
    reservation: Option<ReserveOutcome>,
    complete: bool,
}

impl ChangedOrderWorkflow {
    pub fn with(change: Change) -> Self {
        ChangedOrderWorkflow {
            change,
            ..Default::default()
        }
    }
}

fn database_activity() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_millis(200))
                .build(),
        )
        .build()
}

fn enter(ctx: &WorkflowContext<ChangedOrderWorkflow>, status: &str) {
    ctx.upsert_search_attributes([ORDER_STATUS.value_set(status.to_owned())]);
}

#[workflow_methods]
impl ChangedOrderWorkflow {
    #[run(name = "OrderWorkflow")]
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
            ORDER_STATUS.value_set("reserving".to_owned()),
            TICKET_ID.value_set(input.ticket_id.to_string()),
            BUYER_ID.value_set(input.buyer_id.to_string()),
        ]);

        // The change.
        let fraud_check = Duration::from_secs(1);
        match ctx.state(|s| s.change) {
            Change::None => {}
            Change::Unguarded => {
                ctx.timer(fraud_check).await;
            }
            Change::Guarded => {
                if ctx.patched(PATCH) {
                    ctx.timer(fraud_check).await;
                }
            }
            Change::Deprecated => {
                ctx.deprecate_patch(PATCH);
                ctx.timer(fraud_check).await;
            }
        }

        let outcome = ctx
            .execute_activity(
                OrderActivities::reserve,
                ReserveInput {
                    order_id: input.order_id,
                    ticket_id: input.ticket_id,
                    buyer_id: input.buyer_id,
                    expires_at,
                    reserve_by: None,
                },
                database_activity(),
            )
            .await?;
        ctx.state_mut(|s| s.reservation = Some(outcome.clone()));
        let ReserveOutcome::Reserved(reservation) = outcome else {
            return Ok(OrderOutcome::Rejected(outcome));
        };
        ctx.upsert_memo([("title", Some(MemoValue::new(reservation.title.clone())))])?;
        enter(ctx, "created");

        let mut timer = ctx.timer(window);
        let fired = temporalio_sdk::workflows::select! {
            _ = &mut timer => true,
            _ = ctx.wait_condition(|s| s.complete) => false,
        };
        if fired {
            panic!("this copy only follows orders paid before expiry");
        }
        timer.cancel();
        ctx.wait_condition(|_| ctx.all_handlers_finished()).await?;
        Ok(OrderOutcome::Complete {
            payment_id: uuid::Uuid::nil(),
        })
    }

    #[update]
    pub async fn reservation(
        ctx: &mut WorkflowContext<Self>,
        _input: (),
    ) -> Result<ReserveOutcome, HandlerError> {
        ctx.wait_condition(|s| s.reservation.is_some()).await?;
        ctx.state(|s| s.reservation.clone())
            .ok_or_else(|| "the reservation was not decided".into())
    }

    #[update]
    pub async fn pay(
        ctx: &mut WorkflowContext<Self>,
        input: PayInput,
    ) -> Result<PayOutcome, HandlerError> {
        enter(ctx, "awaiting:payment");
        let Some(ReserveOutcome::Reserved(reservation)) = ctx.state(|s| s.reservation.clone())
        else {
            return Err("Order is not open for payment".into());
        };
        let order_id = reservation.order_id;
        ctx.execute_activity(
            OrderActivities::mark_awaiting_payment,
            order_id,
            database_activity(),
        )
        .await?;
        let charged = ctx
            .execute_activity(
                OrderActivities::charge,
                ChargeInput {
                    order_id,
                    idempotency_key: order_id.to_string(),
                    amount_cents: reservation.price_cents,
                    token: input.token,
                },
                database_activity(),
            )
            .await?;
        let ChargeOutcome::Charged { charge_id } = charged else {
            panic!("this copy only follows orders paid at the first attempt");
        };
        let payment = ctx
            .execute_activity(
                OrderActivities::complete,
                CompleteInput {
                    order_id,
                    charge_id,
                    amount_cents: reservation.price_cents,
                    request_id: None,
                },
                database_activity(),
            )
            .await?;
        enter(ctx, "complete");
        ctx.state_mut(|s| s.complete = true);
        Ok(PayOutcome::Paid {
            payment_id: payment.payment_id,
            charge_id: payment.charge_id,
        })
    }
}
