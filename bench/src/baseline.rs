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
use workflows::{TemporalSettings, temporal, worker};

use crate::progress::Progress;

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

/// What one round of the baseline measured: its rate, and each workflow's id with its time from
/// start to result.
pub(crate) struct Round {
    pub(crate) per_second: f64,
    pub(crate) workflows: Vec<(String, Duration)>,
}

/// [`BaselineWorkflow`]'s worker, on a task queue of its own, and a client like the API's.
pub(crate) struct Baseline {
    client: Client,
    queue: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    worker: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    started: usize,
}

impl Baseline {
    /// Starts the baseline's worker on its own thread, polling as the order worker does.
    pub(crate) async fn start(temporal: &TemporalSettings) -> anyhow::Result<Self> {
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
                    .workflow_task_poller_behavior(worker::workflow_pollers())
                    .activity_task_poller_behavior(worker::activity_pollers())
                    .sticky_queue_schedule_to_start_timeout(worker::STICKY_TIMEOUT)
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
        Ok(Baseline {
            client,
            queue,
            stop: Some(stop),
            worker: Some(worker),
            started: 0,
        })
    }

    /// The client the baseline started its workflows with (to read their histories).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// `n` baseline workflows with `c` in flight.
    pub(crate) async fn round(&mut self, n: usize, c: usize) -> anyhow::Result<Round> {
        let first = self.started;
        self.started += n;
        let progress = Progress::new("baseline", n);
        let started = Instant::now();
        let (client, queue) = (&self.client, &self.queue);
        let results: Vec<anyhow::Result<(String, Duration)>> = stream::iter(first..first + n)
            .map(|i| {
                let progress = progress.clone();
                async move {
                    let t = Instant::now();
                    let id = format!("{queue}-{i}");
                    let handle = client
                        .start_workflow(
                            BaselineWorkflow::run,
                            (),
                            WorkflowStartOptions::new(queue.clone(), id.clone()).build(),
                        )
                        .await?;
                    handle
                        .get_result(WorkflowGetResultOptions::default())
                        .await?;
                    progress.tick();
                    Ok((id, t.elapsed()))
                }
            })
            .buffer_unordered(c)
            .collect()
            .await;
        let seconds = started.elapsed().as_secs_f64();
        let failures = results.iter().filter(|r| r.is_err()).count();
        if failures > 0 {
            bail!(
                "{failures} baseline workflows failed: {:?}",
                results.into_iter().find_map(Result::err)
            );
        }
        Ok(Round {
            per_second: n as f64 / seconds,
            workflows: results.into_iter().flatten().collect(),
        })
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
