//! The fixture generator (the ignored `generate_fixtures`): real runs on a Temporal dev server,
//! real HTTP, each order's history checked against the story its fixture must tell.

use std::{sync::Arc, time::Duration};

use activities::{
    PaymentGateway,
    gateway::{ChargeOutcome, ChargeRequest, GatewayError, SandboxGateway},
    order::ReserveOutcome,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestDatabase, TestWorker, temporal::shared_address, test_config};
use temporalio_client::{
    Client, UntypedWorkflow, WorkflowDescribeOptions, WorkflowExecutionStatus,
    WorkflowIdConflictPolicy, WorkflowUpdateWithStartOptions,
};
use uuid::Uuid;
use workflows::{OrderInput, OrderWorkflow, TemporalSettings, WorkerSettings, workflow_id};

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
    config: TemporalSettings,
    worker: Option<TestWorker>,
    db: TestDatabase,
}

/// A signed-up user.
pub struct User {
    id: Uuid,
    token: String,
}

impl System {
    pub async fn start() -> Self {
        let db = TestDatabase::create().await;
        let base = test_config(&db, &SandboxGateway::new());
        let config = support::temporal::settings(shared_address(), "replay-fixtures");
        let mut urls = Vec::new();
        for window in [900, SHORT_WINDOW] {
            let mut app = base.app.clone();
            app.temporal = config.clone();
            app.order_expiration_seconds = window;
            urls.push(support::serve(app, base.metrics.clone()).await);
        }
        let worker = start_worker(
            WorkerSettings {
                temporal: config.clone(),
                ..base.worker
            },
            base.metrics,
        );
        let temporal = workflows::temporal::connect(&config, Duration::from_secs(30))
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
            db,
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
    pub async fn order_directly(
        &self,
        buyer: &User,
        ticket: Uuid,
        reserve_by: Option<chrono::DateTime<chrono::Utc>>,
    ) -> (Uuid, ReserveOutcome) {
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
                    reserve_by,
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
        self.record_workflow(name, &workflow_id(order)).await
    }

    /// As [`System::record`], for the workflow `id` (closed already).
    pub async fn record_workflow(&self, name: &str, id: &str) -> Result<(), String> {
        let json = workflows::history::fetch_workflow(&self.temporal, id)
            .await
            .expect("the history is fetched")
            .expect("the workflow exists")
            .json;
        let story = Story::of(&events_of(name, &json).await);
        story.check(name)?;
        let path = histories_dir().join(format!("{name}.json"));
        let mut bytes = json;
        bytes.push(b'\n');
        std::fs::create_dir_all(histories_dir()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        eprintln!(
            "wrote {} ({id}): {}",
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
        let exported = tokio::process::Command::new(support::binary::ticketing())
            .args(["history", "export", &order.to_string(), "--out"])
            .arg(&out)
            .env("TEMPORAL_ADDRESS", &self.config.address)
            .env("TEMPORAL_NAMESPACE", &self.config.namespace)
            .output()
            .await
            .expect("ticketing history export runs");
        assert!(
            exported.status.success(),
            "ticketing history export: {}",
            String::from_utf8_lossy(&exported.stderr)
        );
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
fn start_worker(config: WorkerSettings, metrics: telemetry::Metrics) -> TestWorker {
    TestWorker::start(
        config,
        Arc::new(SlowSandbox(SandboxGateway::new())),
        metrics,
    )
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
    let (order, outcome) = system.order_directly(&second, ticket, None).await;
    assert_eq!(outcome, ReserveOutcome::TicketTaken);
    let recorded = system.record("rejected", order).await;
    system.cancel(&first, held).await;
    recorded
}

/// Paid through the API with the reservation's deadline (the `reservation-deadline` patch).
pub async fn deadline_paid(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(false, &buyer, system.ticket("Paid in time").await)
            .await,
    );
    let (status, body) = system.pay(&buyer, order, "tok_visa").await;
    assert_eq!(status, StatusCode::CREATED, "pay: {body}");
    system.record("deadline-paid", order).await
}

/// A workflow that starts after its reservation's deadline: it refuses, and reserves nothing.
pub async fn deadline_too_late(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let ticket = system.ticket("Too late").await;
    let passed = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (order, outcome) = system.order_directly(&buyer, ticket, Some(passed)).await;
    assert_eq!(outcome, ReserveOutcome::TooLate);
    system.record("deadline-too-late", order).await
}

/// Paid through the API with the `decided-by-database` patch: the payment begins with the
/// `begin_payment` step, which answers the order as the database holds it.
pub async fn database_paid(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(false, &buyer, system.ticket("Paid by the book").await)
            .await,
    );
    let (status, body) = system.pay(&buyer, order, "tok_visa").await;
    assert_eq!(status, StatusCode::CREATED, "pay: {body}");
    system.record("database-paid", order).await
}

/// Expired with the `decided-by-database` patch: the timer runs until the reservation's own
/// `expiresAt`.
pub async fn database_expired(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(true, &buyer, system.ticket("Expired by the book").await)
            .await,
    );
    system.record("database-expired", order).await
}

/// A workflow started after its reservation's deadline, with the `decided-by-database` patch:
/// the `reserve` step (not the workflow's clock) refuses it.
pub async fn database_too_late(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let ticket = system.ticket("Too late by the book").await;
    let passed = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (order, outcome) = system.order_directly(&buyer, ticket, Some(passed)).await;
    assert_eq!(outcome, ReserveOutcome::TooLate);
    system.record("database-too-late", order).await
}

/// An open order that the database holds cancelled while its workflow does not know (as a step
/// whose workflow task was lost leaves it), then the workflow's `sync` signal: it reads the order
/// (`observe`) and ends as the database says.
pub async fn database_synced(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(false, &buyer, system.ticket("Caught up").await)
            .await,
    );
    activities::order::cancel::cancel_order(
        &system.db.connection,
        order,
        activities::order::CancelReason::Operator,
    )
    .await
    .expect("the order is cancelled behind its workflow's back");
    system
        .temporal
        .get_workflow_handle::<OrderWorkflow>(workflow_id(order))
        .signal(
            OrderWorkflow::sync,
            (),
            temporalio_client::WorkflowSignalOptions::default(),
        )
        .await
        .expect("the sync signal is sent");
    system.record("database-synced", order).await
}

/// Paid through the API with the `operator-cancel` patch (the steps under tokens of their own).
pub async fn shielded_paid(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(false, &buyer, system.ticket("Shielded").await)
            .await,
    );
    let (status, body) = system.pay(&buyer, order, "tok_visa").await;
    assert_eq!(status, StatusCode::CREATED, "pay: {body}");
    system.record("operator-patch-paid", order).await
}

/// An open order whose workflow an operator cancels: the order is cancelled (reason operator).
pub async fn operator_cancelled(system: &System) -> Result<(), String> {
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(false, &buyer, system.ticket("Support").await)
            .await,
    );
    system
        .temporal
        .get_workflow_handle::<OrderWorkflow>(workflow_id(order))
        .cancel(temporalio_client::WorkflowCancelOptions::default())
        .await
        .expect("the cancellation is requested");
    system.record("operator-cancelled", order).await
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

/// An order whose workflow an operator terminated, repaired by one run of the reconciler: the
/// `ReconcileWorkflow` history `reconcile-repaired`.
pub async fn reconcile_repaired(system: &System) -> Result<(), String> {
    use workflows::reconciler::ReconcileWorkflow;
    let buyer = system.user().await;
    let order = id_of(
        &system
            .order(false, &buyer, system.ticket("Terminated").await)
            .await,
    );
    system
        .temporal
        .get_workflow_handle::<OrderWorkflow>(workflow_id(order))
        .terminate(temporalio_client::WorkflowTerminateOptions::default())
        .await
        .expect("the workflow is terminated");
    let id = format!("reconcile-fixture-{}", Uuid::new_v4());
    let options =
        temporalio_client::WorkflowStartOptions::new(system.config.task_queue.clone(), id.clone())
            .build();
    let reconciled = system
        .temporal
        .start_workflow(ReconcileWorkflow::run, (), options)
        .await
        .expect("the reconciler starts")
        .get_result(Default::default())
        .await
        .expect("the reconciler ends");
    if !reconciled
        .repaired
        .iter()
        .any(|line| line.contains(&order.to_string()))
    {
        return Err(format!("order {order} was not repaired: {reconciled:?}"));
    }
    system.record_workflow("reconcile-repaired", &id).await
}
