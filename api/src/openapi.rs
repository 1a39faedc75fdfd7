//! The OpenAPI document: every endpoint, schema, error response and both security schemes.

use poem_openapi::OpenApiService;

use crate::{
    health::HealthApi, orders::OrdersApi, payments::PaymentsApi, tickets::TicketsApi,
    users::UsersApi,
};

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
