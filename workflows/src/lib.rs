//! The order lifecycle in one place: the deterministic [`OrderWorkflow`] ([`order`]), the typed
//! [`OrderClient`] the API drives it with ([`client`]), the [`Refusal`]s it answers with
//! ([`refusal`]), the worker that runs it ([`worker`]), its search attributes
//! ([`search_attributes`]), the invariant checker that holds orders, tickets, payments and
//! workflows against each other ([`check`]), and the histories replay tests read ([`history`]).
//!
//! Its side effects (all order and payment SQL, the payment gateways) are the activities of the
//! `activities` crate.

pub mod check;
pub mod client;
pub mod history;
pub mod order;
pub mod reconciler;
pub mod refusal;
pub mod search_attributes;
pub mod temporal;
pub mod worker;

pub use client::OrderClient;
pub use order::{
    OrderInput, OrderOutcome, OrderState, OrderWorkflow, PayInput, PayOutcome, workflow_id,
};
pub use refusal::Refusal;
pub use temporal::TemporalSettings;
pub use worker::{OrderWorker, WorkerSettings};
