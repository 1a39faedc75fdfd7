//! How the order workflow runs its activities: the retry policies, and which steps are local
//! activities (behind the patches that moved them, so older histories still replay).

use std::time::Duration;

use activities::{
    OrderActivities,
    order::{ChargeInput, ChargeOutcome},
};
use temporalio_common::{
    ActivityDefinition, RetryPolicy, data_converters::TemporalDeserializable,
    error::ActivityExecutionError,
};
use temporalio_sdk::{ActivityOptions, LocalActivityOptions, WorkflowContext};

use super::state::{OrderWorkflow, shield};

/// Retry policy of database activities: retried until the database answers again.
fn database_activity() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10))
        .retry_policy(database_retry_policy())
        .build()
}

fn database_retry_policy() -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(Duration::from_millis(200))
        .backoff_coefficient(2.0)
        .maximum_interval(Duration::from_secs(10))
        .build()
}

/// The patch that moved the database steps to local activities; histories recorded before it used
/// regular activities for them and still replay that way.
const LOCAL_DATABASE_STEPS: &str = "local-database-steps";

/// A database step (reserve, mark, complete, cancel, reopen): short, so it runs as a local
/// activity, in the worker that runs the workflow, without a round trip through the task queue.
/// Its result is recorded in the history (a marker) like any activity's, and it is retried with
/// the same policy until the database answers.
pub(super) async fn database_step<AD>(
    ctx: &WorkflowContext<OrderWorkflow>,
    activity: AD,
    input: AD::Input,
    summary: &str,
) -> Result<AD::Output, ActivityExecutionError>
where
    AD: ActivityDefinition,
    AD::Output: TemporalDeserializable,
{
    if ctx.patched(LOCAL_DATABASE_STEPS) {
        let options = LocalActivityOptions::builder()
            .start_to_close_timeout(Duration::from_secs(10))
            .retry_policy(database_retry_policy())
            .maybe_cancellation_token(shield(ctx))
            .summary(summary.to_owned())
            .build();
        ctx.execute_local_activity(activity, input, options).await
    } else {
        let mut options = database_activity();
        options.cancellation_token = shield(ctx);
        options.summary = Some(summary.to_owned());
        ctx.execute_activity(activity, input, options).await
    }
}

/// Retry policy of the charge: retried (with the same idempotency key, so never charged twice)
/// until the provider gives an answer; a refusal of our credentials is not retried.
fn charge_activity() -> ActivityOptions {
    // Longer than the gateway's own request timeout (10 s), short enough that a charge lost with
    // a crashed worker is retried soon.
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(15))
        .retry_policy(charge_retry_policy())
        .build()
}

fn charge_retry_policy() -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(Duration::from_secs(1))
        .backoff_coefficient(2.0)
        .maximum_interval(Duration::from_secs(30))
        .build()
}

/// What the Temporal UI says of the charge.
const CHARGE_SUMMARY: &str = "charge card";

/// The patch that made the charge a local activity (no round trip through the task queue). The
/// idempotency key keeps a charge retried after a crash from charging twice, as before.
const LOCAL_CHARGE: &str = "local-charge";

/// Charges through the gateway: a local activity since [`LOCAL_CHARGE`], a regular one in
/// histories recorded before it.
pub(super) async fn charge(
    ctx: &WorkflowContext<OrderWorkflow>,
    input: ChargeInput,
) -> Result<ChargeOutcome, ActivityExecutionError> {
    if ctx.patched(LOCAL_CHARGE) {
        let options = LocalActivityOptions::builder()
            .start_to_close_timeout(Duration::from_secs(15))
            .retry_policy(charge_retry_policy())
            .maybe_cancellation_token(shield(ctx))
            .summary(CHARGE_SUMMARY.to_owned())
            .build();
        ctx.execute_local_activity(OrderActivities::charge, input, options)
            .await
    } else {
        let mut options = charge_activity();
        options.cancellation_token = shield(ctx);
        options.summary = Some(CHARGE_SUMMARY.to_owned());
        ctx.execute_activity(OrderActivities::charge, input, options)
            .await
    }
}
