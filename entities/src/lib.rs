//! The database entities (sea-orm) and the domain types they are built from.
//!
//! Domain types are parsed once, at the edge (`Email::parse`, `Money::parse`, `TicketTitle::parse`),
//! so code that holds one never checks it again.

pub mod domain;
pub mod event;
pub mod ticket;
pub mod user;

pub use domain::{Email, Money, TicketTitle};
