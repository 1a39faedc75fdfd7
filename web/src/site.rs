//! What every page handler shares: the way to the API and how the pages look and behave.

use crate::backend::Backend;

/// How the pages look and behave.
#[derive(Clone, Default)]
pub struct WebConfig {
    /// Charges go to Stripe: the form asks for a card token instead of offering test cards.
    pub stripe: bool,
    /// The event bus's live feed: with it, the listing and the order page follow changes.
    pub live: Option<events::live::LiveFeed>,
    /// The currency prices are in (ISO 4217, lower case), for the forms and the live listing.
    pub currency: String,
}

/// What every page handler shares.
pub struct Web {
    pub backend: Backend,
    pub config: WebConfig,
}
