//! The benchmark's baseline: the least a workflow can be (one no-op activity), to measure
//! `OrderWorkflow` against on the same server (`ticketing bench`).

use std::time::Duration;

use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};

#[workflow]
#[derive(Default)]
pub struct BaselineWorkflow;

#[workflow_methods]
impl BaselineWorkflow {
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>, _input: ()) -> WorkflowResult<()> {
        ctx.execute_activity(
            BaselineActivities::noop,
            (),
            ActivityOptions::with_start_to_close_timeout(Duration::from_secs(10)).build(),
        )
        .await?;
        Ok(())
    }
}

pub struct BaselineActivities;

#[activities]
impl BaselineActivities {
    #[activity]
    pub async fn noop(_ctx: ActivityContext, _input: ()) -> Result<(), ActivityError> {
        Ok(())
    }
}
