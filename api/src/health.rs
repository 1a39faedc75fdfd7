//! `/healthz` (the process is up) and `/readyz` (its dependencies answer).

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    payload::{Json, PlainText},
};
use sea_orm::DatabaseConnection;

use workflows::{OrderClient, temporal};

use crate::{
    error::{ErrorEntry, Fails, can},
    tags::Tag,
};

#[derive(Debug, Object)]
pub struct Status {
    /// `ok`.
    status: String,
}

/// What readiness found, dependency by dependency (no secrets).
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` or `not ready`.
    status: String,
    /// Each dependency's state: `ok`, or what is wrong.
    dependencies: Dependencies,
    /// On 503 only: the contract's error entry.
    #[oai(skip_serializing_if_is_none)]
    errors: Option<Vec<ErrorEntry>>,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct Dependencies {
    database: String,
    temporal: String,
    /// A worker polls the order workflows' task queue.
    order_workers: String,
    /// The event bus; informative only (the API works without it): `ok`, `off` (no `NATS_URL`:
    /// events wait in the outbox), or what is wrong (NATS away, no relay publishing).
    events: String,
}

/// What `/readyz` knows of the event bus.
#[derive(Clone)]
pub struct EventsHealth {
    /// The process's follower of the event stream, when NATS is configured.
    pub live: Option<events::live::LiveFeed>,
    /// This process relays the outbox.
    pub relay_here: bool,
}

/// Events that waited this long for the relay mean that none publishes.
const RELAY_LATE: std::time::Duration = std::time::Duration::from_secs(60);

impl EventsHealth {
    async fn state(&self, db: &DatabaseConnection) -> String {
        let waiting = database::outbox::oldest_unpublished_age(db)
            .await
            .ok()
            .flatten();
        let late = waiting.filter(|age| *age > RELAY_LATE);
        let Some(live) = &self.live else {
            return match waiting {
                Some(age) => format!(
                    "off: NATS_URL is not set, so no relay runs; events wait in the outbox (the \
                     oldest for {} s)",
                    age.as_secs()
                ),
                None => "off: NATS_URL is not set, so no relay runs; events will wait in the \
                         outbox"
                    .to_owned(),
            };
        };
        match (live.state(), late) {
            (events::live::FeedState::Waiting(why), _) => why,
            (events::live::FeedState::Following, Some(age)) => format!(
                "behind: the oldest event not yet published has waited {} s ({})",
                age.as_secs(),
                if self.relay_here {
                    "this process relays: see its log"
                } else {
                    "is a relay running? RELAY_EVENTS=true or `ticketing relay`"
                }
            ),
            (events::live::FeedState::Following, None) => "ok".to_owned(),
        }
    }
}

#[derive(ApiResponse)]
pub enum Ready {
    /// Ready: the database and Temporal answer, and a worker polls the order task queue.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// Not ready; `dependencies` says which one is missing.
    #[oai(status = 503)]
    NotReady(
        Json<Readiness>,
        /// Seconds to wait before asking again.
        #[oai(header = "Retry-After")]
        u32,
    ),
}

pub struct HealthApi;

#[OpenApi(tag = "Tag::Operations")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 while the process serves requests.
    #[oai(path = "/healthz", method = "get", operation_id = "getHealth")]
    async fn healthz(&self) -> Result<Json<Status>, Fails<{ can::INTERNAL }>> {
        Ok(Json(Status {
            status: "ok".into(),
        }))
    }

    /// Metrics
    ///
    /// Every metric of this process in the Prometheus text format: HTTP requests by route
    /// template, orders started and finished by outcome, reservation and payment latencies,
    /// payment gateway results, the relay's progress, and (in a process that runs a worker) the
    /// Temporal SDK's worker metrics, `temporal_...`.
    #[oai(path = "/metrics", method = "get", operation_id = "getMetrics")]
    async fn metrics(
        &self,
        metrics: Data<&telemetry::Metrics>,
    ) -> Result<PlainText<String>, Fails<{ can::INTERNAL }>> {
        Ok(PlainText(metrics.render().await))
    }

    /// Readiness
    ///
    /// 200 when the database and Temporal answer and a worker polls the order task queue; 503
    /// (with `Retry-After`) naming what is missing otherwise. The event bus is reported, not
    /// required: without it events wait in the outbox and the pages do not update live.
    #[oai(path = "/readyz", method = "get", operation_id = "getReadiness")]
    async fn readyz(
        &self,
        db: Data<&DatabaseConnection>,
        orders: Data<&OrderClient>,
        bus: Data<&EventsHealth>,
    ) -> Ready {
        let ok = || "ok".to_owned();
        let database = match database::ping(&db).await {
            Ok(()) => ok(),
            Err(e) => format!("unreachable: {}", brief(&e.to_string())),
        };
        let pinged = tokio::time::timeout(TEMPORAL_PATIENCE, temporal::ping(orders.temporal()));
        let temporal = match pinged.await {
            Ok(Ok(())) => ok(),
            Ok(Err(e)) => format!("unreachable: {}", brief(&e.to_string())),
            Err(_) => format!(
                "unreachable: no answer within {} s",
                TEMPORAL_PATIENCE.as_secs()
            ),
        };
        let order_workers = workers_state(&db, orders.task_queue()).await;
        let events = bus.state(&db).await;
        let ready = [&database, &temporal, &order_workers]
            .iter()
            .all(|state| state.as_str() == "ok");
        let readiness = |status: &str, errors| Readiness {
            status: status.to_owned(),
            dependencies: Dependencies {
                database: database.clone(),
                temporal: temporal.clone(),
                order_workers: order_workers.clone(),
                events: events.clone(),
            },
            errors,
        };
        if ready {
            Ready::Ready(Json(readiness("ready", None)))
        } else {
            tracing::warn!(%database, %temporal, %order_workers, "not ready");
            // The message names what is missing, not only that something is.
            let missing: Vec<String> = [
                ("database", &database),
                ("temporal", &temporal),
                ("order workers", &order_workers),
            ]
            .into_iter()
            .filter(|(_, state)| state.as_str() != "ok")
            .map(|(name, state)| format!("{name}: {state}"))
            .collect();
            let unavailable = ErrorEntry {
                message: format!("Not ready: {}", missing.join("; ")),
                field: None,
            };
            Ready::NotReady(
                Json(readiness("not ready", Some(vec![unavailable]))),
                RETRY_AFTER_SECONDS,
            )
        }
    }
}

/// Seconds a client should wait before asking for readiness again.
const RETRY_AFTER_SECONDS: u32 = 5;

/// How long readiness waits for Temporal's answer.
const TEMPORAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// `ok` when a worker's heartbeat on `task_queue` is fresh ([`database::workers::FRESH`]: a
/// worker that stopped, even killed, turns this within seconds), else since when none was seen.
/// Asked afresh on every call (no cache: a probe every few seconds is cheap).
async fn workers_state(db: &DatabaseConnection, task_queue: &str) -> String {
    use database::workers;
    let alive = match workers::alive(db, task_queue, workers::FRESH).await {
        Ok(alive) => alive,
        Err(e) => return format!("unknown: {}", brief(&e.to_string())),
    };
    if alive > 0 {
        return "ok".to_owned();
    }
    // The first words are those of before the heartbeats, which monitors may match on.
    let since = match workers::last_seen(db, task_queue).await {
        Ok(Some(seen)) => {
            let ago = (entities::now() - seen).num_seconds().max(0);
            format!("none has been seen for {ago} s")
        }
        Ok(None) => "none has been seen".to_owned(),
        Err(e) => format!("unknown: {}", brief(&e.to_string())),
    };
    format!("no worker polls the task queue {task_queue}: {since}")
}

/// The first line of an error, without anything that looks like a connection string.
fn brief(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.split_whitespace()
        .filter(|word| !word.contains("://"))
        .collect::<Vec<_>>()
        .join(" ")
}
