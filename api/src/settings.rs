//! What the HTTP application needs, resolved and checked (by the `ticketing` binary from its
//! environment and flags); nothing here reads the environment.

use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use workflows::TemporalSettings;

/// Why a setting was refused; the message is the one line the operator sees.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSetting(pub String);

/// The key that signs session tokens (HS256): at least [`JwtKey::MIN_CHARS`] characters.
#[derive(Debug, Clone)]
pub struct JwtKey(SecretString);

impl JwtKey {
    pub const MIN_CHARS: usize = 32;

    pub fn new(key: &str) -> Result<Self, InvalidSetting> {
        if key.chars().count() < Self::MIN_CHARS {
            return Err(InvalidSetting(format!(
                "JWT_KEY must be at least {} characters long",
                Self::MIN_CHARS
            )));
        }
        Ok(JwtKey(SecretString::from(key)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

/// The key that signs ticket codes (HMAC-SHA256): a key of its own, so that changing the session
/// key signs no one out of their tickets and the reverse; at least [`TicketCodeKey::MIN_CHARS`]
/// characters.
#[derive(Debug, Clone)]
pub struct TicketCodeKey(SecretString);

impl TicketCodeKey {
    pub const MIN_CHARS: usize = 32;

    pub fn new(key: &str) -> Result<Self, InvalidSetting> {
        if key.chars().count() < Self::MIN_CHARS {
            return Err(InvalidSetting(format!(
                "TICKET_CODE_KEY must be at least {} characters long",
                Self::MIN_CHARS
            )));
        }
        Ok(TicketCodeKey(SecretString::from(key)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

/// Everything the HTTP application needs, whichever command starts it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub http_addr: SocketAddr,
    pub jwt_key: JwtKey,
    /// Signs the codes that holders show at the door.
    pub ticket_code_key: TicketCodeKey,
    /// How far above its last sale's price a ticket bought here may be sold on.
    pub resale_price_cap: entities::ResalePriceCap,
    pub jwt_ttl_seconds: u64,
    pub cookie_secure: bool,
    pub body_limit_bytes: u64,
    pub temporal: TemporalSettings,
    pub order_expiration_seconds: u64,
    /// Reservations in hand at once; more are shed with 503.
    pub max_reservations_in_flight: usize,
    /// The order page asks for a card processor token instead of offering the sandbox's test cards.
    pub stripe_card_form: bool,
    /// How often credentials may be tried, per account and per client address.
    pub credential_limits: crate::limits::CredentialLimits,
    /// Take the client's address from `X-Forwarded-For` (set only behind a proxy you trust,
    /// which appends the address it saw): otherwise the socket's peer is the client.
    pub trust_forwarded_for: bool,
    /// How many passwords may be hashed or checked at once (each takes 19 MiB).
    pub password_hashing_concurrency: usize,
    /// The event bus, if any: the pages follow it live, `/readyz` reports on it.
    pub events: EventBus,
    /// The currency every price is in (ISO 4217, lower case), as the workers charge it.
    pub currency: String,
    /// Where clients reach this API (`https://tickets.example.com`): the OpenAPI document's
    /// `servers`; `/` (wherever the document came from) when unset.
    pub public_url: Option<String>,
}

/// The event bus as the HTTP application sees it.
#[derive(Debug, Clone, Default)]
pub struct EventBus {
    /// NATS and the event stream (`NATS_URL`): the pages follow the events live.
    pub bus: Option<events::BusSettings>,
    /// This process relays the outbox too (`RELAY_EVENTS`).
    pub relay_here: bool,
}
