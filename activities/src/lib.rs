//! The side effects of the order lifecycle, as Temporal activities, and the payment gateways.
//!
//! Each step of the lifecycle has one file under `order/`, holding its activity, its database
//! work, and the inputs and outcomes it exchanges with the workflow:
//!
//! - [`order::reserve`]: reserve the ticket and write the order row;
//! - [`order::payment`]: mark the order as being paid (`begin_payment`,
//!   `mark_awaiting_payment`), charge through the [`PaymentGateway`] (`charge`), and reopen the
//!   order after a charge that took nothing (`reopen`);
//! - [`order::complete`]: record the payment and complete the order;
//! - [`order::cancel`]: cancel (or expire) the order and free its ticket;
//! - [`order::facts`]: what the database holds of the order (`observe`).
//!
//! [`OrderActivities`] and the `#[activities]` block registering them are in `order/mod.rs`; the
//! gateways (the sandbox, Stripe) are in [`gateway`].
//!
//! Every activity is idempotent under retry: its database work does its change at most once and
//! answers as the first run did; writes are conditional on the version read, and append their
//! events to the outbox in the same transaction. Business outcomes (a taken ticket, a declined
//! card) are returned as values; database and network faults are retryable errors; a refusal
//! that no retry can change (our payment credentials refused) is a non-retryable failure.
//!
//! Each runs in a span with the order's id, the workflow's id and the attempt (so every log line
//! about it carries them), logs what it did, and counts it in the process's metrics (orders
//! started and finished by outcome, charges by result), once per change it actually made.

pub mod gateway;
pub mod order;

pub use gateway::{ChargeOutcome, ChargeRequest, GatewayError, GatewaySettings, PaymentGateway};
pub use order::{OrderActivities, outcome_of};
