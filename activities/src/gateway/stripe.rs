//! The Stripe gateway: `POST {api_base}/v1/charges`, form-encoded, idempotent by header.

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
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
#[derive(Clone, Debug)]
pub struct StripeGateway {
    client: reqwest::Client,
    secret_key: SecretString,
    api_base: String,
    timeout: Duration,
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
    pub fn new(secret_key: SecretString, api_base: String) -> Self {
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
        let secret = self.secret_key.expose_secret();
        if secret.is_empty() {
            text.to_owned()
        } else {
            text.replace(secret, REDACTED)
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
            .bearer_auth(self.secret_key.expose_secret())
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
    use super::*;

    // The gateway against a fake processor over HTTP: `tests/activities/stripe.rs`.

    #[test]
    fn interprets_statuses_the_fake_does_not_send() {
        // (status, body, whether a retry may help)
        let cases: [(u16, &[u8], bool); 5] = [
            (403, br#"{"error":{"message":"no"}}"#, false),
            (502, b"<html>bad gateway</html>", true),
            (200, b"<html>ok</html>", false),
            (200, br#"{"id":""}"#, false),
            (302, b"", false),
        ];
        for (code, body, retryable) in cases {
            let status = StatusCode::from_u16(code).expect("a status code");
            let answer = interpret(status, body);
            let fits = match answer {
                Err(GatewayError::Transient(_)) => retryable,
                Err(GatewayError::Permanent(_)) => !retryable,
                Ok(_) => false,
            };
            assert!(fits, "{code}: {answer:?}");
        }
        let bare_decline = interpret(StatusCode::PAYMENT_REQUIRED, b"");
        assert_eq!(bare_decline.ok(), Some(declined(None)));
    }
}
