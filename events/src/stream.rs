//! The `TICKETING` stream: every subject under `ticketing.>`, on file, with limits from the
//! settings; created, or brought up to date, at every start. (Name and subject prefix are
//! settings too, so that several deployments, or tests, can share one NATS.)

use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// The stream's name unless configured otherwise.
pub const NAME: &str = "TICKETING";

/// The stream: its name, the prefix of its subjects, its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    pub name: String,
    /// Subjects are `<prefix>.<kind>`: `ticketing.ticket.created`.
    pub subject_prefix: String,
    /// Events older than this are dropped from the stream.
    pub max_age: Duration,
    /// The stream drops its oldest events beyond this size.
    pub max_bytes: i64,
    /// JetStream drops a message whose `Nats-Msg-Id` it saw this recently (a relay that crashed
    /// after publishing and before marking the row sends it again).
    pub duplicate_window: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            name: NAME.into(),
            subject_prefix: crate::message::SUBJECT_PREFIX.into(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 1 << 30,
            duplicate_window: Duration::from_secs(10 * 60),
        }
    }
}

fn config(limits: &StreamSettings) -> stream::Config {
    stream::Config {
        name: limits.name.clone(),
        subjects: vec![format!("{}.>", limits.subject_prefix)],
        storage: stream::StorageType::File,
        max_age: limits.max_age,
        max_bytes: limits.max_bytes,
        duplicate_window: limits.duplicate_window,
        ..Default::default()
    }
}

/// Creates the stream, or updates its limits to these.
pub async fn ensure(js: &jetstream::Context, limits: &StreamSettings) -> anyhow::Result<()> {
    let wanted = config(limits);
    let name = &limits.name;
    js.get_or_create_stream(wanted.clone())
        .await
        .map_err(|e| anyhow::anyhow!("creating the stream {name}: {e}"))?;
    js.update_stream(wanted)
        .await
        .map_err(|e| anyhow::anyhow!("updating the stream {name}: {e}"))?;
    Ok(())
}
