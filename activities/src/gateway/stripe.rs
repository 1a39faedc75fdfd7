//! The Stripe gateway: `POST {api_base}/v1/charges`, form-encoded, idempotent by header.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use super::{ChargeOutcome, ChargeRequest, GatewayError, PaymentGateway};

/// The longest a whole charge request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest establishing the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Shown to the buyer when the provider declines without a message.
const DEFAULT_DECLINE_MESSAGE: &str = "Your card was declined.";
/// Replaces the secret key wherever it would appear in a message.
const REDACTED: &str = "[redacted]";

/// Charges cards through Stripe's HTTP API.
///
/// The order id is sent as the `Idempotency-Key` header (and as `metadata[order_id]`), so a retry
/// of the same order replays the first charge instead of making a second one. The secret key is
/// only ever sent in the `Authorization` header: it is left out of `Debug` and removed from every
/// message this gateway returns. Clones share one connection pool.
#[derive(Clone)]
pub struct StripeGateway {
    client: reqwest::Client,
    secret_key: String,
    api_base: String,
    timeout: Duration,
}

impl fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeGateway")
            .field("secret_key", &REDACTED)
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The part of a successful answer that matters: the charge's id.
#[derive(Deserialize)]
struct ChargeBody {
    id: Option<String>,
}

/// A failed answer: `{"error": {"type": ..., "message": ...}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ProviderError,
}

/// The provider's description of why a request failed.
#[derive(Deserialize)]
struct ProviderError {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

impl StripeGateway {
    /// A gateway using `secret_key` against `api_base` (normally "https://api.stripe.com"), with a
    /// 10 s request timeout and a 5 s connect timeout. Redirects are not followed.
    ///
    /// # Panics
    /// If the HTTP client cannot be built (the TLS backend fails to initialise), like
    /// `reqwest::Client::new`.
    pub fn new(secret_key: String, api_base: String) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client for the payment provider could not be built");
        Self {
            client,
            secret_key,
            api_base: api_base.trim_end_matches('/').to_owned(),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// Replaces the whole-request timeout (10 s by default), e.g. to keep tests short.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `text` with every occurrence of the secret key replaced.
    fn redact(&self, text: &str) -> String {
        if self.secret_key.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.secret_key, REDACTED)
        }
    }

    /// The same result with the secret key removed from whichever message it carries.
    fn redact_result(
        &self,
        result: Result<ChargeOutcome, GatewayError>,
    ) -> Result<ChargeOutcome, GatewayError> {
        match result {
            Ok(ChargeOutcome::Declined { message }) => Ok(ChargeOutcome::Declined {
                message: self.redact(&message),
            }),
            Ok(ChargeOutcome::Invalid { message }) => Ok(ChargeOutcome::Invalid {
                message: self.redact(&message),
            }),
            Ok(charged) => Ok(charged),
            Err(GatewayError::Transient(message)) => {
                Err(GatewayError::Transient(self.redact(&message)))
            }
            Err(GatewayError::Permanent(message)) => {
                Err(GatewayError::Permanent(self.redact(&message)))
            }
        }
    }

    /// Sends the charge and reads the whole answer, within the timeout.
    async fn send(&self, request: &ChargeRequest) -> Result<(StatusCode, Vec<u8>), GatewayError> {
        let amount = request.amount_cents.to_string();
        let form = [
            ("amount", amount.as_str()),
            ("currency", request.currency.as_str()),
            ("source", request.token.as_str()),
            ("description", request.description.as_str()),
            ("metadata[order_id]", request.idempotency_key.as_str()),
        ];
        let response = self
            .client
            .post(format!("{}/v1/charges", self.api_base))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", &request.idempotency_key)
            .timeout(self.timeout)
            .form(&form)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport_error)?;
        Ok((status, body.to_vec()))
    }
}

#[async_trait::async_trait]
impl PaymentGateway for StripeGateway {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        let result = match self.send(request).await {
            Ok((status, body)) => interpret(status, &body),
            Err(error) => Err(error),
        };
        self.redact_result(result)
    }

    fn name(&self) -> &'static str {
        "stripe"
    }
}

/// A request that got no answer: a request that could not even be built (bad base URL or header
/// value) is our configuration, anything else (refused connection, timeout, reset) is worth a retry.
fn transport_error(error: reqwest::Error) -> GatewayError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_builder() {
        GatewayError::Permanent(message)
    } else {
        GatewayError::Transient(message)
    }
}

/// Maps the provider's answer to an outcome or an error (see the crate's API contract).
fn interpret(status: StatusCode, body: &[u8]) -> Result<ChargeOutcome, GatewayError> {
    if status.is_success() {
        return match serde_json::from_slice::<ChargeBody>(body) {
            Ok(ChargeBody { id: Some(id) }) if !id.trim().is_empty() => {
                Ok(ChargeOutcome::Charged { charge_id: id })
            }
            _ => Err(GatewayError::Permanent(format!(
                "a {status} answer without a charge id"
            ))),
        };
    }
    let error = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let is_card_error = error.as_ref().and_then(|e| e.kind.as_deref()) == Some("card_error");
    let message = error
        .and_then(|e| e.message)
        .filter(|m| !m.trim().is_empty());
    let described = || match &message {
        Some(message) => format!("{status}: {message}"),
        None => status.to_string(),
    };
    match status.as_u16() {
        401 | 403 => Err(GatewayError::Permanent(described())),
        // 409: a request with the same key is still in flight; 424: the provider's own upstream failed.
        408 | 409 | 424 | 429 | 500..=599 => Err(GatewayError::Transient(described())),
        402 => Ok(declined(message)),
        400..=499 if is_card_error => Ok(declined(message)),
        400 | 404 => match message {
            Some(message) => Ok(ChargeOutcome::Invalid { message }),
            // Not the provider's error format: most likely a wrong base URL.
            None => Err(GatewayError::Permanent(format!(
                "{status} without the provider's error body (is the API base URL right?)"
            ))),
        },
        _ => Err(GatewayError::Permanent(format!(
            "unexpected answer {}",
            described()
        ))),
    }
}

/// A decline with the provider's message, or the usual one.
fn declined(message: Option<String>) -> ChargeOutcome {
    ChargeOutcome::Declined {
        message: message.unwrap_or_else(|| DEFAULT_DECLINE_MESSAGE.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use poem::http::StatusCode as FakeStatus;
    use poem::listener::{Acceptor, Listener, TcpListener};
    use poem::web::{Data, Form};
    use poem::{EndpointExt, Request, Response, Route, Server, handler, post};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "sk_test_fake_0123456789abcdef";
    const KEY: &str = "0b6f5a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

    /// One request as the fake provider received it.
    #[derive(Debug, Clone)]
    struct Recorded {
        authorization: Option<String>,
        idempotency_key: Option<String>,
        content_type: Option<String>,
        form: HashMap<String, String>,
    }

    /// The fake provider's memory.
    #[derive(Default)]
    struct Fake {
        requests: Vec<Recorded>,
        /// Idempotency key -> the answer given, replayed for a repeated key.
        charges: HashMap<String, serde_json::Value>,
        /// Keys whose `tok_fail_once` request has already failed.
        failed_once: HashSet<String>,
    }

    type Shared = Arc<Mutex<Fake>>;

    /// A JSON answer.
    fn answer(status: FakeStatus, body: serde_json::Value) -> Response {
        Response::builder()
            .status(status)
            .content_type("application/json")
            .body(body.to_string())
    }

    /// A provider error answer.
    fn provider_error(status: FakeStatus, kind: &str, message: &str) -> Response {
        answer(status, json!({"error": {"type": kind, "message": message}}))
    }

    /// `POST /v1/charges`, behaving like the provider for the test tokens.
    #[handler]
    fn create_charge(
        req: &Request,
        Form(form): Form<HashMap<String, String>>,
        Data(fake): Data<&Shared>,
    ) -> Response {
        let header = |name: &str| req.header(name).map(str::to_owned);
        let recorded = Recorded {
            authorization: header("authorization"),
            idempotency_key: header("idempotency-key"),
            content_type: header("content-type"),
            form: form.clone(),
        };
        let mut fake = fake.lock().expect("fake state");
        fake.requests.push(recorded.clone());

        let given = recorded.authorization.unwrap_or_default();
        if given != format!("Bearer {SECRET}") {
            // Echoes the key it was given, to prove the gateway redacts it.
            let key = given.trim_start_matches("Bearer ");
            let message = format!("Invalid API Key provided: {key}");
            return provider_error(FakeStatus::UNAUTHORIZED, "invalid_request_error", &message);
        }
        let key = recorded.idempotency_key.unwrap_or_default();
        if let Some(replayed) = fake.charges.get(&key) {
            return answer(FakeStatus::OK, replayed.clone());
        }
        let token = form.get("source").cloned().unwrap_or_default();
        match token.as_str() {
            "tok_chargeDeclined" => {
                return answer(
                    FakeStatus::PAYMENT_REQUIRED,
                    json!({"error": {"type": "card_error", "code": "card_declined",
                                     "message": "Your card was declined."}}),
                );
            }
            "tok_invalid" => {
                let message = "Invalid token id: tok_invalid";
                return provider_error(FakeStatus::BAD_REQUEST, "invalid_request_error", message);
            }
            "tok_cvc_400" => {
                let message = "Your card's security code is incorrect.";
                return provider_error(FakeStatus::BAD_REQUEST, "card_error", message);
            }
            "tok_missing" => {
                let message = "No such token: 'tok_missing'";
                return provider_error(FakeStatus::NOT_FOUND, "invalid_request_error", message);
            }
            "tok_conflict" => {
                let message = "There is currently another in-progress request using this key.";
                return provider_error(FakeStatus::CONFLICT, "idempotency_error", message);
            }
            "tok_rate_limited" => {
                let message = "Too many requests hit the API too quickly.";
                return provider_error(FakeStatus::TOO_MANY_REQUESTS, "api_error", message);
            }
            "tok_no_id" => return answer(FakeStatus::OK, json!({"object": "charge"})),
            "tok_fail_once" if fake.failed_once.insert(key.clone()) => {
                return provider_error(FakeStatus::INTERNAL_SERVER_ERROR, "api_error", "Oops.");
            }
            _ => {}
        }
        let charge = json!({
            "id": format!("ch_{}", fake.charges.len() + 1),
            "object": "charge",
            "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()),
            "currency": form.get("currency"),
            "paid": true,
            "status": "succeeded",
        });
        fake.charges.insert(key, charge.clone());
        answer(FakeStatus::OK, charge)
    }

    /// Starts the fake provider on a free local port; returns its base URL and its memory.
    async fn start_fake() -> (String, Shared) {
        let fake = Shared::default();
        let app = Route::new()
            .at("/v1/charges", post(create_charge))
            .data(fake.clone());
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the fake provider");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a TCP address");
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        (format!("http://{addr}"), fake)
    }

    /// A request for order [`KEY`] paid with `token`, 12.50 USD.
    fn request(token: &str) -> ChargeRequest {
        ChargeRequest {
            idempotency_key: KEY.to_owned(),
            amount_cents: 1250,
            currency: "usd".to_owned(),
            token: token.to_owned(),
            description: "Ticket: Concert".to_owned(),
        }
    }

    /// Charges and asserts that no message carries the secret key.
    async fn charge(
        gateway: &StripeGateway,
        request: &ChargeRequest,
    ) -> Result<ChargeOutcome, GatewayError> {
        let result = gateway.charge(request).await;
        let text = match &result {
            Ok(outcome) => format!("{outcome:?}"),
            Err(error) => format!("{error} {error:?}"),
        };
        assert!(!text.contains(SECRET), "the secret key leaked: {text}");
        result
    }

    #[tokio::test]
    async fn sends_the_form_and_the_headers() {
        let (base, fake) = start_fake().await;
        let gateway = StripeGateway::new(SECRET.to_owned(), format!("{base}/"));
        let outcome = charge(&gateway, &request("tok_visa")).await.ok();
        assert_eq!(
            outcome,
            Some(ChargeOutcome::Charged {
                charge_id: "ch_1".to_owned()
            })
        );

        let requests = fake.lock().expect("fake state").requests.clone();
        assert_eq!(requests.len(), 1);
        let sent = &requests[0];
        assert_eq!(
            sent.authorization.as_deref(),
            Some(format!("Bearer {SECRET}").as_str())
        );
        assert_eq!(sent.idempotency_key.as_deref(), Some(KEY));
        assert_eq!(
            sent.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        let expected: HashMap<String, String> = [
            ("amount", "1250"),
            ("currency", "usd"),
            ("source", "tok_visa"),
            ("description", "Ticket: Concert"),
            ("metadata[order_id]", KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(sent.form, expected);
    }

    #[tokio::test]
    async fn a_repeated_key_returns_the_same_charge() {
        let (base, fake) = start_fake().await;
        let gateway = StripeGateway::new(SECRET.to_owned(), base);
        let first = charge(&gateway, &request("tok_visa")).await.ok();
        let retry = charge(&gateway.clone(), &request("tok_visa")).await.ok();
        assert_eq!(
            first,
            Some(ChargeOutcome::Charged {
                charge_id: "ch_1".to_owned()
            })
        );
        assert_eq!(retry, first);

        let mut other = request("tok_visa");
        other.idempotency_key = "another-order".to_owned();
        let second = charge(&gateway, &other).await.ok();
        assert_eq!(
            second,
            Some(ChargeOutcome::Charged {
                charge_id: "ch_2".to_owned()
            })
        );
        assert_eq!(fake.lock().expect("fake state").charges.len(), 2);
    }

    #[tokio::test]
    async fn maps_declines_and_invalid_requests() {
        let (base, _fake) = start_fake().await;
        let gateway = StripeGateway::new(SECRET.to_owned(), base);
        let cases = [
            (
                "tok_chargeDeclined",
                ChargeOutcome::Declined {
                    message: "Your card was declined.".to_owned(),
                },
            ),
            (
                "tok_cvc_400",
                ChargeOutcome::Declined {
                    message: "Your card's security code is incorrect.".to_owned(),
                },
            ),
            (
                "tok_invalid",
                ChargeOutcome::Invalid {
                    message: "Invalid token id: tok_invalid".to_owned(),
                },
            ),
            (
                "tok_missing",
                ChargeOutcome::Invalid {
                    message: "No such token: 'tok_missing'".to_owned(),
                },
            ),
        ];
        for (token, expected) in cases {
            let outcome = charge(&gateway, &request(token)).await.ok();
            assert_eq!(outcome, Some(expected), "token {token}");
        }
    }

    #[tokio::test]
    async fn retryable_answers_are_transient() {
        let (base, _fake) = start_fake().await;
        let gateway = StripeGateway::new(SECRET.to_owned(), base);
        for token in ["tok_rate_limited", "tok_conflict"] {
            let result = charge(&gateway, &request(token)).await;
            assert!(
                matches!(result, Err(GatewayError::Transient(_))),
                "{token}: {result:?}"
            );
        }
        // 500 the first time; the retry with the same key then charges.
        let result = charge(&gateway, &request("tok_fail_once")).await;
        assert!(
            matches!(result, Err(GatewayError::Transient(_))),
            "{result:?}"
        );
        let retry = charge(&gateway, &request("tok_fail_once")).await.ok();
        assert_eq!(
            retry,
            Some(ChargeOutcome::Charged {
                charge_id: "ch_1".to_owned()
            })
        );
    }

    #[tokio::test]
    async fn a_refused_key_is_permanent_and_never_shown() {
        let (base, _fake) = start_fake().await;
        let wrong = "sk_test_wrong_key_42";
        let gateway = StripeGateway::new(wrong.to_owned(), base);
        let result = gateway.charge(&request("tok_visa")).await;
        let Err(GatewayError::Permanent(message)) = result else {
            panic!("expected a permanent error, got {result:?}");
        };
        assert!(message.starts_with("401"), "{message}");
        assert!(message.contains(REDACTED), "{message}");
        assert!(!message.contains(wrong), "the secret key leaked: {message}");
        assert!(!format!("{gateway:?}").contains(wrong));
        assert_eq!(gateway.name(), "stripe");
    }

    #[tokio::test]
    async fn unusable_answers_are_permanent() {
        let (base, _fake) = start_fake().await;
        let no_id = StripeGateway::new(SECRET.to_owned(), base.clone());
        let result = charge(&no_id, &request("tok_no_id")).await;
        assert!(
            matches!(result, Err(GatewayError::Permanent(_))),
            "{result:?}"
        );
        // A wrong base URL: the server's own 404, not the provider's error format.
        let wrong_path = StripeGateway::new(SECRET.to_owned(), format!("{base}/nope"));
        let result = charge(&wrong_path, &request("tok_visa")).await;
        assert!(
            matches!(result, Err(GatewayError::Permanent(_))),
            "{result:?}"
        );
        // Not a URL at all.
        let not_a_url = StripeGateway::new(SECRET.to_owned(), "api.stripe.com".to_owned());
        let result = charge(&not_a_url, &request("tok_visa")).await;
        assert!(
            matches!(result, Err(GatewayError::Permanent(_))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_transient() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = closed.local_addr().expect("address");
        drop(closed);
        let gateway = StripeGateway::new(SECRET.to_owned(), format!("http://{addr}"));
        let result = charge(&gateway, &request("tok_visa")).await;
        assert!(
            matches!(result, Err(GatewayError::Transient(_))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_hanging_provider_times_out_as_transient() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            // Accepts and holds every connection without ever answering.
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let gateway = StripeGateway::new(SECRET.to_owned(), format!("http://{addr}"))
            .with_timeout(Duration::from_millis(500));
        let started = Instant::now();
        let result = charge(&gateway, &request("tok_visa")).await;
        assert!(
            matches!(result, Err(GatewayError::Transient(_))),
            "{result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn interprets_statuses_the_fake_does_not_send() {
        let status = |code: u16| StatusCode::from_u16(code).expect("a status code");
        let forbidden = interpret(status(403), br#"{"error":{"message":"no"}}"#);
        assert!(
            matches!(forbidden, Err(GatewayError::Permanent(_))),
            "{forbidden:?}"
        );
        let bad_gateway = interpret(status(502), b"<html>bad gateway</html>");
        assert!(
            matches!(bad_gateway, Err(GatewayError::Transient(_))),
            "{bad_gateway:?}"
        );
        let not_json = interpret(status(200), b"<html>ok</html>");
        assert!(
            matches!(not_json, Err(GatewayError::Permanent(_))),
            "{not_json:?}"
        );
        let empty_id = interpret(status(200), br#"{"id":""}"#);
        assert!(
            matches!(empty_id, Err(GatewayError::Permanent(_))),
            "{empty_id:?}"
        );
        let redirect = interpret(status(302), b"");
        assert!(
            matches!(redirect, Err(GatewayError::Permanent(_))),
            "{redirect:?}"
        );
        let bare_decline = interpret(status(402), b"");
        assert_eq!(bare_decline.ok(), Some(declined(None)));
    }
}
