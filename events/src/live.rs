//! Live updates inside one process: a single ordered JetStream consumer (new events only) feeds
//! every follower in the process (the web pages' server-sent events) from memory, so a thousand
//! open pages cost one consumer on the server.
//!
//! The feed starts at once and reaches NATS in the background: with NATS away, or before any
//! relay made the stream, followers simply get nothing until it can follow. Whenever the feed
//! starts following (again), the followers it had end, since they may have missed events; so does
//! a follower that falls too far behind, and every follower when the process stops. A page then
//! reconnects and starts from a fresh snapshot.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
    time::Duration,
};

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::{bus, bus::BusSettings};

/// How many events a follower may be behind before its stream is ended.
const BACKLOG: usize = 1024;
/// How long the feed waits before trying again when it cannot follow the stream: a moment at
/// first (a relay starting beside it makes the stream), then longer.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// The epoch of a feed that stopped.
const STOPPED: u64 = u64::MAX;

/// One event as followers see it: the CloudEvents attributes they need and the data.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// `ce-id`: the event's id in the outbox.
    pub id: String,
    /// `ce-type`: `ticket:updated`, ...
    pub kind: String,
    /// `ce-subject`: the record's id.
    pub record: String,
    /// The data, in the original events' shape.
    pub data: Value,
}

impl LiveEvent {
    /// The event of a message from the stream; `None` for one that is not ours.
    pub fn of(message: &async_nats::Message) -> Option<LiveEvent> {
        let headers = message.headers.as_ref()?;
        let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        Some(LiveEvent {
            id: header("ce-id")?,
            kind: header("ce-type")?,
            record: header("ce-subject").unwrap_or_default(),
            data: serde_json::from_slice(&message.payload).ok()?,
        })
    }

    /// Whether this event is about the order `id`: its own events, and those that name it
    /// (`payment:created`, `expiration:complete`). Not its ticket's (`ticket:updated` names the
    /// order that holds the ticket): those are the listing's.
    pub fn concerns_order(&self, id: &str) -> bool {
        (self.kind.starts_with("order:") && self.record == id)
            || (!self.is_ticket() && self.data.get("orderId").and_then(Value::as_str) == Some(id))
    }

    /// Whether a page that shows the order at version `shown` (its snapshot) still needs this
    /// event. The order's own events carry the version they made: one that is not newer was
    /// committed before the snapshot was read, and only reached the bus after the page began to
    /// follow it (the relay publishes a moment after the commit), so it would take the page back.
    /// Every other event is passed on.
    pub fn newer_than_order(&self, shown: Option<i64>) -> bool {
        let version = self.data.get("version").and_then(Value::as_i64);
        match (self.kind.starts_with("order:"), version, shown) {
            (true, Some(version), Some(shown)) => version > shown,
            _ => true,
        }
    }

    /// Whether this is a ticket's event.
    pub fn is_ticket(&self) -> bool {
        self.kind.starts_with("ticket:")
    }
}

/// The process's feed of live events. Cheap to clone.
#[derive(Clone)]
pub struct LiveFeed(Arc<Inner>);

struct Inner {
    events: broadcast::Sender<Arc<LiveEvent>>,
    following: AtomicBool,
    /// Grows each time the feed starts following; [`STOPPED`] once it stopped. A follower ends
    /// when it changes.
    epoch: watch::Sender<u64>,
    nats_url: String,
}

/// Whether the feed follows the stream now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    Following,
    /// Why not (NATS away, no stream yet).
    Waiting(String),
}

impl LiveFeed {
    /// Starts following the stream of `settings` in the background, until [`LiveFeed::stop`].
    pub fn start(settings: BusSettings) -> LiveFeed {
        let (events, _) = broadcast::channel(BACKLOG);
        let (epoch, _) = watch::channel(0);
        let feed = LiveFeed(Arc::new(Inner {
            events,
            following: AtomicBool::new(false),
            epoch,
            nats_url: settings.nats_url.clone(),
        }));
        let running = feed.clone();
        let mut epoch = feed.0.epoch.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = epoch.wait_for(|epoch| *epoch == STOPPED) => {}
                _ = running.run(settings) => {}
            }
            running.0.following.store(false, Relaxed);
        });
        feed
    }

    /// Ends the feed and every follower's stream (the process is shutting down).
    pub fn stop(&self) {
        self.0.epoch.send_replace(STOPPED);
    }

    pub fn state(&self) -> FeedState {
        if self.0.following.load(Relaxed) {
            FeedState::Following
        } else {
            FeedState::Waiting(format!(
                "not following the events yet (NATS at {} away, or no relay has made the stream)",
                self.0.nats_url
            ))
        }
    }

    /// A follower of the events from now on.
    pub fn follow(&self) -> Follower {
        let epoch = self.0.epoch.subscribe();
        let since = *epoch.borrow();
        Follower {
            events: self.0.events.subscribe(),
            since,
            epoch,
        }
    }

    async fn run(&self, settings: BusSettings) {
        let client = match bus::client(&settings, "ticketing live updates").await {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "no live updates");
                return;
            }
        };
        let js = bus::jetstream(client);
        let mut outage = bus::Outage::default();
        let mut retry = RETRY_FIRST;
        // The last stream sequence seen: following again after a failure goes on after it.
        let mut last = 0;
        loop {
            let (error, followed) = self.follow_stream(&js, &settings, &mut last).await;
            self.0.following.store(false, Relaxed);
            if followed {
                retry = RETRY_FIRST;
                outage.over();
            }
            // The first tries often fail while a relay starting beside it makes the stream.
            if let Some((attempts, seconds)) = outage.failed()
                && retry >= RETRY_MAX
            {
                tracing::warn!(attempts, waited_seconds = seconds, error = %format!("{error:#}"),
                    "live updates wait for the event stream; trying again every few seconds");
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    /// Follows the stream until that fails; why it did, and whether it followed at all.
    async fn follow_stream(
        &self,
        js: &jetstream::Context,
        settings: &BusSettings,
        last: &mut u64,
    ) -> (anyhow::Error, bool) {
        let name = &settings.stream.name;
        let mut stream = match js.get_stream(name).await {
            Ok(stream) => stream,
            Err(e) => return (anyhow::anyhow!("no stream {name}: {e}"), false),
        };
        // A stream that restarted from nothing (its server lost its data) starts over.
        if let Ok(info) = stream.info().await
            && info.state.last_sequence < *last
        {
            *last = 0;
        }
        let config = consumer::pull::OrderedConfig {
            filter_subject: format!("{}.>", settings.stream.subject_prefix),
            deliver_policy: match *last {
                0 => consumer::DeliverPolicy::New,
                seen => consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: seen + 1,
                },
            },
            ..Default::default()
        };
        let consumer = match stream.create_consumer(config).await {
            Ok(consumer) => consumer,
            Err(e) => return (anyhow::anyhow!("cannot follow {name}: {e}"), false),
        };
        let mut messages = match consumer.messages().await {
            Ok(messages) => messages,
            Err(e) => return (anyhow::anyhow!("cannot follow {name}: {e}"), false),
        };
        self.0.following.store(true, Relaxed);
        // The followers so far may have missed events: they end, and start again from a
        // snapshot.
        self.0.epoch.send_modify(|epoch| {
            if *epoch != STOPPED {
                *epoch += 1;
            }
        });
        tracing::info!(stream = %name, "live updates follow the event stream");
        while let Some(next) = messages.next().await {
            match next {
                Ok(message) => {
                    if let Ok(info) = message.info() {
                        *last = info.stream_sequence;
                    }
                    if let Some(event) = LiveEvent::of(&message) {
                        // No follower right now is fine.
                        let _ = self.0.events.send(Arc::new(event));
                    }
                }
                Err(e) => return (anyhow::anyhow!("following {name}: {e}"), true),
            }
        }
        (anyhow::anyhow!("the stream {name} ended"), true)
    }
}

/// One follower of the feed (a page's stream of server-sent events).
pub struct Follower {
    events: broadcast::Receiver<Arc<LiveEvent>>,
    epoch: watch::Receiver<u64>,
    /// The feed's epoch when this follower began.
    since: u64,
}

impl Follower {
    /// The next event; `None` once this follower may have missed one (it fell too far behind, or
    /// the feed started following again) or the process stops: its page should start over from
    /// a snapshot.
    pub async fn next(&mut self) -> Option<Arc<LiveEvent>> {
        let since = self.since;
        if *self.epoch.borrow() != since {
            return None;
        }
        tokio::select! {
            event = self.events.recv() => event.ok(),
            _ = self.epoch.wait_for(|epoch| *epoch != since) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::LiveEvent;

    fn event(kind: &str, data: serde_json::Value) -> LiveEvent {
        LiveEvent {
            id: "1".into(),
            kind: kind.into(),
            record: "o".into(),
            data,
        }
    }

    #[test]
    fn an_order_event_the_snapshot_already_shows_is_not_sent_again() {
        let created = event("order:created", json!({"id": "o", "version": 0}));
        let cancelled = event("order:cancelled", json!({"id": "o", "version": 1}));
        assert!(!created.newer_than_order(Some(0)));
        assert!(cancelled.newer_than_order(Some(0)));
        assert!(!cancelled.newer_than_order(Some(1)));
        // Without a version to compare, nothing is held back.
        assert!(created.newer_than_order(None));
        let paid = event("payment:created", json!({"orderId": "o"}));
        assert!(paid.newer_than_order(Some(5)));
    }

    #[test]
    fn an_order_stream_passes_the_orders_events_and_those_naming_it_but_not_its_tickets() {
        assert!(event("order:cancelled", json!({"id": "o", "version": 1})).concerns_order("o"));
        assert!(event("payment:created", json!({"orderId": "o"})).concerns_order("o"));
        assert!(!event("payment:created", json!({"orderId": "p"})).concerns_order("o"));
        let reserved = LiveEvent {
            record: "t".into(),
            ..event(
                "ticket:updated",
                json!({"id": "t", "version": 1, "orderId": "o"}),
            )
        };
        assert!(!reserved.concerns_order("o"));
    }
}
