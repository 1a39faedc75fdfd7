//! A fake card processor on loopback that behaves like Stripe's charges endpoint where it matters
//! here (the only thing these tests fake, behind our `PaymentGateway`): a repeated
//! `Idempotency-Key` returns the first charge instead of charging again; a wrong secret key is
//! refused (echoed, to prove the gateway redacts it); test tokens answer as the processor's do.
//!
//! | token | answer |
//! |---|---|
//! | `tok_chargeDeclined` | 402 card_error "Your card was declined." |
//! | `tok_cvc_400` | 400 card_error (a decline) |
//! | `tok_invalid`, `tok_missing` | 400 / 404 invalid_request_error |
//! | `tok_conflict`, `tok_rate_limited` | 409 / 429 (retryable) |
//! | `tok_fail_once` | 500 the first time per key, then a charge |
//! | `tok_no_id` | 200 without a charge id |
//! | `tok_slow` | charges, then answers 4 s later (a worker can die meanwhile) |
//! | anything else | a charge `ch_<n>` |

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use poem::{
    EndpointExt, IntoResponse, Request, Response, Route, Server,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::{Data, Form},
};
use serde_json::json;
use uuid::Uuid;

/// The secret key the fake accepts.
pub const SECRET_KEY: &str = "sk_test_fake_0123456789abcdef";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    pub form: HashMap<String, String>,
}

/// One charge made (one per idempotency key).
#[derive(Debug, Clone)]
pub struct Charge {
    pub key: String,
    pub id: String,
    pub amount: i64,
}

#[derive(Default)]
struct Memory {
    requests: Vec<Recorded>,
    charges: Vec<Charge>,
    /// Keys whose `tok_fail_once` request has already failed.
    failed_once: HashSet<String>,
}

#[derive(Clone)]
pub struct FakeStripe {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    memory: Arc<Mutex<Memory>>,
}

impl FakeStripe {
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("the fake processor binds");
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let stripe = FakeStripe {
            base: format!("http://127.0.0.1:{port}"),
            memory: Arc::default(),
        };
        let app = Route::new()
            .at("/v1/charges", post(charge))
            .data(stripe.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        stripe
    }

    /// The distinct charges made so far (one per idempotency key).
    pub fn charges(&self) -> Vec<Charge> {
        self.memory.lock().unwrap().charges.clone()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.memory.lock().unwrap().requests.clone()
    }

    /// Waits until the order has been charged (its request may still be unanswered).
    pub async fn wait_for_charge_of(&self, order: Uuid) {
        let key = order.to_string();
        for _ in 0..100 {
            if self.charges().iter().any(|c| c.key.starts_with(&key)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("order {order} was never charged");
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    body.to_string()
        .with_content_type("application/json")
        .with_status(status)
        .into_response()
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    answer(status, json!({"error": {"type": kind, "message": message}}))
}

fn charge_body(made: &Charge) -> serde_json::Value {
    json!({"id": made.id, "object": "charge", "amount": made.amount, "paid": true, "status": "succeeded"})
}

#[poem::handler]
async fn charge(
    req: &Request,
    Form(form): Form<HashMap<String, String>>,
    stripe: Data<&FakeStripe>,
) -> Response {
    let header = |name: &str| req.header(name).map(str::to_owned);
    let recorded = Recorded {
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        content_type: header("content-type"),
        form: form.clone(),
    };
    let token = form.get("source").cloned().unwrap_or_default();
    let (charge, first_time) = {
        let mut memory = stripe.memory.lock().unwrap();
        memory.requests.push(recorded.clone());
        let given = recorded.authorization.unwrap_or_default();
        if given != format!("Bearer {SECRET_KEY}") {
            let key = given.trim_start_matches("Bearer ");
            let message = format!("Invalid API Key provided: {key}");
            return error(StatusCode::UNAUTHORIZED, "invalid_request_error", &message);
        }
        let Some(key) = recorded.idempotency_key else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "no idempotency key",
            );
        };
        if let Some(replayed) = memory.charges.iter().find(|c| c.key == key) {
            return answer(StatusCode::OK, charge_body(replayed));
        }
        let refused = match token.as_str() {
            "tok_chargeDeclined" => Some((
                StatusCode::PAYMENT_REQUIRED,
                "card_error",
                "Your card was declined.",
            )),
            "tok_cvc_400" => Some((
                StatusCode::BAD_REQUEST,
                "card_error",
                "Your card's security code is incorrect.",
            )),
            "tok_invalid" => Some((
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "Invalid token id: tok_invalid",
            )),
            "tok_missing" => Some((
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "No such token: 'tok_missing'",
            )),
            "tok_conflict" => Some((
                StatusCode::CONFLICT,
                "idempotency_error",
                "There is currently another in-progress request using this key.",
            )),
            "tok_rate_limited" => Some((
                StatusCode::TOO_MANY_REQUESTS,
                "api_error",
                "Too many requests hit the API too quickly.",
            )),
            "tok_fail_once" if memory.failed_once.insert(key.clone()) => {
                Some((StatusCode::INTERNAL_SERVER_ERROR, "api_error", "Oops."))
            }
            _ => None,
        };
        if let Some((status, kind, message)) = refused {
            return error(status, kind, message);
        }
        if token == "tok_no_id" {
            return answer(StatusCode::OK, json!({"object": "charge"}));
        }
        let charge = Charge {
            key,
            id: format!("ch_{}", memory.charges.len() + 1),
            amount: form
                .get("amount")
                .and_then(|a| a.parse().ok())
                .unwrap_or(-1),
        };
        memory.charges.push(charge.clone());
        (charge, true)
    };
    if first_time && token == "tok_slow" {
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    answer(StatusCode::OK, charge_body(&charge))
}
