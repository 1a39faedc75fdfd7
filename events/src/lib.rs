//! The event bus. Every change appends its domain event to the `events` outbox in the same
//! transaction ([`entities::event`]); the [`relay`] publishes them to NATS JetStream, on the
//! [`stream`] `TICKETING`, as CloudEvents ([`message`]): subject `ticketing.<kind>`, `ce-id` the
//! event id. Delivery is at least once, in order per record; consumers de-duplicate by `ce-id`.

pub mod asyncapi;
pub mod bus;
pub mod live;
pub mod message;
pub mod relay;
pub mod stream;
pub mod tail;

pub use bus::BusSettings;
pub use relay::{RelaySettings, RelayStats};
pub use stream::StreamSettings;
