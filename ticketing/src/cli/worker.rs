//! `ticketing worker`: the worker's flags, and the groups of them `dev` shares (the payment
//! gateway and currency, which `serve` must agree with too, Stripe, the reconciler).

use clap::Args;

use super::{DatabaseArgs, MetricsArgs, RelayHereArgs, TemporalArgs};

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub temporal: TemporalArgs,
    #[command(flatten)]
    pub payment: PaymentArgs,
    #[command(flatten)]
    pub stripe: StripeArgs,
    #[command(flatten)]
    pub reconciler: ReconcilerArgs,
    #[command(flatten)]
    pub events: RelayHereArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Which payment gateway charges cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GatewayKind {
    /// Built in: follows the card processor's test tokens (`tok_visa`, `tok_chargeDeclined`, ...).
    Sandbox,
    /// Stripe over HTTP (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`).
    Stripe,
}

/// How orders are paid: the workers charge through the gateway in the currency, and the HTTP
/// server (`serve`) shows both.
#[derive(Debug, Args)]
pub struct PaymentArgs {
    /// `sandbox` or `stripe`.
    #[arg(long, env = "PAYMENT_GATEWAY", value_name = "PAYMENT_GATEWAY", value_enum,
          default_value_t = GatewayKind::Sandbox)]
    pub payment_gateway: GatewayKind,

    /// Currency of every price (ISO 4217, lowercase).
    #[arg(long, env = "CURRENCY", value_name = "CURRENCY", default_value = "usd",
          value_parser = parse_currency)]
    pub currency: String,
}

/// The Stripe account the workers charge (with PAYMENT_GATEWAY=stripe).
#[derive(Debug, Args)]
pub struct StripeArgs {
    /// Secret key of the Stripe account; required with PAYMENT_GATEWAY=stripe.
    #[arg(
        long,
        env = "STRIPE_SECRET_KEY",
        value_name = "STRIPE_SECRET_KEY",
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<String>,

    /// Base URL of the Stripe API.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        value_name = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,
}

#[derive(Debug, Args)]
pub struct ReconcilerArgs {
    /// How often the reconciler runs (a Temporal Schedule the worker registers at start-up): it
    /// cancels the orders whose workflow is gone, terminated or ended, and reports the overdue
    /// ones. In seconds; 0 turns it off.
    #[arg(long, env = "RECONCILE_EVERY_SECONDS", value_name = "RECONCILE_EVERY_SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub reconcile_every_seconds: u64,
}

fn parse_currency(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_lowercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err("a three-letter currency code such as usd".into())
    }
}
