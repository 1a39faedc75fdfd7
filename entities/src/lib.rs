//! The database entities (sea-orm) and the domain types they are built from.
//!
//! Domain types are parsed once, at the edge (`Email::parse`, `Money::parse`, `TicketTitle::parse`),
//! so code that holds one never checks it again.

pub mod checkin;
pub mod commission;
pub mod domain;
pub mod event;
pub mod holding;
pub mod idempotency_key;
pub mod order;
pub mod payment;
pub mod request_key;
pub mod resale_cap;
pub mod ticket;
pub mod transfer;
pub mod user;
pub mod user_role;
pub mod worker_heartbeat;

pub use domain::{Email, Money, TicketTitle};
pub use resale_cap::ResalePriceCap;

/// The current time at the precision both databases keep (microseconds), so that a record built
/// in memory equals the same record read back.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
