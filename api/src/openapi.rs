//! The OpenAPI document: every endpoint, schema, error response and both security schemes.

use poem_openapi::OpenApiService;

use crate::{
    checkins::CheckinsApi, health::HealthApi, holdings::HoldingsApi, listings::ListingsApi,
    orders::OrdersApi, payments::PaymentsApi, tickets::TicketsApi, users::UsersApi,
};

pub type Apis = (
    UsersApi,
    TicketsApi,
    ListingsApi,
    OrdersApi,
    PaymentsApi,
    HoldingsApi,
    CheckinsApi,
    HealthApi,
);

/// The service at `public_url` (its `servers` entry; `/`, this server, when none is configured).
pub fn service_at(public_url: Option<&str>) -> OpenApiService<Apis, ()> {
    let service = service();
    match public_url {
        Some(url) => service.server(
            poem_openapi::ServerObject::new(url.trim_end_matches('/'))
                .description("ticketing (PUBLIC_URL)"),
        ),
        None => service.server(
            poem_openapi::ServerObject::new("/").description("the server this document came from"),
        ),
    }
}

fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            UsersApi,
            TicketsApi,
            ListingsApi,
            OrdersApi,
            PaymentsApi,
            HoldingsApi,
            CheckinsApi,
            HealthApi,
        ),
        "ticketing",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "A ticket-resale marketplace. Every error has the body \
         `{\"errors\":[{\"message\":\"...\",\"field\":\"...\"}]}` (`field` only on validation errors). \
         Prices are JSON numbers in major units; times are ISO-8601 UTC.",
    )
}

/// The document as pretty JSON, as `GET /api/openapi.json` serves it with no `PUBLIC_URL` (the
/// committed `openapi.json` is this).
pub fn document() -> String {
    document_at(None)
}

/// The document for `public_url`, with the links between operations (poem-openapi writes no
/// `links`): what a created ticket, order or payment leads to, so that clients and stateful
/// testers (schemathesis) can follow an order's life.
pub fn document_at(public_url: Option<&str>) -> String {
    let mut document: serde_json::Value =
        serde_json::from_str(&service_at(public_url).spec()).expect("poem-openapi writes JSON");
    for (path, method, status, links) in links() {
        if let Some(response) = document
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses/{status}",
                escape(path)
            ))
            .and_then(serde_json::Value::as_object_mut)
        {
            response.insert("links".to_owned(), links);
        }
    }
    crate::cross_site::document(&mut document);
    serde_json::to_string_pretty(&document).expect("a document serializes")
}

/// `/` as `~1` in a JSON pointer.
fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

/// Where each creation leads: (path, method, status, links).
fn links() -> Vec<(&'static str, &'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    let by_id = |operation: &str, description: &str| {
        json!({
            "operationId": operation,
            "parameters": { "id": "$response.body#/id" },
            "description": description,
        })
    };
    vec![
        (
            "/api/tickets",
            "get",
            "200",
            json!({
                "OrderFirstTicket": {
                    "operationId": "createOrder",
                    "requestBody": { "ticketId": "$response.body#/0/id" },
                    "description": "Order the first ticket for sale.",
                },
                "GetFirstTicket": {
                    "operationId": "getTicket",
                    "parameters": { "id": "$response.body#/0/id" },
                    "description": "The first ticket for sale.",
                },
            }),
        ),
        (
            "/api/tickets",
            "post",
            "201",
            json!({
                "GetTicket": by_id("getTicket", "The ticket just listed."),
                "UpdateTicket": by_id("updateTicket", "Edit the ticket just listed."),
                "OrderTicket": {
                    "operationId": "createOrder",
                    "requestBody": { "ticketId": "$response.body#/id" },
                    "description": "Order the ticket just listed (as another user).",
                },
            }),
        ),
        (
            "/api/tickets/{id}",
            "put",
            "200",
            json!({ "GetTicket": by_id("getTicket", "The ticket as edited.") }),
        ),
        (
            "/api/orders",
            "post",
            "201",
            json!({
                "GetOrder": by_id("getOrder", "The order just made."),
                "GetOrderWorkflow": by_id("getOrderWorkflow", "Its workflow's live state."),
                "CancelOrder": by_id("cancelOrder", "Cancel it (frees the ticket)."),
                "PayOrder": {
                    "operationId": "payOrder",
                    "requestBody": { "orderId": "$response.body#/id", "token": "tok_visa" },
                    "description": "Pay for it.",
                },
            }),
        ),
        (
            "/api/payments",
            "post",
            "201",
            json!({
                "GetPaidOrder": {
                    "operationId": "getOrder",
                    "parameters": { "id": "$response.body#/orderId" },
                    "description": "The order paid for, complete.",
                },
            }),
        ),
    ]
}

/// The methods the API answers at `path` (for the `Allow` header of a 405), from the document's
/// path templates (`/api/orders/{id}`).
pub fn allowed_methods(path: &str) -> Vec<String> {
    static TABLE: std::sync::OnceLock<Vec<(Vec<String>, Vec<String>)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let document: serde_json::Value =
            serde_json::from_str(&document()).expect("the document is JSON");
        document["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(template, operations)| {
                        let segments = template.split('/').map(str::to_owned).collect();
                        let methods = operations
                            .as_object()
                            .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    let asked: Vec<&str> = path.split('/').collect();
    table
        .iter()
        .find(|(segments, _)| {
            segments.len() == asked.len()
                && segments
                    .iter()
                    .zip(&asked)
                    .all(|(template, given)| template.starts_with('{') || template == given)
        })
        .map(|(_, methods)| methods.clone())
        .unwrap_or_default()
}
