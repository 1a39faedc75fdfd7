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

/// Why the stream could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// NATS answered and said no (its storage is full, the limits are not allowed, ...): trying
    /// again will not help until an operator acts.
    #[error("NATS refused the stream {name}: {reason}")]
    Refused { name: String, reason: String },
    /// NATS did not answer (or has no JetStream yet): worth trying again.
    #[error("cannot reach JetStream for the stream {name}: {reason}")]
    Unreachable { name: String, reason: String },
}

impl StreamError {
    fn of(name: &str, error: jetstream::context::CreateStreamError) -> Self {
        use jetstream::context::CreateStreamErrorKind as Kind;
        let (name, reason) = (name.to_owned(), error.to_string());
        match error.kind() {
            Kind::JetStream(refusal) => StreamError::Refused {
                name,
                reason: match refusal.error_code() {
                    code if [
                        jetstream::ErrorCode::STORAGE_RESOURCES_EXCEEDED,
                        jetstream::ErrorCode::INSUFFICIENT_RESOURCES,
                        jetstream::ErrorCode::ACCOUNT_RESOURCES_EXCEEDED,
                    ]
                    .contains(&code) =>
                    {
                        format!(
                            "{reason} (JetStream reserves EVENTS_MAX_BYTES for each stream: \
                             lower it, or give JetStream more storage)"
                        )
                    }
                    _ => reason,
                },
            },
            Kind::EmptyStreamName
            | Kind::InvalidStreamName
            | Kind::DomainAndExternalSet
            | Kind::ResponseParse => StreamError::Refused { name, reason },
            Kind::JetStreamUnavailable | Kind::TimedOut | Kind::Response | Kind::NotFound => {
                StreamError::Unreachable { name, reason }
            }
        }
    }
}

/// Creates the stream, or updates its limits to these.
pub async fn ensure(js: &jetstream::Context, limits: &StreamSettings) -> Result<(), StreamError> {
    let wanted = config(limits);
    let name = &limits.name;
    js.get_or_create_stream(wanted.clone())
        .await
        .map_err(|e| StreamError::of(name, e))?;
    js.update_stream(wanted)
        .await
        .map_err(|e| StreamError::of(name, e))?;
    Ok(())
}
