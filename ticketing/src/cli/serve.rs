//! `ticketing serve`: the HTTP server's flags, and the groups of them `dev` shares (the address
//! and limits, the guards, orders, sessions and ticket codes).

use std::net::SocketAddr;

use clap::Args;

use super::{DatabaseArgs, PaymentArgs, RelayHereArgs, TemporalArgs};

#[derive(Debug, Args)]
// The payment flags are the workers' (see `PaymentArgs`); the server says what it does with them.
#[command(
    mut_arg("payment_gateway", |arg| arg.help(
        "Which payment gateway the workers charge through (`sandbox` or `stripe`); the order \
         page's payment form follows it",
    )),
    mut_arg("currency", |arg| arg.help(
        "Currency of every price (ISO 4217, lowercase), as the workers charge it; the API shows \
         it beside each price",
    )),
)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    #[command(flatten)]
    pub orders: OrderArgs,
    /// With NATS_URL, the pages follow the events live; with RELAY_EVENTS, this process relays
    /// the outbox too.
    #[command(flatten)]
    pub events: RelayHereArgs,
    #[command(flatten)]
    pub payment: PaymentArgs,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "HTTP_ADDR",
        value_name = "HTTP_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub http_addr: SocketAddr,

    /// Lifetime of a session token, in seconds.
    #[arg(long, env = "JWT_TTL_SECONDS", value_name = "JWT_TTL_SECONDS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub jwt_ttl_seconds: u64,

    /// Where clients reach the API (`https://tickets.example.com`), for the OpenAPI document's
    /// `servers`; the document says `/` (this server) when unset.
    #[arg(long, env = "PUBLIC_URL", value_name = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", value_name = "BODY_LIMIT_BYTES", default_value_t = 65_536,
          value_parser = clap::value_parser!(u64).range(1024..=16_777_216))]
    pub body_limit_bytes: u64,

    #[command(flatten)]
    pub guards: GuardArgs,
}

/// What protects the server from its clients.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// Credential attempts (signup, signin, token) allowed per account in a window; beyond that,
    /// 429 with `Retry-After`.
    #[arg(long, env = "AUTH_ATTEMPTS_PER_ACCOUNT", value_name = "AUTH_ATTEMPTS_PER_ACCOUNT",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub auth_attempts_per_account: u32,

    /// Credential attempts allowed per client address in a window.
    #[arg(long, env = "AUTH_ATTEMPTS_PER_ADDRESS", value_name = "AUTH_ATTEMPTS_PER_ADDRESS",
          default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub auth_attempts_per_address: u32,

    /// The window of those limits, in seconds (attempts come back one by one over it).
    #[arg(long, env = "AUTH_WINDOW_SECONDS", value_name = "AUTH_WINDOW_SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub auth_window_seconds: u64,

    /// Take the client's address from `X-Forwarded-For` (the last address in it): only behind a
    /// proxy you trust that appends it. Otherwise the socket's peer is the client.
    #[arg(long, env = "TRUST_FORWARDED_FOR", value_name = "TRUST_FORWARDED_FOR",
          default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// Passwords hashed or checked at once (19 MiB each); others wait, and get 503 after 10 s.
    /// 0: one per CPU core, at most one per 64 MiB of available memory.
    #[arg(long, env = "PASSWORD_HASHING_CONCURRENCY", value_name = "PASSWORD_HASHING_CONCURRENCY",
          default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=256))]
    pub password_hashing_concurrency: u64,
}

#[derive(Debug, Args)]
pub struct OrderArgs {
    /// How long an order holds its ticket before it expires, in seconds.
    #[arg(long, env = "ORDER_EXPIRATION_SECONDS", value_name = "ORDER_EXPIRATION_SECONDS",
          default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub order_expiration_seconds: u64,

    /// How many reservations (`POST /api/orders`) this process handles at once, from their first
    /// database read to their workflow's answer; beyond that it answers 503 with `Retry-After` at
    /// once, before any work.
    #[arg(long, env = "MAX_RESERVATIONS_IN_FLIGHT", value_name = "MAX_RESERVATIONS_IN_FLIGHT",
          default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_reservations_in_flight: u64,

    /// How much a ticket bought here may be sold on for, as a percentage of what it last sold
    /// for here (100: no more than was paid). A ticket never sold here is not capped.
    #[arg(long, env = "RESALE_PRICE_CAP_PERCENT", value_name = "RESALE_PRICE_CAP_PERCENT",
          default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub resale_price_cap_percent: u32,
}

/// The sessions' key and cookie, and the key of the ticket codes, as `serve` takes them; `dev`
/// gives them other defaults (see `DevArgs`).
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Key that signs session tokens (HS256), at least 32 characters. Required.
    #[arg(long, env = "JWT_KEY", value_name = "JWT_KEY", hide_env_values = true)]
    pub jwt_key: Option<String>,

    /// Key that signs the ticket codes holders show at the door (HMAC-SHA256), at least 32
    /// characters, not JWT_KEY. Required.
    #[arg(
        long,
        env = "TICKET_CODE_KEY",
        value_name = "TICKET_CODE_KEY",
        hide_env_values = true
    )]
    pub ticket_code_key: Option<String>,

    /// Mark the session cookie `Secure` (set it behind HTTPS).
    #[arg(long, env = "COOKIE_SECURE", value_name = "COOKIE_SECURE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
}

fn parse_public_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some(("http" | "https", rest))
            if !rest.is_empty() && !rest.contains(char::is_whitespace) =>
        {
            Ok(url.to_owned())
        }
        _ => Err("an http(s) URL such as https://tickets.example.com".into()),
    }
}
