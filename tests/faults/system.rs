//! The system under fault: a Temporal server, the HTTP app (in this process), a `ticketing
//! worker` process that can be killed, a fresh database, and the fake card processor.

use std::{
    ops::Deref,
    path::PathBuf,
    time::{Duration, Instant},
};

use devtools::process::{ChildProcess, Launch, Output};
use entities::order::{self, CancelReason, Status};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use support::{
    TestApp, TestDatabase,
    fake_stripe::{self, FakeStripe},
    http::Api,
    spawn_app_configured,
    temporal::{OwnServer, settings, shared_address},
};
use uuid::Uuid;
use workflows::{TemporalSettings, temporal};

/// A Temporal dev server: the one shared by this test process, or one of the test's own that
/// keeps its data in a file and can be stopped and restarted.
pub enum TemporalServer {
    Shared,
    Own(OwnServer),
}

impl TemporalServer {
    pub fn shared() -> Self {
        TemporalServer::Shared
    }

    pub fn start_on_file() -> Self {
        TemporalServer::Own(OwnServer::start())
    }

    pub fn address(&self) -> String {
        match self {
            TemporalServer::Shared => shared_address().to_owned(),
            TemporalServer::Own(own) => own.address(),
        }
    }

    fn own(&mut self) -> &mut OwnServer {
        match self {
            TemporalServer::Own(own) => own,
            TemporalServer::Shared => panic!("only the test's own server can be stopped"),
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        self.own().stop();
    }

    /// Starts the server again, on the same ports and data file.
    pub fn restart(&mut self) {
        self.own().restart();
    }
}

/// A buyer's bearer token.
#[derive(Clone)]
pub struct Buyer {
    token: String,
}

/// The HTTP side, cheap to clone into spawned tasks.
#[derive(Clone)]
pub struct Http {
    api: Api,
    seller: String,
}

impl Http {
    /// The API itself, for what the helpers here do not cover (headers, bodies, timings).
    pub fn api(&self) -> &Api {
        &self.api
    }

    pub async fn buyer(&self) -> Buyer {
        Buyer {
            token: self.api.new_user().await.token,
        }
    }

    /// The seller lists a new ticket.
    pub async fn listed_ticket(&self) -> Uuid {
        let ticket = self
            .api
            .ticket(&self.seller, "Fault line", json!("25.00"))
            .await;
        ticket["id"].as_str().unwrap().parse().unwrap()
    }

    /// `POST /api/orders`: the status, and the order id on 201.
    pub async fn order_ticket(&self, buyer: &Buyer, ticket: Uuid) -> (u16, Option<Uuid>) {
        let response = self.api.order(&buyer.token, &ticket.to_string()).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, body["id"].as_str().and_then(|id| id.parse().ok()))
    }

    /// A new ticket, ordered by `buyer`.
    pub async fn order(&self, buyer: &Buyer) -> Uuid {
        let ticket = self.listed_ticket().await;
        let (status, order) = self.order_ticket(buyer, ticket).await;
        assert_eq!(status, 201);
        order.unwrap()
    }

    pub async fn pay(&self, buyer: &Buyer, order: Uuid, token: &str) -> u16 {
        let response = self.api.pay(&buyer.token, &order.to_string(), token).await;
        response.status().as_u16()
    }

    /// `POST /api/payments` with an `Idempotency-Key`: the status and the body.
    pub async fn pay_with_key(
        &self,
        buyer: &Buyer,
        order: Uuid,
        token: &str,
        key: &str,
    ) -> (u16, Value) {
        let response = self
            .api
            .pay_with_key(&buyer.token, &order.to_string(), token, key)
            .await
            .expect("an answer to the payment");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST /api/orders` with an `Idempotency-Key`: the status and the body.
    pub async fn order_with_key(&self, buyer: &Buyer, ticket: Uuid, key: &str) -> (u16, Value) {
        let response = self
            .api
            .order_with_key(&buyer.token, &ticket.to_string(), key)
            .await
            .expect("an answer to the order");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn cancel(&self, buyer: &Buyer, order: Uuid) -> u16 {
        let response = self.api.cancel(&buyer.token, &order.to_string()).await;
        response.status().as_u16()
    }
}

pub struct System {
    app: TestApp,
    pub stripe: FakeStripe,
    http: Http,
    temporal: TemporalSettings,
    worker: Option<ChildProcess>,
    worker_database: String,
    log: PathBuf,
}

impl Deref for System {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

impl System {
    /// The system's database.
    pub fn db(&self) -> &TestDatabase {
        &self.app.db
    }
}

impl System {
    /// The app in this process against `temporal`, with orders that expire after `window` s.
    pub async fn start(temporal: &TemporalServer, window: u64) -> Self {
        let stripe = FakeStripe::start().await;
        let temporal = settings(&temporal.address(), "faults");
        // The worker is a `ticketing worker` process of its own (see `start_worker`).
        let app = spawn_app_configured(|config| {
            config.app.temporal = temporal.clone();
            config.app.order_expiration_seconds = window;
            config.in_process_worker = false;
        })
        .await;
        let api = app.api();
        let seller = api.new_user().await.token;
        let http = Http { api, seller };
        let log =
            std::env::temp_dir().join(format!("ticketing-worker-{}.log", Uuid::new_v4().simple()));
        System {
            app,
            stripe,
            http,
            temporal,
            worker: None,
            worker_database: String::new(),
            log,
        }
    }

    pub fn handle(&self) -> Http {
        self.http.clone()
    }

    /// Starts a `ticketing worker` process on this system's queue, charging through the fake
    /// processor, and waits until it polls.
    pub async fn start_worker(&mut self, database_url: String) {
        let temporal = self.temporal.address.clone();
        self.start_worker_through(database_url, temporal).await;
    }

    /// As [`System::start_worker`], reaching Temporal at `temporal_address` (a link the test can
    /// cut, say).
    pub async fn start_worker_through(&mut self, database_url: String, temporal_address: String) {
        assert!(self.worker.is_none(), "a worker runs already");
        let launch = Launch::new("the worker", support::binary::ticketing())
            .args(["worker"])
            .env("DATABASE_URL", &database_url)
            .env("TEMPORAL_ADDRESS", &temporal_address)
            .env("TEMPORAL_NAMESPACE", &self.temporal.namespace)
            .env("TEMPORAL_TASK_QUEUE", &self.temporal.task_queue)
            .env("PAYMENT_GATEWAY", "stripe")
            .env("STRIPE_SECRET_KEY", fake_stripe::SECRET_KEY)
            .env("STRIPE_API_BASE", &self.stripe.base)
            .env("RUST_LOG", "info")
            .output(Output::NewLog(self.log.clone()))
            .stop_grace(Duration::from_secs(30));
        // Ready is its log saying so, below.
        let child = ChildProcess::start(launch).expect("the worker starts");
        self.worker = Some(child);
        self.worker_database = database_url;
        let started = Instant::now();
        while !std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .contains("worker running")
        {
            let exited = self.worker.as_mut().unwrap().try_wait().unwrap();
            assert!(exited.is_none(), "the worker exited: {}", self.worker_log());
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the worker did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn worker_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill_worker(&mut self) {
        if let Some(mut child) = self.worker.take() {
            child.kill();
        }
    }

    /// SIGTERM, as a deploy stops it: it finishes its tasks in flight and exits (SIGKILL after
    /// 30 s if it does not).
    pub fn stop_worker_gracefully(&mut self) {
        if let Some(mut child) = self.worker.take()
            && !child.stop()
        {
            panic!("the worker did not stop on SIGTERM: {}", self.worker_log());
        }
    }

    /// Starts the worker again if it gave up (e.g. while Temporal was away).
    pub async fn keep_worker_alive(&mut self) {
        let exited = match self.worker.as_mut() {
            Some(child) => child.try_wait().unwrap().is_some(),
            None => true,
        };
        if exited {
            self.worker = None;
            self.start_worker(self.worker_database.clone()).await;
        }
    }

    pub fn temporal_address(&self) -> &str {
        &self.temporal.address
    }

    pub async fn temporal_client(&self) -> temporalio_client::Client {
        temporal::connect(&self.temporal, Duration::from_secs(10))
            .await
            .unwrap()
    }

    /// The order's status as its workflow holds it (its `state` query).
    pub async fn workflow_state(&self, order: Uuid) -> String {
        use temporalio_client::WorkflowQueryOptions;
        use workflows::OrderWorkflow;
        let client = self.temporal_client().await;
        let handle = client.get_workflow_handle::<OrderWorkflow>(workflows::workflow_id(order));
        handle
            .query(OrderWorkflow::state, (), WorkflowQueryOptions::default())
            .await
            .expect("the order's workflow answers its state query")
            .status
            .to_string()
    }

    async fn order_row(&self, order: Uuid) -> order::Model {
        order::Entity::find_by_id(order)
            .one(&self.app.db.connection)
            .await
            .unwrap()
            .expect("the order row")
    }

    /// Status and cancel reason of an order, from the database.
    pub async fn status(&self, order: Uuid) -> (Status, Option<CancelReason>) {
        let row = self.order_row(order).await;
        (row.status, row.cancel_reason)
    }

    /// How long until the order's window has closed, plus a second.
    pub async fn until_expired(&self, order: Uuid) -> Duration {
        let left = self.order_row(order).await.expires_at - chrono::Utc::now();
        left.to_std().unwrap_or_default() + Duration::from_secs(1)
    }

    /// Waits until every order is complete or cancelled (60 s at most).
    pub async fn wait_until_settled(&self, orders: &[Uuid]) {
        let started = Instant::now();
        loop {
            let mut open = Vec::new();
            for &order in orders {
                let (status, _) = self.status(order).await;
                if status.is_open() {
                    open.push((order, status));
                }
            }
            if open.is_empty() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "orders still open after 60 s: {open:?}\nworker log:\n{}",
                self.worker_log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for System {
    fn drop(&mut self) {
        self.kill_worker();
        let _ = std::fs::remove_file(&self.log);
    }
}
