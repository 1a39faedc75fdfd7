//! A fake card processor on loopback that behaves like Stripe's charges endpoint where it matters
//! here: a repeated `Idempotency-Key` returns the first charge instead of charging again. The
//! token `tok_slow` makes it answer 4 s after it has charged (a worker can die meanwhile).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use poem::{
    EndpointExt, IntoResponse, Response, Route, Server,
    http::{HeaderMap, StatusCode},
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::{Data, Form},
};
use uuid::Uuid;

pub const SECRET_KEY: &str = "sk_test_faults";

#[derive(Debug, Clone)]
pub struct Charge {
    pub key: String,
    pub id: String,
    pub amount: i64,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub base: String,
    charges: Arc<Mutex<Vec<Charge>>>,
}

impl FakeStripe {
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let stripe = FakeStripe {
            base: format!("http://127.0.0.1:{port}"),
            charges: Arc::default(),
        };
        let app = Route::new()
            .at("/v1/charges", post(charge))
            .data(stripe.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        stripe
    }

    /// The distinct charges made so far (one per idempotency key).
    pub fn charges(&self) -> Vec<Charge> {
        self.charges.lock().unwrap().clone()
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

#[poem::handler]
async fn charge(
    headers: &HeaderMap,
    Form(form): Form<HashMap<String, String>>,
    stripe: Data<&FakeStripe>,
) -> Response {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {SECRET_KEY}"));
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key",
        );
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "no idempotency key",
        );
    };
    let token = form.get("source").cloned().unwrap_or_default();
    if token == "tok_chargeDeclined" {
        return error(
            StatusCode::PAYMENT_REQUIRED,
            "card_error",
            "Your card was declined.",
        );
    }
    let amount: i64 = form
        .get("amount")
        .and_then(|a| a.parse().ok())
        .unwrap_or(-1);
    let (charge, first_time) = {
        let mut charges = stripe.charges.lock().unwrap();
        match charges.iter().find(|c| c.key == key) {
            Some(existing) => (existing.clone(), false),
            None => {
                let charge = Charge {
                    key: key.to_owned(),
                    id: format!("ch_fake_{}", charges.len() + 1),
                    amount,
                };
                charges.push(charge.clone());
                (charge, true)
            }
        }
    };
    if first_time && token == "tok_slow" {
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    serde_json::json!({"id": charge.id, "amount": charge.amount, "status": "succeeded"})
        .to_string()
        .with_content_type("application/json")
        .into_response()
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    serde_json::json!({"error": {"type": kind, "message": message}})
        .to_string()
        .with_content_type("application/json")
        .with_status(status)
        .into_response()
}
