//! The HTTP API of ticketing (poem + poem-openapi) and the pieces of the `ticketing` binary.

pub mod auth;
pub mod bench;
pub mod check;
pub mod config;
pub mod database;
pub mod dev;
pub mod error;
pub mod health;
pub mod history;
pub mod input;
pub mod json;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod startup;
pub mod telemetry;
pub mod temporal;
pub mod tickets;
pub mod users;
