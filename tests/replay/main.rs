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
use workflows::OrderWorkflow;

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

/// A replayer of the current `OrderWorkflow`. It reports nondeterminism as
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
            "rejected"
                if !(self.outcome_is(r#"{"Rejected":"TicketTaken"}"#)
                    && self.position("TimerStarted").is_none()) =>
            {
                fail("the reservation refused (ticket taken) and no timer")
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
mod changed {
    use std::time::Duration;

    use activities::{
        OrderActivities,
        types::{ChargeInput, ChargeOutcome, CompleteInput, ReserveInput, ReserveOutcome},
    };
    use chrono::{DateTime, Utc};
    use temporalio_common::{MemoValue, RetryPolicy};
    use temporalio_macros::{workflow, workflow_methods};
    use temporalio_sdk::{ActivityOptions, CancellableFuture, WorkflowContext, WorkflowResult};
    use workflows::{
        BUYER_ID, ORDER_STATUS, OrderInput, OrderOutcome, PayInput, PayOutcome, TICKET_ID,
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
}

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

mod generator {
    use std::{sync::Arc, time::Duration};

    use activities::{
        PaymentGateway,
        gateway::{ChargeOutcome, ChargeRequest, GatewayError, SandboxGateway},
        types::ReserveOutcome,
    };
    use api::config::{
        AppConfig, GatewayConfig, HistoryExportArgs, TemporalArgs, TemporalConfig, WorkerConfig,
    };
    use reqwest::StatusCode;
    use serde_json::{Value, json};
    use temporalio_client::{
        Client, UntypedWorkflow, WorkflowDescribeOptions, WorkflowExecutionStatus,
        WorkflowIdConflictPolicy, WorkflowUpdateWithStartOptions,
    };
    use tests::TestDatabase;
    use uuid::Uuid;
    use workflows::{OrderInput, OrderWorkflow, workflow_id};

    use super::{Story, events_of, histories_dir};

    /// The order window of the app used for the expiry cases.
    const SHORT_WINDOW: u64 = 2;
    /// The card token whose charge takes [`SLOW_CHARGE`]: the payment is still in flight when
    /// the timer fires.
    const SLOW_TOKEN: &str = "tok_slow";
    const SLOW_CHARGE: Duration = Duration::from_millis(2500);
    const PATIENCE: Duration = Duration::from_secs(60);

    /// The sandbox, but a charge with [`SLOW_TOKEN`] first waits [`SLOW_CHARGE`].
    struct SlowSandbox(SandboxGateway);

    #[async_trait::async_trait]
    impl PaymentGateway for SlowSandbox {
        async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
            if request.token == SLOW_TOKEN {
                tokio::time::sleep(SLOW_CHARGE).await;
            }
            self.0.charge(request).await
        }

        fn name(&self) -> &'static str {
            "slow sandbox"
        }
    }

    /// Two apps (orders of 900 s and of [`SHORT_WINDOW`] s) on one database and task queue, one
    /// worker, the shared test dev server.
    pub struct System {
        long: String,
        short: String,
        http: reqwest::Client,
        temporal: Client,
        config: TemporalConfig,
        worker: Option<tests::TestWorker>,
        _db: TestDatabase,
    }

    /// A signed-up user.
    pub struct User {
        id: Uuid,
        token: String,
    }

    impl System {
        pub async fn start() -> Self {
            let db = TestDatabase::create().await;
            let config = TemporalConfig {
                address: tests::temporal_address().to_owned(),
                namespace: "default".into(),
                task_queue: format!("replay-fixtures-{}", Uuid::new_v4().simple()),
            };
            let mut urls = Vec::new();
            for window in [900, SHORT_WINDOW] {
                let app = api::startup::Application::build(AppConfig {
                    database_url: db.url.clone(),
                    http_addr: "127.0.0.1:0".parse().unwrap(),
                    jwt_key: api::config::JwtKey::new("replay-key-0123456789abcdef0123456789")
                        .unwrap(),
                    jwt_ttl_seconds: 3600,
                    cookie_secure: false,
                    body_limit_bytes: 64 * 1024,
                    temporal: config.clone(),
                    order_expiration_seconds: window,
                    stripe_card_form: false,
                })
                .await
                .expect("the app builds");
                urls.push(format!("http://127.0.0.1:{}", app.port()));
                tokio::spawn(app.run_until_stopped(std::future::pending()));
            }
            let worker = start_worker(WorkerConfig {
                database_url: db.url.clone(),
                temporal: config.clone(),
                gateway: GatewayConfig::Sandbox,
                currency: "usd".into(),
            });
            let temporal = api::temporal::connect(&config, Duration::from_secs(30))
                .await
                .expect("the generator reaches Temporal");
            let short = urls.pop().unwrap();
            let long = urls.pop().unwrap();
            System {
                long,
                short,
                http: reqwest::Client::new(),
                temporal,
                config,
                worker: Some(worker),
                _db: db,
            }
        }

        pub async fn stop(mut self) {
            if let Some(mut worker) = self.worker.take() {
                tokio::task::spawn_blocking(move || worker.stop())
                    .await
                    .expect("the worker thread ends");
            }
        }

        async fn send(
            &self,
            method: reqwest::Method,
            url: String,
            token: Option<&str>,
            body: Option<Value>,
        ) -> (StatusCode, Value) {
            let mut request = self.http.request(method, url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the request is sent");
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }

        pub async fn user(&self) -> User {
            let credentials = json!({
                "email": format!("user-{}@example.com", Uuid::new_v4().simple()),
                "password": "correct horse",
            });
            let (status, user) = self
                .send(
                    reqwest::Method::POST,
                    format!("{}/api/users/signup", self.long),
                    None,
                    Some(credentials.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "signup: {user}");
            let (status, token) = self
                .send(
                    reqwest::Method::POST,
                    format!("{}/api/users/token", self.long),
                    None,
                    Some(credentials),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "token: {token}");
            User {
                id: id_of(&user),
                token: token["token"].as_str().expect("a token").to_owned(),
            }
        }

        /// A ticket listed by a new seller.
        pub async fn ticket(&self, title: &str) -> Uuid {
            let seller = self.user().await;
            let (status, ticket) = self
                .send(
                    reqwest::Method::POST,
                    format!("{}/api/tickets", self.long),
                    Some(&seller.token),
                    Some(json!({"title": title, "price": 25.5})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "ticket: {ticket}");
            id_of(&ticket)
        }

        /// `POST /api/orders` on the long (or short) app; the order JSON.
        pub async fn order(&self, short: bool, buyer: &User, ticket: Uuid) -> Value {
            let base = if short { &self.short } else { &self.long };
            let (status, order) = self
                .send(
                    reqwest::Method::POST,
                    format!("{base}/api/orders"),
                    Some(&buyer.token),
                    Some(json!({"ticketId": ticket})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "order: {order}");
            order
        }

        pub async fn pay(&self, buyer: &User, order: Uuid, card: &str) -> (StatusCode, Value) {
            self.send(
                reqwest::Method::POST,
                format!("{}/api/payments", self.long),
                Some(&buyer.token),
                Some(json!({"orderId": order, "token": card})),
            )
            .await
        }

        pub async fn cancel(&self, buyer: &User, order: Uuid) {
            let (status, body) = self
                .send(
                    reqwest::Method::DELETE,
                    format!("{}/api/orders/{order}", self.long),
                    Some(&buyer.token),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "cancel: {body}");
        }

        /// Starts an order's workflow exactly as `POST /api/orders` does (update-with-start of
        /// `reservation`), without the API's cheap checks in front: the way to reach the
        /// workflow's own refusal of a ticket that another order holds.
        pub async fn order_directly(&self, buyer: &User, ticket: Uuid) -> (Uuid, ReserveOutcome) {
            let order_id = Uuid::new_v4();
            let outcome = self
                .temporal
                .execute_update_with_start_workflow(
                    OrderWorkflow::run,
                    OrderInput {
                        order_id,
                        ticket_id: ticket,
                        buyer_id: buyer.id,
                        expiration_seconds: 900,
                    },
                    OrderWorkflow::reservation,
                    (),
                    WorkflowUpdateWithStartOptions::new(
                        self.config.task_queue.clone(),
                        workflow_id(order_id),
                        WorkflowIdConflictPolicy::Fail,
                    )
                    .build(),
                )
                .await
                .expect("the reservation is answered");
            (order_id, outcome)
        }

        /// Waits for the order's workflow to close.
        pub async fn finished(&self, order: Uuid) {
            let handle = self
                .temporal
                .get_workflow_handle::<UntypedWorkflow>(workflow_id(order));
            let deadline = tokio::time::Instant::now() + PATIENCE;
            loop {
                let status = handle
                    .describe(WorkflowDescribeOptions::default())
                    .await
                    .expect("the workflow is described")
                    .status();
                if status != WorkflowExecutionStatus::Running {
                    assert_eq!(status, WorkflowExecutionStatus::Completed, "order-{order}");
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "order-{order} still runs after {PATIENCE:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        /// Waits for the workflow to close, checks that its history shows `name`'s story, and
        /// writes it to `tests/histories/<name>.json`. `Err` when the story is not there.
        pub async fn record(&self, name: &str, order: Uuid) -> Result<(), String> {
            self.finished(order).await;
            let json = api::history::fetch_json(&self.temporal, order)
                .await
                .expect("the history is fetched");
            let story = Story::of(&events_of(name, &json).await);
            story.check(name)?;
            let path = histories_dir().join(format!("{name}.json"));
            let mut bytes = json;
            bytes.push(b'\n');
            std::fs::create_dir_all(histories_dir()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            eprintln!(
                "wrote {} (order-{order}): {}",
                path.display(),
                story.steps.join(", ")
            );
            Ok(())
        }
    }

    impl System {
        /// `ticketing history export <order> --out <new folder>/<name>.json` writes the
        /// history just recorded as the fixture `name`.
        async fn export_matches(&self, name: &str, order: Uuid) {
            let dir = std::env::temp_dir().join(format!("replay-export-{}", Uuid::new_v4()));
            let out = dir.join("nested").join(format!("{name}.json"));
            api::history::export(&HistoryExportArgs {
                order_id: order,
                out: Some(out.clone()),
                temporal: TemporalArgs {
                    temporal_address: Some(self.config.address.clone()),
                    temporal_namespace: self.config.namespace.clone(),
                    temporal_task_queue: self.config.task_queue.clone(),
                },
            })
            .await
            .expect("the history is exported");
            let exported = std::fs::read(&out).expect("the export is written");
            let recorded = std::fs::read(histories_dir().join(format!("{name}.json"))).unwrap();
            let _ = std::fs::remove_dir_all(&dir);
            // Compared as JSON: payload metadata are maps, written in no fixed order.
            let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).expect("JSON");
            if parse(&exported) != parse(&recorded) {
                let copy = std::env::temp_dir().join(format!("{name}-exported.json"));
                std::fs::write(&copy, &exported).unwrap();
                panic!(
                    "the export of {name} ({}) differs from the fixture",
                    copy.display()
                );
            }
        }
    }

    fn id_of(value: &Value) -> Uuid {
        value["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("an id in {value}"))
    }

    /// The order worker on a thread of its own, as the API tests run it, charging through
    /// [`SlowSandbox`].
    fn start_worker(config: WorkerConfig) -> tests::TestWorker {
        tests::TestWorker::start(config, Arc::new(SlowSandbox(SandboxGateway::new())))
    }

    pub async fn paid(system: &System) -> Result<(), String> {
        let buyer = system.user().await;
        let order = id_of(
            &system
                .order(false, &buyer, system.ticket("Paid").await)
                .await,
        );
        let (status, body) = system.pay(&buyer, order, "tok_visa").await;
        assert_eq!(status, StatusCode::CREATED, "pay: {body}");
        system.record("paid", order).await?;
        system.export_matches("paid", order).await;
        Ok(())
    }

    pub async fn expired(system: &System) -> Result<(), String> {
        let buyer = system.user().await;
        let order = id_of(
            &system
                .order(true, &buyer, system.ticket("Expired").await)
                .await,
        );
        system.record("expired", order).await
    }

    pub async fn cancelled(system: &System) -> Result<(), String> {
        let buyer = system.user().await;
        let order = id_of(
            &system
                .order(false, &buyer, system.ticket("Cancelled").await)
                .await,
        );
        system.cancel(&buyer, order).await;
        system.record("cancelled", order).await
    }

    pub async fn declined(system: &System) -> Result<(), String> {
        let buyer = system.user().await;
        let order = id_of(
            &system
                .order(false, &buyer, system.ticket("Declined").await)
                .await,
        );
        let (status, body) = system.pay(&buyer, order, "tok_chargeDeclined").await;
        assert!(status.is_client_error(), "a declined card: {status} {body}");
        system.record("declined", order).await
    }

    pub async fn invalid_then_paid(system: &System) -> Result<(), String> {
        let buyer = system.user().await;
        let order = id_of(
            &system
                .order(false, &buyer, system.ticket("Invalid").await)
                .await,
        );
        let (status, body) = system.pay(&buyer, order, "tok_invalid").await;
        assert!(status.is_client_error(), "an invalid card: {status} {body}");
        let (status, body) = system.pay(&buyer, order, "tok_visa").await;
        assert_eq!(status, StatusCode::CREATED, "pay: {body}");
        system.record("invalid-then-paid", order).await
    }

    pub async fn rejected(system: &System) -> Result<(), String> {
        let (first, second) = (system.user().await, system.user().await);
        let ticket = system.ticket("Taken").await;
        let held = id_of(&system.order(false, &first, ticket).await);
        let (order, outcome) = system.order_directly(&second, ticket).await;
        assert_eq!(outcome, ReserveOutcome::TicketTaken);
        let recorded = system.record("rejected", order).await;
        system.cancel(&first, held).await;
        recorded
    }

    /// A payment sent shortly before `expiresAt` whose charge is still in flight when the timer
    /// fires: the workflow lets it finish and the order is paid. Sent `lead` before expiry.
    pub async fn paid_while_racing_expiry(system: &System, lead: Duration) -> Result<(), String> {
        let buyer = system.user().await;
        let order = system
            .order(true, &buyer, system.ticket("Racing").await)
            .await;
        let expires_at: chrono::DateTime<chrono::Utc> = order["expiresAt"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("an expiresAt");
        let order = id_of(&order);
        let wait = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default()
            .saturating_sub(lead);
        tokio::time::sleep(wait).await;
        let (status, body) = system.pay(&buyer, order, SLOW_TOKEN).await;
        if status != StatusCode::CREATED {
            system.finished(order).await;
            return Err(format!("the payment lost the race: {status} {body}"));
        }
        system.record("paid-while-racing-expiry", order).await
    }
}

/// Records every fixture again from real runs: a Temporal dev server (the `temporal` CLI), a
/// fresh database, the app and a worker, real HTTP. Run with
/// `cargo test -p tests --test replay -- --ignored generate_fixtures --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "records tests/histories/*.json from real runs (needs the temporal CLI)"]
async fn generate_fixtures() {
    let system = generator::System::start().await;
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
