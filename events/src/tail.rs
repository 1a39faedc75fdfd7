//! `ticketing events tail`: a durable JetStream consumer that prints one line per event, from
//! where it left off (or from the start of the stream), optionally of some kinds only.

use std::io::Write;

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;

use crate::{bus::BusSettings, message};

/// What to follow.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// Begin at the stream's first event (the durable consumer starts over).
    pub from_start: bool,
    /// Only these kinds (`order:created`, ...); all when empty.
    pub kinds: Vec<String>,
    /// The durable consumer's name: a tail with the same name goes on where the last one stopped.
    pub durable: String,
}

/// One line for an event: `<time> <kind> <record> #<id> <data>`.
pub fn line(headers: Option<&async_nats::HeaderMap>, payload: &[u8]) -> String {
    let header = |name: &str| {
        headers
            .and_then(|h| h.get(name))
            .map_or("-".to_owned(), |v| v.as_str().to_owned())
    };
    format!(
        "{} {} {} #{} {}",
        header("ce-time"),
        header("ce-type"),
        header("ce-subject"),
        header("ce-id"),
        String::from_utf8_lossy(payload)
    )
}

/// Prints events to `out` until the connection ends (or the process is stopped).
pub async fn tail(
    bus: &BusSettings,
    options: &TailOptions,
    mut out: impl Write,
) -> anyhow::Result<()> {
    let (nats_url, stream) = (&bus.nats_url, &bus.stream);
    let client = async_nats::connect(nats_url.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to NATS_URL {nats_url}: {e}"))?;
    let js = jetstream::new(client);
    let events = js
        .get_stream(&stream.name)
        .await
        .map_err(|e| anyhow::anyhow!("no stream {} (has a relay run?): {e}", stream.name))?;
    let config = consumer::pull::Config {
        durable_name: Some(options.durable.clone()),
        deliver_policy: if options.from_start {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::New
        },
        // One kind as `filter_subject`, which every JetStream server knows; several need 2.10's
        // `filter_subjects` (and are filtered here too, for older servers).
        filter_subject: match options.kinds.as_slice() {
            [kind] => message::subject(&stream.subject_prefix, kind),
            _ => String::new(),
        },
        filter_subjects: match options.kinds.as_slice() {
            [] | [_] => Vec::new(),
            kinds => kinds
                .iter()
                .map(|kind| message::subject(&stream.subject_prefix, kind))
                .collect(),
        },
        ack_policy: consumer::AckPolicy::Explicit,
        ..Default::default()
    };
    if options.from_start {
        let _ = events.delete_consumer(&options.durable).await;
    }
    let follower = match events.create_consumer(config.clone()).await {
        Ok(follower) => follower,
        // Another filter than last time: the consumer starts over with this one.
        Err(_) => {
            let _ = events.delete_consumer(&options.durable).await;
            events
                .create_consumer(config)
                .await
                .map_err(|e| anyhow::anyhow!("creating the consumer {}: {e}", options.durable))?
        }
    };
    let mut messages = follower
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("following {}: {e}", stream.name))?;
    while let Some(next) = messages.next().await {
        let message = next.map_err(|e| anyhow::anyhow!("receiving an event: {e}"))?;
        let kind = message
            .headers
            .as_ref()
            .and_then(|h| h.get("ce-type"))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        if options.kinds.is_empty() || options.kinds.contains(&kind) {
            writeln!(out, "{}", line(message.headers.as_ref(), &message.payload))?;
        }
        out.flush()?;
        message
            .ack()
            .await
            .map_err(|e| anyhow::anyhow!("acknowledging an event: {e}"))?;
    }
    Ok(())
}
