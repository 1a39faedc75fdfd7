//! The OpenAPI document: every endpoint, schema, error response and both security schemes.

use poem_openapi::{OpenApiService, Tags};

use crate::{
    health::HealthApi, orders::OrdersApi, payments::PaymentsApi, tickets::TicketsApi,
    users::UsersApi,
};

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
    /// Health and readiness probes.
    Operations,
}

pub type Apis = (UsersApi, TicketsApi, OrdersApi, PaymentsApi, HealthApi);

pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (UsersApi, TicketsApi, OrdersApi, PaymentsApi, HealthApi),
        "ticketing",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "A ticket-resale marketplace. Every error has the body \
         `{\"errors\":[{\"message\":\"...\",\"field\":\"...\"}]}` (`field` only on validation errors). \
         Prices are JSON numbers in major units; times are ISO-8601 UTC.",
    )
}

/// The document as pretty JSON, as `GET /api/openapi.json` serves it.
pub fn document() -> String {
    service().spec()
}
