//! The payment gateway: charges a card token once per order.
//!
//! Two implementations share the [`PaymentGateway`] trait: [`SandboxGateway`], built in and offline,
//! which follows the card processor's test tokens, and [`StripeGateway`], which talks to the
//! provider's HTTP API. Both are idempotent on [`ChargeRequest::idempotency_key`] (the order id), so a
//! retried activity never charges the same order twice.

mod sandbox;
mod stripe;

use std::sync::Arc;

use secrecy::SecretString;

pub use sandbox::SandboxGateway;
pub use stripe::StripeGateway;

/// Which gateway charges cards, with what it needs (`PAYMENT_GATEWAY` and its settings).
#[derive(Debug, Clone)]
pub enum GatewaySettings {
    /// Built in, offline: follows the card processor's test tokens.
    Sandbox,
    /// Stripe's HTTP API at `api_base` (e.g. `https://api.stripe.com`).
    Stripe {
        secret_key: SecretString,
        api_base: String,
    },
}

impl GatewaySettings {
    /// The gateway these settings name.
    pub fn build(&self) -> Arc<dyn PaymentGateway> {
        match self {
            GatewaySettings::Sandbox => Arc::new(SandboxGateway::new()),
            GatewaySettings::Stripe {
                secret_key,
                api_base,
            } => Arc::new(StripeGateway::new(secret_key.clone(), api_base.clone())),
        }
    }
}

/// What to charge. `amount_cents` is integer cents (never a float), `currency` lowercase ISO code ("usd").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChargeRequest {
    /// The order id: the same key never charges twice.
    pub idempotency_key: String,
    /// The amount in the currency's minor unit (cents).
    pub amount_cents: i64,
    /// Lowercase ISO 4217 code, e.g. "usd".
    pub currency: String,
    /// Card token from the client, e.g. `tok_visa`.
    pub token: String,
    /// Shown on the provider's dashboard and statement.
    pub description: String,
}

/// The provider's answer to a charge that it understood.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChargeOutcome {
    /// The card was charged; `charge_id` is the provider's id of the charge.
    Charged { charge_id: String },
    /// The card was declined; `message` is shown to the buyer (e.g. "Your card was declined.").
    Declined { message: String },
    /// The request was refused as invalid (bad token, ...); `message` is shown to the buyer.
    Invalid { message: String },
}

/// A charge that produced no outcome: the buyer's card may or may not matter, ours does.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Worth retrying: network failure, timeout, 5xx, 429.
    #[error("the payment provider could not be reached: {0}")]
    Transient(String),
    /// Not worth retrying: our credentials or configuration are refused (401/403), or the answer cannot be understood.
    #[error("the payment provider refused the request: {0}")]
    Permanent(String),
}

/// Charges a card token; implemented by [`SandboxGateway`] and [`StripeGateway`].
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    /// Charges `request.amount_cents` on `request.token`, at most once per `request.idempotency_key`.
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError>;
    /// "sandbox" or "stripe", for logs.
    fn name(&self) -> &'static str;
}
