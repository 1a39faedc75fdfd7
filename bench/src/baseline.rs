//! The benchmark's baseline: the least a workflow can be (one no-op activity), to measure
//! `OrderWorkflow` against on the same server (`ticketing bench`).

use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::{StreamExt, stream};
use temporalio_client::{Client, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult,
    activities::{ActivityContext, ActivityError},
};
use workflows::{TemporalSettings, temporal};

use crate::report::Progress;

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

/// What the baseline measured: its rate, and each workflow's time from start to result.
pub(crate) struct Baseline {
    pub(crate) per_second: f64,
    pub(crate) latencies: Vec<Duration>,
}

/// [`BaselineWorkflow`] (one no-op activity), `n` of them with `c` in flight, with a worker of its
/// own on a queue of its own: workflows/s, and the time of each from start to result.
pub(crate) async fn measure(
    temporal: &TemporalSettings,
    n: usize,
    c: usize,
) -> anyhow::Result<Baseline> {
    let queue = format!("bench-baseline-{}", std::process::id());
    let config = TemporalSettings {
        task_queue: queue.clone(),
        ..temporal.clone()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker_config = config.clone();
    let worker = std::thread::spawn(move || -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let client = temporal::connect(&worker_config, Duration::from_secs(10)).await?;
            let sdk = Runtime::from_current_tokio(Default::default())?;
            let options = WorkerOptions::new(worker_config.task_queue.clone())
                .register_workflow::<BaselineWorkflow>()?
                .register_activities(BaselineActivities)
                .build();
            let mut worker = Worker::new(&sdk, client, options)?;
            let shutdown = worker.shutdown_handle();
            let mut run = std::pin::pin!(worker.run());
            tokio::select! {
                _ = stopped => { shutdown(); run.await?; }
                ran = &mut run => { ran?; }
            }
            Ok(())
        })
    });
    let client: Client = temporal::connect(&config, Duration::from_secs(10)).await?;
    let progress = Progress::new("baseline", n);
    let started = Instant::now();
    let results: Vec<anyhow::Result<Duration>> = stream::iter(0..n)
        .map(|i| {
            let (client, queue, progress) = (&client, &queue, progress.clone());
            async move {
                let t = Instant::now();
                let id = format!("{queue}-{i}");
                let handle = client
                    .start_workflow(
                        BaselineWorkflow::run,
                        (),
                        WorkflowStartOptions::new(queue.clone(), id).build(),
                    )
                    .await?;
                handle
                    .get_result(WorkflowGetResultOptions::default())
                    .await?;
                progress.tick();
                Ok(t.elapsed())
            }
        })
        .buffer_unordered(c)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let _ = worker.join();
    let failures = results.iter().filter(|r| r.is_err()).count();
    if failures > 0 {
        bail!(
            "{failures} baseline workflows failed: {:?}",
            results.into_iter().find_map(Result::err)
        );
    }
    Ok(Baseline {
        per_second: n as f64 / seconds,
        latencies: results.into_iter().flatten().collect(),
    })
}
