//! The test harness: every test gets the real app on a random loopback port, against a fresh
//! database of its own (PostgreSQL when `TEST_DATABASE_URL` names a server, SQLite otherwise).

use std::{sync::Arc, time::Duration};

use activities::{PaymentGateway, gateway::SandboxGateway};
use api::config::{AppConfig, GatewayConfig, TemporalConfig, WorkerConfig};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tests::TestDatabase;

/// A key of the right length; tests that forge tokens sign with it, or with another one.
pub const JWT_KEY: &str = "test-key-0123456789abcdef0123456789abcdef";

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// A client with a cookie store, like a browser.
    pub client: reqwest::Client,
    pub db: TestDatabase,
    /// The gateway the worker charges through (a sandbox unless the test chose another).
    pub sandbox: SandboxGateway,
    worker_config: WorkerConfig,
    gateway: Arc<dyn PaymentGateway>,
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
    pub app: AppConfig,
    pub worker: WorkerConfig,
    pub gateway: Arc<dyn PaymentGateway>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_configured(|_| {}).await
}

/// Spawns the app after letting the test adjust its HTTP configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut AppConfig)) -> TestApp {
    spawn_app_configured(|config| adjust(&mut config.app)).await
}

/// Spawns the app and its worker (on a task queue of its own, against the shared Temporal dev
/// server) after letting the test adjust everything.
pub async fn spawn_app_configured(adjust: impl FnOnce(&mut TestConfig)) -> TestApp {
    let db = TestDatabase::create().await;
    let temporal = TemporalConfig {
        address: tests::temporal_address().to_owned(),
        namespace: "default".into(),
        task_queue: format!("test-{}", uuid::Uuid::new_v4().simple()),
    };
    let sandbox = SandboxGateway::new();
    let mut config = TestConfig {
        app: AppConfig {
            database_url: db.url.clone(),
            http_addr: "127.0.0.1:0".parse().unwrap(),
            jwt_key: api::config::JwtKey::new(JWT_KEY).unwrap(),
            jwt_ttl_seconds: 3600,
            cookie_secure: false,
            body_limit_bytes: 64 * 1024,
            temporal: temporal.clone(),
            order_expiration_seconds: 900,
            stripe_card_form: false,
        },
        worker: WorkerConfig {
            database_url: db.url.clone(),
            temporal,
            gateway: GatewayConfig::Sandbox,
            currency: "usd".into(),
        },
        gateway: Arc::new(sandbox.clone()),
    };
    adjust(&mut config);
    let app = api::startup::Application::build(config.app)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let worker = TestWorker::start(config.worker.clone(), config.gateway.clone());
    TestApp {
        address,
        client,
        db,
        sandbox,
        worker_config: config.worker,
        gateway: config.gateway,
        worker: Some(worker),
    }
}

pub use tests::TestWorker;

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
        ));
    }

    /// A Temporal client on the test server, as an operator would use it.
    pub async fn temporal(&self) -> temporalio_client::Client {
        api::temporal::connect(&self.worker_config.temporal, Duration::from_secs(10))
            .await
            .expect("the test reaches Temporal")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A request with a JSON body (none when `body` is `None`) and an optional bearer token.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the request is sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/users/signup",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs a new user up (with a fresh client, so this app's cookie jar is untouched) and
    /// returns it with a bearer token.
    pub async fn new_user(&self) -> TestUser {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse";
        let client = reqwest::Client::new();
        let body = json!({"email": email, "password": password});
        let response = client
            .post(self.url("/api/users/signup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let user: Value = response.json().await.unwrap();
        let response = client
            .post(self.url("/api/users/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let token: Value = response.json().await.unwrap();
        TestUser {
            id: user["id"].as_str().unwrap().to_owned(),
            email,
            token: token["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates a ticket as `user` and returns its JSON.
    pub async fn create_ticket(&self, user: &TestUser, title: &str, price: Value) -> Value {
        let response = self
            .post(
                "/api/tickets",
                Some(&user.token),
                &json!({"title": title, "price": price}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
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
