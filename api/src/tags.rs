//! The groups of operations in the OpenAPI document.

use poem_openapi::Tags;

#[derive(Tags)]
pub enum Tag {
    /// Accounts and sessions: a `session` cookie for browsers, a bearer token for API clients.
    Users,
    /// Tickets for sale.
    Tickets,
    /// Orders: each holds its ticket for a window while the buyer pays; an `OrderWorkflow` runs it.
    Orders,
    /// Paying for orders.
    Payments,
    /// The tickets people hold, their codes, and checking them in at the door.
    Holdings,
    /// Health and readiness probes.
    Operations,
}
