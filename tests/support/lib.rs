//! What the end-to-end tests share, one copy of each: fresh databases ([`database`]), Temporal
//! servers ([`temporal`]), loopback ports ([`ports`]), the fake card processor
//! ([`fake_stripe`]), the app under test with its worker ([`app`]), an HTTP client ([`http`]),
//! NATS with JetStream ([`nats`]), and the `ticketing` program for the tests that run it
//! ([`binary`]).

pub mod app;
pub mod binary;
pub mod database;
pub mod fake_stripe;
pub mod http;
pub mod nats;
pub mod ports;
pub mod proxy;
pub mod temporal;
pub mod watchdog;

pub use app::{
    Deal, JWT_KEY, TICKET_CODE_KEY, TestApp, TestConfig, TestUser, TestWorker, assert_error,
    assert_validation, error_entries, id_of, listed_and_ordered, order_ticket, post_order, serve,
    spawn_app, spawn_app_configured, spawn_app_with, spawn_live_app_with, test_config, total_count,
    uuid,
};
pub use database::TestDatabase;
