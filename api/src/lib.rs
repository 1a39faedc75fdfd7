//! The HTTP API of ticketing (poem + poem-openapi), and nothing else: routes, sessions, the one
//! error body, lenient inputs, the OpenAPI document. Orders and payments go through the order
//! lifecycle's typed client ([`workflows::OrderClient`]); the pages (`web`) are mounted beside it.

pub mod auth;
pub mod checkins;
pub mod connection_errors;
pub mod cross_site;
pub mod error;
pub mod health;
pub mod holdings;
pub mod idempotency;
pub mod input;
pub mod limits;
pub mod listings;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod request_keys;
pub mod request_log;
pub mod security_headers;
pub mod settings;
pub mod startup;
pub mod tags;
pub mod tickets;
pub mod users;

pub use settings::{EventBus, InvalidSetting, JwtKey, Settings, TicketCodeKey};
pub use startup::Application;
