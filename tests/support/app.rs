//! The app under test: every test gets the real app on a random loopback port, against a fresh
//! database of its own (PostgreSQL when `TEST_DATABASE_URL` names a server, SQLite otherwise),
//! with its own worker on a task queue of its own, and talks real HTTP. Its settings are the
//! production settings ([`ticketing::settings`]) with only what must differ per test given.

use std::{sync::Arc, time::Duration};

use activities::{PaymentGateway, gateway::SandboxGateway};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use workflows::{OrderWorker, WorkerSettings, temporal};

use crate::{TestDatabase, http::Api, temporal::shared_address};

/// A key of the right length; tests that forge tokens sign with it, or with another one.
pub const JWT_KEY: &str = "test-key-0123456789abcdef0123456789abcdef";

/// The key that signs the tests' ticket codes: of the right length, and not [`JWT_KEY`].
pub const TICKET_CODE_KEY: &str = "test-ticket-code-key-0123456789abcdef01";

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// A client with a cookie store, like a browser.
    pub client: reqwest::Client,
    pub db: TestDatabase,
    /// The gateway the worker charges through (a sandbox unless the test chose another).
    pub sandbox: SandboxGateway,
    pub worker_config: WorkerSettings,
    gateway: Arc<dyn PaymentGateway>,
    metrics: telemetry::Metrics,
    worker: Option<TestWorker>,
}

/// A signed-up user and a bearer token for it.
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// Everything a test may adjust before the app starts.
pub struct TestConfig {
    pub app: api::Settings,
    pub worker: WorkerSettings,
    pub gateway: Arc<dyn PaymentGateway>,
    /// As in one process running both (like `dev`): one set of metrics.
    pub metrics: telemetry::Metrics,
    /// Run an order worker in this process (off for tests that run `ticketing worker`).
    pub in_process_worker: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_configured(|_| {}).await
}

/// Spawns the app after letting the test adjust its HTTP settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut api::Settings)) -> TestApp {
    spawn_app_configured(|config| adjust(&mut config.app)).await
}

/// The settings `ticketing serve` and `ticketing worker` resolve for a test: a fresh database, a
/// task queue of its own on the shared Temporal server, a random HTTP port, plain-HTTP cookies.
pub fn test_config(db: &TestDatabase, sandbox: &SandboxGateway) -> TestConfig {
    let address = shared_address();
    let queue = format!("test-{}", uuid::Uuid::new_v4().simple());
    let common = [
        ("--database-url", db.url.as_str()),
        ("--temporal-address", address),
        ("--temporal-namespace", "default"),
        ("--temporal-task-queue", queue.as_str()),
    ];
    let serve = [
        ("--http-addr", "127.0.0.1:0"),
        ("--jwt-key", JWT_KEY),
        ("--ticket-code-key", TICKET_CODE_KEY),
        ("--cookie-secure", "false"),
        // Every test signs in from 127.0.0.1, many times: the tests of the limits set their own.
        ("--auth-attempts-per-account", "100000"),
        ("--auth-attempts-per-address", "1000000"),
    ];
    let mut app = ticketing::settings::serve(&[&common[..], &serve[..]].concat())
        .expect("the test's serve settings");
    // No event bus unless the test asks for one (a NATS_URL in the environment is not the test's).
    app.events = api::EventBus::default();
    // No reconciler by default: tests that make disagreements on purpose must see them stay.
    let worker = [("--reconcile-every-seconds", "0")];
    let worker = ticketing::settings::worker(&[&common[..], &worker[..]].concat())
        .expect("the test's worker settings");
    TestConfig {
        app,
        worker,
        gateway: Arc::new(sandbox.clone()),
        metrics: telemetry::Metrics::new(),
        in_process_worker: true,
    }
}

/// Builds the HTTP application from `settings` and serves it in the background for the rest of
/// the test; returns its address (`http://127.0.0.1:<port>`).
pub async fn serve(settings: api::Settings, metrics: telemetry::Metrics) -> String {
    let app = api::Application::build(settings, metrics)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    address
}

/// Spawns the app and its worker after letting the test adjust everything.
pub async fn spawn_app_configured(adjust: impl FnOnce(&mut TestConfig)) -> TestApp {
    let db = TestDatabase::create().await;
    let sandbox = SandboxGateway::new();
    let mut config = test_config(&db, &sandbox);
    adjust(&mut config);
    let address = serve(config.app, config.metrics.clone()).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let worker = config.in_process_worker.then(|| {
        TestWorker::start(
            config.worker.clone(),
            config.gateway.clone(),
            config.metrics.clone(),
        )
    });
    if worker.is_some() {
        until_a_worker_polls(&client, &address).await;
    }
    TestApp {
        address,
        client,
        db,
        sandbox,
        worker_config: config.worker,
        gateway: config.gateway,
        metrics: config.metrics,
        worker,
    }
}

/// Waits, at most 20 s, until `/readyz` sees a worker polling the order task queue (or says
/// Temporal cannot tell, as the time-skipping server does), as a load balancer waits for a new
/// instance: an order placed before the worker's first poll reaches Temporal is told 503 ("no
/// worker polls"), which a busy CI once turned into a failed test.
async fn until_a_worker_polls(client: &reqwest::Client, address: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{address}/readyz")).send().await
            && let Ok(body) = response.json::<Value>().await
            && let Some(state) = body["dependencies"]["orderWorkers"].as_str()
            && (state == "ok" || state.starts_with("unknown"))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app with the event bus: a stream of the test's own on the shared NATS
/// ([`crate::nats::bus`]), which the pages follow, and a relay running in this process. Returns
/// the relay's settings too.
pub async fn spawn_live_app_with(
    adjust: impl FnOnce(&mut TestConfig),
) -> (TestApp, events::RelaySettings) {
    let bus = crate::nats::bus();
    let app = spawn_app_configured(|config| {
        config.app.events.bus = Some(bus.clone());
        adjust(config);
    })
    .await;
    let relay = crate::nats::relay_settings(bus);
    let (db, settings) = (app.db.connection.clone(), relay.clone());
    tokio::spawn(async move {
        events::relay::run(db, settings, std::future::pending())
            .await
            .expect("the relay runs")
    });
    // The pages' feed follows the stream once the relay made it; `/readyz` says when.
    let started = std::time::Instant::now();
    loop {
        let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
        if ready["dependencies"]["events"] == "ok" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the app never followed the event stream: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (app, relay)
}

impl TestApp {
    /// Stops this app's worker (waiting for its tasks in flight), as a crash or a deploy would.
    pub async fn stop_worker(&mut self) {
        if let Some(mut worker) = self.worker.take() {
            tokio::task::spawn_blocking(move || worker.stop())
                .await
                .unwrap();
        }
    }

    /// Starts a new worker for this app (after [`TestApp::stop_worker`]).
    pub fn start_worker(&mut self) {
        assert!(self.worker.is_none(), "a worker is already running");
        self.worker = Some(TestWorker::start(
            self.worker_config.clone(),
            self.gateway.clone(),
            self.metrics.clone(),
        ));
    }

    /// A Temporal client on the test server, as an operator would use it.
    pub async fn temporal(&self) -> temporalio_client::Client {
        temporal::connect(&self.worker_config.temporal, Duration::from_secs(10))
            .await
            .expect("the test reaches Temporal")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The API through this app's client (with its cookie jar, like a browser).
    pub fn browser(&self) -> Api {
        Api::with_client(&self.address, self.client.clone())
    }

    /// The ticket's row in the database.
    pub async fn ticket_row(&self, id: uuid::Uuid) -> entities::ticket::Model {
        use sea_orm::EntityTrait;
        entities::ticket::Entity::find_by_id(id)
            .one(&self.db.connection)
            .await
            .unwrap()
            .expect("the ticket's row")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.browser().send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.browser()
            .send(Method::POST, path, token, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.browser()
            .send(Method::PUT, path, token, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.browser().send(Method::DELETE, path, token, None).await
    }

    /// A request with an `Idempotency-Key` header (and a JSON body unless `body` is `None`).
    pub async fn send_with_key(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        key: &str,
    ) -> Response {
        self.browser()
            .send_with_key(method, path, token, body, key)
            .await
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/users/signup",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// The API without this app's cookie jar (bearer tokens only).
    pub fn api(&self) -> Api {
        Api::new(&self.address)
    }

    /// Signs a new user up (with a fresh client, so this app's cookie jar is untouched) and
    /// returns it with a bearer token.
    pub async fn new_user(&self) -> TestUser {
        self.api().new_user().await
    }

    /// A new user with the door role (as `ticketing users grant door` gives it).
    pub async fn door_staff(&self) -> TestUser {
        use entities::user_role::{self, Role};
        use sea_orm::EntityTrait;
        let door = self.new_user().await;
        let role = user_role::Model {
            user_id: uuid(&door.id),
            role: Role::Door,
            created_at: entities::now(),
        };
        user_role::Entity::insert(user_role::ActiveModel::from(role))
            .exec_without_returning(&self.db.connection)
            .await
            .expect("the door role is granted");
        door
    }

    /// Creates a ticket as `user` and returns its JSON.
    pub async fn create_ticket(&self, user: &TestUser, title: &str, price: Value) -> Value {
        self.api().ticket(&user.token, title, price).await
    }

    /// `POST /api/payments` as `user` with the card token `card`.
    pub async fn pay(&self, user: &TestUser, order_id: &str, card: &str) -> Response {
        self.api().pay(&user.token, order_id, card).await
    }
}

/// A seller's listed ticket and a buyer's order for it.
pub struct Deal {
    pub seller: TestUser,
    pub buyer: TestUser,
    pub ticket: Value,
    pub order: Value,
}

impl Deal {
    pub fn order_id(&self) -> String {
        id_of(&self.order)
    }

    pub fn ticket_id(&self) -> String {
        id_of(&self.ticket)
    }
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

pub fn uuid(id: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(id).expect("a UUID")
}

/// `POST /api/orders {ticketId}` as `buyer`.
pub async fn post_order(app: &TestApp, buyer: &TestUser, ticket_id: &str) -> Response {
    app.api().order(&buyer.token, ticket_id).await
}

/// Orders the ticket as `buyer`, asserting 201, and returns the order.
pub async fn order_ticket(app: &TestApp, buyer: &TestUser, ticket_id: &str) -> Value {
    let response = post_order(app, buyer, ticket_id).await;
    let status = response.status();
    if status != StatusCode::CREATED {
        let entries = error_entries(response, status).await;
        panic!("POST /api/orders answered {status}: {entries:?}");
    }
    response.json().await.unwrap()
}

/// A new seller lists a ticket at `price` and a new buyer orders it.
pub async fn listed_and_ordered(app: &TestApp, title: &str, price: Value) -> Deal {
    let (seller, buyer) = (app.new_user().await, app.new_user().await);
    let ticket = app.create_ticket(&seller, title, price).await;
    let order = order_ticket(app, &buyer, &id_of(&ticket)).await;
    Deal {
        seller,
        buyer,
        ticket,
        order,
    }
}

/// Asserts the contract's error body and returns its entries as `(message, field)` pairs.
pub async fn error_entries(
    response: Response,
    status: StatusCode,
) -> Vec<(String, Option<String>)> {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "error content type: {content_type}"
    );
    let body: Value = response.json().await.unwrap();
    let errors = body["errors"].as_array().expect("an `errors` array");
    assert!(!errors.is_empty(), "no error entries in {body}");
    errors
        .iter()
        .map(|e| {
            let object = e.as_object().expect("an error entry is an object");
            assert!(
                object.keys().all(|k| k == "message" || k == "field"),
                "unexpected keys in {e}"
            );
            (
                e["message"].as_str().expect("a message").to_owned(),
                e.get("field").map(|f| f.as_str().unwrap().to_owned()),
            )
        })
        .collect()
}

/// Asserts an error response with exactly one entry with this message and no field.
pub async fn assert_error(response: Response, status: StatusCode, message: &str) {
    let entries = error_entries(response, status).await;
    assert_eq!(entries, vec![(message.to_owned(), None)]);
}

/// Asserts a validation error with exactly these `(message, field)` entries, in order.
pub async fn assert_validation(response: Response, expected: &[(&str, &str)]) {
    let entries = error_entries(response, StatusCode::BAD_REQUEST).await;
    let expected: Vec<_> = expected
        .iter()
        .map(|(m, f)| (m.to_string(), Some(f.to_string())))
        .collect();
    assert_eq!(entries, expected);
}

/// An order worker on a thread of its own (its run future is not `Send`), as the tests run it.
pub struct TestWorker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestWorker {
    pub fn start(
        config: WorkerSettings,
        gateway: Arc<dyn PaymentGateway>,
        metrics: telemetry::Metrics,
    ) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the worker");
            runtime.block_on(async move {
                let client =
                    temporal::connect(&config.temporal, std::time::Duration::from_secs(30))
                        .await
                        .expect("the worker reaches Temporal");
                let worker = OrderWorker::build(&config, client, gateway, metrics)
                    .await
                    .expect("the worker builds");
                worker
                    .run_until(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the worker runs");
            });
        });
        TestWorker {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops polling and waits for the tasks in flight.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestWorker {
    fn drop(&mut self) {
        // Don't wait for a graceful stop at the end of a test: just ask for it.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The `X-Total-Count` of a listing's answer (how many match in all); missing fails the test.
pub fn total_count(response: &Response) -> u64 {
    response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("an X-Total-Count header")
}
