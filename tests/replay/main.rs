//! Replay tests: every recorded order history in `tests/histories/*.json` must replay against the
//! current `OrderWorkflow` without a nondeterminism error, so a change to the workflow's command
//! sequence that would break the orders already running fails here, before a deploy.
//!
//! - [`every_recorded_history_replays_against_the_current_workflow`]: the guard itself.
//! - [`fixtures_show_their_scenarios`]: each fixture still is the story its name tells.
//! - [`an_unguarded_change_fails_replay`], [`the_same_change_guarded_by_a_patch_replays`],
//!   [`deprecating_the_patch_while_older_runs_remain_fails_replay`]: why changes need
//!   `ctx.patched`, shown on a copy of the workflow's paid path (see `docs/workflow-changes.md`).
//! - [`generate_fixtures`] (ignored): records the fixtures again from real runs.
//!
//! Replay needs no server; only the generator does.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use temporalio_client::WorkflowHistory;
use temporalio_common::protos::temporal::api::history::v1::{
    HistoryEvent, history_event::Attributes,
};
use temporalio_sdk::workflow_replayer::{
    WorkflowReplayError, WorkflowReplayFailure, WorkflowReplayer, WorkflowReplayerOptions,
};
use workflows::{OrderWorkflow, reconciler::ReconcileWorkflow};

/// The histories every checkout must have (more may be added).
const REQUIRED: [&str; 5] = [
    "paid",
    "expired",
    "cancelled",
    "declined",
    "paid-while-racing-expiry",
];

/// How long one replay may take before it counts as stuck.
const REPLAY_PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The fixtures
// ---------------------------------------------------------------------------------------------

fn histories_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("histories")
}

/// `(name without .json, bytes)` of every fixture, by name.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = histories_dir();
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the fixtures folder {}: {e}", dir.display()));
    let mut fixtures: Vec<(String, Vec<u8>)> = entries
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("a UTF-8 file name")
                .to_owned();
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, bytes)
        })
        .collect();
    fixtures.sort();
    fixtures
}

fn load(name: &str, bytes: &[u8]) -> WorkflowHistory {
    WorkflowHistory::from_json(bytes).unwrap_or_else(|e| {
        panic!(
            "tests/histories/{name}.json is not a history the SDK reads ({e}); capture fixtures \
             with `ticketing history export`, not `temporal workflow show -o json`"
        )
    })
}

async fn events_of(name: &str, bytes: &[u8]) -> Vec<HistoryEvent> {
    load(name, bytes)
        .into_events()
        .await
        .expect("a loaded history has its events")
}

// ---------------------------------------------------------------------------------------------
// Replaying
// ---------------------------------------------------------------------------------------------

/// A replayer of the current `OrderWorkflow` (and the reconciler's `ReconcileWorkflow`, whose
/// fixtures are named `reconcile-*`). It reports nondeterminism as
/// [`WorkflowReplayFailure::Nondeterminism`] (core evicts the run) and a failed workflow task (a
/// panic, a payload that no longer decodes) as `WorkflowTaskFailure`; both fail the tests.
///
/// Leave `workflow_failure_errors` at its default here: with `Nondeterminism` in it (as the
/// production worker has), SDK 1.1.1's replayer never returns on a nondeterministic history.
fn order_replayer() -> WorkflowReplayer {
    WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<OrderWorkflow>()
            .expect("OrderWorkflow registers")
            .register_workflow::<ReconcileWorkflow>()
            .expect("ReconcileWorkflow registers")
            .build(),
    )
    .expect("a replayer")
}

/// Replays one history; `Err` carries the replayer's failure.
async fn replay(
    replayer: &WorkflowReplayer,
    name: &str,
    bytes: &[u8],
) -> Result<(), WorkflowReplayError> {
    tokio::time::timeout(REPLAY_PATIENCE, replayer.replay_workflow(load(name, bytes)))
        .await
        .unwrap_or_else(|_| panic!("replaying {name}.json took more than {REPLAY_PATIENCE:?}"))
}

#[tokio::test]
async fn every_recorded_history_replays_against_the_current_workflow() {
    let fixtures = fixtures();
    let names: Vec<&str> = fixtures.iter().map(|(name, _)| name.as_str()).collect();
    for required in REQUIRED {
        assert!(
            names.contains(&required),
            "tests/histories/{required}.json is missing (have {names:?}); see \
             tests/histories/README.md to record it"
        );
    }

    let replayer = order_replayer();
    let mut failures = Vec::new();
    for (name, bytes) in &fixtures {
        if let Err(error) = replay(&replayer, name, bytes).await {
            failures.push(format!("  {name}.json: {error}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} recorded histories no longer replay against the current OrderWorkflow: a change \
         altered the command sequence of orders that may still be running; guard it with \
         `ctx.patched(..)` (docs/workflow-changes.md)\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// What each history shows
// ---------------------------------------------------------------------------------------------

/// A history as a list of readable steps (`TimerFired`, `ActivityTaskScheduled charge`, `Update
/// pay accepted`...) and the workflow's result (its JSON), to check what a fixture shows.
#[derive(Debug)]
struct Story {
    steps: Vec<String>,
    outcome: Option<String>,
}

impl Story {
    fn of(events: &[HistoryEvent]) -> Self {
        let mut activities = std::collections::HashMap::new();
        let mut steps = Vec::new();
        let mut outcome = None;
        for event in events {
            let kind = format!("{:?}", event.event_type());
            let step = match &event.attributes {
                Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => {
                    let name = a
                        .activity_type
                        .as_ref()
                        .map(|t| t.name.rsplit("::").next().unwrap_or(&t.name).to_owned())
                        .unwrap_or_default();
                    activities.insert(event.event_id, name.clone());
                    format!("{kind} {name}")
                }
                Some(Attributes::ActivityTaskStartedEventAttributes(a)) => {
                    format!(
                        "{kind} {}",
                        activity_name(&activities, a.scheduled_event_id)
                    )
                }
                Some(Attributes::ActivityTaskCompletedEventAttributes(a)) => {
                    format!(
                        "{kind} {}",
                        activity_name(&activities, a.scheduled_event_id)
                    )
                }
                Some(Attributes::ActivityTaskFailedEventAttributes(a)) => {
                    format!(
                        "{kind} {}",
                        activity_name(&activities, a.scheduled_event_id)
                    )
                }
                Some(Attributes::WorkflowExecutionUpdateAcceptedEventAttributes(a)) => {
                    let name = a
                        .accepted_request
                        .as_ref()
                        .and_then(|r| r.input.as_ref())
                        .map(|i| i.name.clone())
                        .unwrap_or_default();
                    format!("{kind} {name}")
                }
                Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) => {
                    outcome = a
                        .result
                        .as_ref()
                        .and_then(|r| r.payloads.first())
                        .map(|p| String::from_utf8_lossy(&p.data).into_owned());
                    kind
                }
                _ => kind,
            };
            steps.push(step);
        }
        Story { steps, outcome }
    }

    fn position(&self, step: &str) -> Option<usize> {
        self.steps.iter().position(|s| s == step)
    }

    fn count(&self, step: &str) -> usize {
        self.steps.iter().filter(|s| *s == step).count()
    }

    fn outcome_is(&self, prefix: &str) -> bool {
        self.outcome
            .as_deref()
            .is_some_and(|o| o.starts_with(prefix))
    }

    /// Checks that the history shows what the fixture `name` is meant to show; names without
    /// a known story are only replayed.
    fn check(&self, name: &str) -> Result<(), String> {
        let fail = |what: &str| {
            Err(format!(
                "{name}.json should show {what}; it shows {self:#?}"
            ))
        };
        let paid = self.outcome_is(r#"{"Complete""#);
        let fired = self.position("TimerFired");
        match name {
            "paid" if !(paid && fired.is_none() && self.position("TimerCanceled").is_some()) => {
                fail("a payment before expiry (timer cancelled) and the order complete")
            }
            "expired"
                if !(fired.is_some()
                    && self.outcome_is(r#"{"Cancelled":{"reason":"expired"}}"#)
                    && self.position("ActivityTaskScheduled charge").is_none()) =>
            {
                fail("the timer firing with no payment, and the order cancelled as expired")
            }
            "cancelled"
                if !(self
                    .position("WorkflowExecutionUpdateAccepted cancel")
                    .is_some()
                    && self.outcome_is(r#"{"Cancelled":{"reason":"cancelled"}}"#)) =>
            {
                fail("the cancel update and the order cancelled by its buyer")
            }
            "declined"
                if !(self.position("ActivityTaskCompleted charge").is_some()
                    && self.outcome_is(r#"{"Cancelled":{"reason":"declined"}}"#)) =>
            {
                fail("a charge and the order cancelled as declined")
            }
            "paid-while-racing-expiry" => {
                let scheduled = self.position("ActivityTaskScheduled charge");
                let charged = self.position("ActivityTaskCompleted charge");
                match (scheduled, fired, charged) {
                    (Some(s), Some(f), Some(c)) if s < f && f < c && paid => Ok(()),
                    _ => fail(
                        "the timer firing while the charge was in flight (scheduled, then \
                         TimerFired, then completed) and the order complete",
                    ),
                }
            }
            "invalid-then-paid"
                if !(paid
                    && self.count("ActivityTaskScheduled charge") == 2
                    && self.position("ActivityTaskScheduled reopen").is_some()) =>
            {
                fail("a refused card (reopen), a second charge, and the order complete")
            }
            "reconcile-repaired"
                if !(self.position("ActivityTaskCompleted reconcile").is_some()
                    && self
                        .outcome
                        .as_deref()
                        .is_some_and(|o| o.contains("cancelled it (reason operator)"))) =>
            {
                fail("the reconcile activity, and an order cancelled by it (reason operator)")
            }
            "rejected"
                if !(self.outcome_is(r#"{"Rejected":"TicketTaken"}"#)
                    && self.position("TimerStarted").is_none()) =>
            {
                fail("the reservation refused (ticket taken) and no timer")
            }
            "deadline-paid"
                if !(paid && fired.is_none() && self.position("TimerCanceled").is_some()) =>
            {
                fail(
                    "a payment before expiry, with the reservation deadline, and the order complete",
                )
            }
            "operator-patch-paid"
                if !(paid && fired.is_none() && self.position("TimerCanceled").is_some()) =>
            {
                fail(
                    "a payment before expiry, with the operator-cancel patch, and the order complete",
                )
            }
            "operator-cancelled"
                if !(self.position("WorkflowExecutionCancelRequested").is_some()
                    && self.outcome_is(r#"{"Cancelled":{"reason":"operator"}}"#)) =>
            {
                fail("an operator's cancel request and the order cancelled by the operator")
            }
            "deadline-too-late"
                if !(self.outcome_is(r#"{"Rejected":"TooLate"}"#)
                    && self.position("TimerStarted").is_none()) =>
            {
                fail("the reservation refused as too late, nothing reserved, and no timer")
            }
            "database-paid"
                if !(paid && fired.is_none() && self.position("TimerCanceled").is_some()) =>
            {
                fail(
                    "a payment before expiry, with the decided-by-database patch, and the order complete",
                )
            }
            "database-expired"
                if !(fired.is_some()
                    && self.outcome_is(r#"{"Cancelled":{"reason":"expired"}}"#)) =>
            {
                fail("the timer firing with no payment, with the decided-by-database patch")
            }
            "database-too-late"
                if !(self.outcome_is(r#"{"Rejected":"TooLate"}"#)
                    && self.position("TimerStarted").is_none()) =>
            {
                fail("the reserve step refusing as too late, and no timer")
            }
            "database-synced"
                if !(self.position("WorkflowExecutionSignaled").is_some()
                    && self.outcome_is(r#"{"Cancelled":{"reason":"operator"}}"#)) =>
            {
                fail("the sync signal, and the order ending as the database holds it (cancelled)")
            }
            _ => Ok(()),
        }
    }
}

fn activity_name(activities: &std::collections::HashMap<i64, String>, scheduled: i64) -> String {
    activities.get(&scheduled).cloned().unwrap_or_default()
}

#[tokio::test]
async fn fixtures_show_their_scenarios() {
    let mut wrong = Vec::new();
    for (name, bytes) in fixtures() {
        let story = Story::of(&events_of(&name, &bytes).await);
        if let Err(e) = story.check(&name) {
            wrong.push(e);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Versioning: why a change to the command sequence needs `ctx.patched`
// ---------------------------------------------------------------------------------------------

/// A copy of the paid path of `OrderWorkflow` (registered under the same type name), with one
/// change that can be left out, made without a guard, guarded by a patch, or with its patch
/// deprecated: a one-second timer before reserving the ticket (say, to let a fraud check
/// settle). The copy issues, for a paid order, the very commands `OrderWorkflow` issues: upsert
/// the search attributes, reserve, upsert the memo and the status, start the expiry timer; then
/// `pay` marks the order awaiting payment, charges, completes; the timer is cancelled. Only what
/// `paid.json` needs is copied (no expiry, no cancel, no refused card).
mod changed;

/// Replays `paid.json` against [`changed::ChangedOrderWorkflow`] with `change`.
async fn replay_paid_with(change: changed::Change) -> Result<(), WorkflowReplayError> {
    let options = WorkflowReplayerOptions::new()
        .register_workflow_with_factory::<changed::ChangedOrderWorkflow, _>(move || {
            changed::ChangedOrderWorkflow::with(change)
        })
        .expect("the changed workflow registers")
        .build();
    let replayer = WorkflowReplayer::new(options).expect("a replayer");
    let bytes = std::fs::read(histories_dir().join("paid.json")).expect("paid.json is there");
    replay(&replayer, "paid", &bytes).await
}

/// The copy without the change replays `paid.json`: whatever fails below is the change's doing.
#[tokio::test]
async fn the_copy_of_the_paid_path_replays_paid_json() {
    if let Err(e) = replay_paid_with(changed::Change::None).await {
        panic!("the copy of OrderWorkflow's paid path no longer matches paid.json: {e}");
    }
}

/// An order that was running when the change was deployed reaches the new code on its next
/// workflow task: the code now asks for a timer where its history has the `reserve` activity,
/// and the run is stuck (a nondeterminism error on every attempt).
#[tokio::test]
async fn an_unguarded_change_fails_replay() {
    match replay_paid_with(changed::Change::Unguarded).await {
        Err(WorkflowReplayError::Replay(WorkflowReplayFailure::Nondeterminism { message })) => {
            eprintln!("as expected, nondeterminism: {message}");
        }
        other => panic!(
            "replaying paid.json with an unguarded timer should be nondeterministic: {other:?}"
        ),
    }
}

/// Guarded, the change is skipped for histories recorded without it (`patched` is false on
/// replay when the history has no marker) and taken by new runs (which record the marker).
#[tokio::test]
async fn the_same_change_guarded_by_a_patch_replays() {
    if let Err(e) = replay_paid_with(changed::Change::Guarded).await {
        panic!("the guarded change should replay paid.json: {e}");
    }
}

/// `deprecate_patch` takes the new path unconditionally: only once no run recorded without the
/// patch is left. Deployed while `paid.json`-like orders still run, it breaks them too.
#[tokio::test]
async fn deprecating_the_patch_while_older_runs_remain_fails_replay() {
    match replay_paid_with(changed::Change::Deprecated).await {
        Err(WorkflowReplayError::Replay(WorkflowReplayFailure::Nondeterminism { .. })) => {}
        other => panic!("a deprecated patch should not replay a history without it: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The generator (ignored): real runs on a Temporal dev server, real HTTP
// ---------------------------------------------------------------------------------------------

mod generator;

/// Records the fixtures of the `reservation-deadline` patch (`deadline-paid`,
/// `deadline-too-late`) from real runs, leaving the older fixtures as they are. Run with
/// `cargo test -p tests --test replay -- --ignored record_deadline_fixtures --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records tests/histories/deadline-*.json from real runs (needs the temporal CLI)"]
async fn record_deadline_fixtures() {
    let system = generator::System::start().await;
    generator::deadline_paid(&system).await.unwrap();
    generator::deadline_too_late(&system).await.unwrap();
    system.stop().await;
}

/// Records the fixtures of the `operator-cancel` patch (`operator-patch-paid`,
/// `operator-cancelled`), leaving the older ones as they are. Run with
/// `cargo test -p tests --test replay -- --ignored record_operator_fixtures --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records tests/histories/operator-*.json from real runs (needs the temporal CLI)"]
async fn record_operator_fixtures() {
    let system = generator::System::start().await;
    generator::shielded_paid(&system).await.unwrap();
    generator::operator_cancelled(&system).await.unwrap();
    system.stop().await;
}

/// Records the fixtures of the `decided-by-database` patch (`database-*`), leaving the older ones
/// as they are. Run with
/// `cargo test -p tests --test replay -- --ignored record_database_fixtures --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records tests/histories/database-*.json from real runs (needs the temporal CLI)"]
async fn record_database_fixtures() {
    let system = generator::System::start().await;
    generator::database_paid(&system).await.unwrap();
    generator::database_expired(&system).await.unwrap();
    generator::database_too_late(&system).await.unwrap();
    generator::database_synced(&system).await.unwrap();
    system.stop().await;
}

/// Records the reconciler's fixture `reconcile-repaired`, leaving the others as they are. Run with
/// `cargo test -p tests --test replay -- --ignored record_reconcile_fixture --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records tests/histories/reconcile-repaired.json from a real run (needs the temporal CLI)"]
async fn record_reconcile_fixture() {
    let system = generator::System::start().await;
    generator::reconcile_repaired(&system).await.unwrap();
    system.stop().await;
}

/// Records every fixture again from real runs: a Temporal dev server (the `temporal` CLI), a
/// fresh database, the app and a worker, real HTTP. Run with
/// `cargo test -p tests --test replay -- --ignored generate_fixtures --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records tests/histories/*.json from real runs (needs the temporal CLI)"]
async fn generate_fixtures() {
    let system = generator::System::start().await;
    generator::reconcile_repaired(&system).await.unwrap();
    generator::paid(&system).await.unwrap();
    generator::cancelled(&system).await.unwrap();
    generator::declined(&system).await.unwrap();
    generator::invalid_then_paid(&system).await.unwrap();
    generator::rejected(&system).await.unwrap();
    generator::expired(&system).await.unwrap();
    // The payment must reach the workflow before the timer fires and still be charging when it
    // does; on a slow machine it may come too late: send it earlier and try again.
    let mut raced = Err(String::new());
    for lead in [400, 700, 1000, 1400] {
        raced = generator::paid_while_racing_expiry(&system, Duration::from_millis(lead)).await;
        match &raced {
            Ok(()) => break,
            Err(e) => eprintln!("race with a lead of {lead} ms not recorded: {e}"),
        }
    }
    raced.unwrap();
    system.stop().await;
}
