//! The system under fault: a Temporal server, the HTTP app (in this process), a `ticketing
//! worker` process that can be killed, a fresh database, and the fake card processor.

use std::{
    ops::Deref,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use api::config::{AppConfig, JwtKey, TemporalConfig};
use entities::order;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{fake_stripe::FakeStripe, support};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(address: &str, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not come up on {address}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sigterm(child: &Child) {
    // SAFETY: sends a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}

/// A Temporal dev server: the one shared by this test process, or one of the test's own that
/// keeps its data in a file and can be stopped and restarted.
pub struct TemporalServer {
    pub address: String,
    own: Option<OwnServer>,
}

struct OwnServer {
    args: Vec<String>,
    child: Option<Child>,
    _dir: PathBuf,
}

impl TemporalServer {
    pub fn shared() -> Self {
        TemporalServer {
            address: support::temporal_address().to_owned(),
            own: None,
        }
    }

    pub fn start_on_file() -> Self {
        let dir =
            std::env::temp_dir().join(format!("ticketing-faults-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let mut args: Vec<String> = [
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--log-level",
            "error",
        ]
        .map(String::from)
        .to_vec();
        args.extend([
            "--port".into(),
            port.to_string(),
            "--http-port".into(),
            free_port().to_string(),
            "--metrics-port".into(),
            free_port().to_string(),
            "--db-filename".into(),
            dir.join("temporal.db").display().to_string(),
        ]);
        for attribute in workflows::SEARCH_ATTRIBUTES {
            args.extend(["--search-attribute".into(), format!("{attribute}=Keyword")]);
        }
        let mut server = TemporalServer {
            address: format!("127.0.0.1:{port}"),
            own: Some(OwnServer {
                args,
                child: None,
                _dir: dir,
            }),
        };
        server.restart();
        server
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        let own = self
            .own
            .as_mut()
            .expect("only the test's own server can be stopped");
        if let Some(mut child) = own.child.take() {
            sigterm(&child);
            let started = Instant::now();
            while child.try_wait().unwrap().is_none() {
                if started.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Starts the server again, on the same ports and data file.
    pub fn restart(&mut self) {
        let own = self
            .own
            .as_mut()
            .expect("only the test's own server can be restarted");
        let cli = std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".into());
        let child = Command::new(&cli)
            .args(&own.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{cli}`: {e}"));
        own.child = Some(child);
        wait_for_port(&self.address, "the Temporal server");
    }
}

impl Drop for TemporalServer {
    fn drop(&mut self) {
        if self.own.is_some() {
            self.stop();
        }
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
    base: String,
    client: reqwest::Client,
    seller: String,
}

impl Http {
    async fn token(&self, email: &str) -> String {
        let credentials = json!({"email": email, "password": "fault tolerant"});
        let signup = self
            .client
            .post(format!("{}/api/users/signup", self.base))
            .json(&credentials)
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 201);
        let token: Value = self
            .client
            .post(format!("{}/api/users/token", self.base))
            .json(&credentials)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token["token"].as_str().unwrap().to_owned()
    }

    pub async fn buyer(&self) -> Buyer {
        Buyer {
            token: self
                .token(&format!("buyer-{}@example.com", Uuid::new_v4().simple()))
                .await,
        }
    }

    /// The seller lists a new ticket.
    pub async fn listed_ticket(&self) -> Uuid {
        let ticket: Value = self
            .client
            .post(format!("{}/api/tickets", self.base))
            .bearer_auth(&self.seller)
            .json(&json!({"title": "Fault line", "price": "25.00"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ticket["id"].as_str().unwrap().parse().unwrap()
    }

    /// `POST /api/orders`: the status, and the order id on 201.
    pub async fn order_ticket(&self, buyer: &Buyer, ticket: Uuid) -> (u16, Option<Uuid>) {
        let response = self
            .client
            .post(format!("{}/api/orders", self.base))
            .bearer_auth(&buyer.token)
            .json(&json!({"ticketId": ticket}))
            .send()
            .await
            .unwrap();
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
        self.client
            .post(format!("{}/api/payments", self.base))
            .bearer_auth(&buyer.token)
            .json(&json!({"orderId": order, "token": token}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn cancel(&self, buyer: &Buyer, order: Uuid) -> u16 {
        self.client
            .delete(format!("{}/api/orders/{order}", self.base))
            .bearer_auth(&buyer.token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

pub struct System {
    pub db: support::TestDatabase,
    pub stripe: FakeStripe,
    http: Http,
    temporal: TemporalConfig,
    worker: Option<Child>,
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
    /// The app in this process against `temporal`, with orders that expire after `window` s.
    pub async fn start(temporal: &TemporalServer, window: u64) -> Self {
        let db = support::TestDatabase::create().await;
        let stripe = FakeStripe::start().await;
        let temporal = TemporalConfig {
            address: temporal.address.clone(),
            namespace: "default".into(),
            task_queue: format!("faults-{}", Uuid::new_v4().simple()),
        };
        let app = api::startup::Application::build(AppConfig {
            database_url: db.url.clone(),
            http_addr: "127.0.0.1:0".parse().unwrap(),
            jwt_key: JwtKey::new("fault-tests-key-0123456789abcdef0123456789").unwrap(),
            jwt_ttl_seconds: 3600,
            cookie_secure: false,
            body_limit_bytes: 65_536,
            temporal: temporal.clone(),
            order_expiration_seconds: window,
            stripe_card_form: false,
        })
        .await
        .expect("the app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let mut http = Http {
            base,
            client: reqwest::Client::new(),
            seller: String::new(),
        };
        http.seller = http
            .token(&format!("seller-{}@example.com", Uuid::new_v4().simple()))
            .await;
        let log =
            std::env::temp_dir().join(format!("ticketing-worker-{}.log", Uuid::new_v4().simple()));
        System {
            db,
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
        assert!(self.worker.is_none(), "a worker runs already");
        let log = std::fs::File::create(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ticketing"))
            .arg("worker")
            .env("DATABASE_URL", &database_url)
            .env("TEMPORAL_ADDRESS", &self.temporal.address)
            .env("TEMPORAL_NAMESPACE", &self.temporal.namespace)
            .env("TEMPORAL_TASK_QUEUE", &self.temporal.task_queue)
            .env("PAYMENT_GATEWAY", "stripe")
            .env("STRIPE_SECRET_KEY", crate::fake_stripe::SECRET_KEY)
            .env("STRIPE_API_BASE", &self.stripe.base)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the worker starts");
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
            child.kill().unwrap();
            child.wait().unwrap();
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
        api::temporal::connect(&self.temporal, Duration::from_secs(10))
            .await
            .unwrap()
    }

    async fn order_row(&self, order: Uuid) -> order::Model {
        order::Entity::find_by_id(order)
            .one(&self.db.connection)
            .await
            .unwrap()
            .expect("the order row")
    }

    /// Status and cancel reason of an order, from the database.
    pub async fn status(&self, order: Uuid) -> (String, Option<String>) {
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
                if status != "complete" && status != "cancelled" {
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
