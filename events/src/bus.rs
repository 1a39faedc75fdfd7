//! Reaching the bus: NATS at `NATS_URL`, and the stream the events are on.

use std::time::Duration;

use async_nats::jetstream;

use crate::stream::StreamSettings;

/// Where the events go: the NATS server and the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusSettings {
    /// `nats://host:4222`
    pub nats_url: String,
    pub stream: StreamSettings,
}

/// A NATS client that keeps trying to reach `settings.nats_url` in the background (the first
/// time too), and reconnects after the server went away. `name` shows in the server's
/// connection list (`ticketing relay`, ...).
pub async fn client(settings: &BusSettings, name: &str) -> anyhow::Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        // Reconnect at most every 2 s while the server is away.
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64 * 250).clamp(100, 2_000))
        })
        .connect(&settings.nats_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot use NATS_URL {}: {e}", settings.nats_url))
}

/// JetStream over `client`, whose requests give up after 5 s.
pub fn jetstream(client: async_nats::Client) -> jetstream::Context {
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(5));
    js
}

/// Whether `client` is connected now.
pub fn connected(client: &async_nats::Client) -> bool {
    client.connection_state() == async_nats::connection::State::Connected
}

/// How a failure that keeps recurring is reported: the first time, then every few seconds with
/// the number of attempts, never once per retry.
#[derive(Debug, Default)]
pub struct Outage {
    /// When it began, and when it was last reported.
    since: Option<(std::time::Instant, std::time::Instant)>,
    attempts: u32,
}

/// How often a recurring failure is reported again.
const REPORT_AGAIN_AFTER: Duration = Duration::from_secs(10);

impl Outage {
    /// One more failed attempt; `Some((attempts, seconds since it began))` when it should be
    /// reported now.
    pub fn failed(&mut self) -> Option<(u32, u64)> {
        let now = std::time::Instant::now();
        self.attempts += 1;
        match &mut self.since {
            None => {
                self.since = Some((now, now));
                Some((self.attempts, 0))
            }
            Some((began, said)) if said.elapsed() >= REPORT_AGAIN_AFTER => {
                *said = now;
                Some((self.attempts, began.elapsed().as_secs()))
            }
            Some(_) => None,
        }
    }

    /// It works again: `Some((attempts, seconds))` if there was an outage to end.
    pub fn over(&mut self) -> Option<(u32, u64)> {
        let (began, _) = self.since.take()?;
        let attempts = std::mem::take(&mut self.attempts);
        Some((attempts, began.elapsed().as_secs()))
    }
}
