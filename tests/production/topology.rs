//! What `docker-compose.yml` runs, without Docker: every part a process of its own on loopback.
//! PostgreSQL (always: a database of the test's own on TEST_DATABASE_URL's server, or on the local
//! one), the Temporal dev server, NATS with JetStream, `ticketing migrate` once, two `serve`, two
//! `worker` (charging through the fake card processor) and a `relay`. Buyers go through both
//! servers; in the middle one worker, one server and the relay are killed with SIGKILL, and
//! clients retry on the other server with the same `Idempotency-Key`, as a load balancer's
//! clients would. Afterwards every order ended as its buyer asked, nothing was charged twice,
//! every event is on the bus once and in order per record, and `ticketing check` agrees.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::jetstream;
use devtools::{
    process::{ChildProcess, Launch, Output},
    scratch_database::ScratchDatabase,
};
use futures::StreamExt;
use serde_json::{Value, json};
use support::{
    JWT_KEY, TICKET_CODE_KEY,
    fake_stripe::{self, FakeStripe},
    http::Api,
    ports::free_port,
};
use tokio::sync::Semaphore;

/// Orders hold their ticket this long, so that the unpaid ones expire during the test. Long
/// enough that an order whose worker was killed is still open when it is paid: its workflow's
/// next task waits out the sticky queue's timeout (`workflows::worker`) before another worker
/// takes it, and CI's two cores are busy.
const WINDOW_SECONDS: u64 = 20;
const LIFECYCLES: usize = 24;

/// A `ticketing` process with its log in a file; killed on drop (by its [`ChildProcess`]).
struct Process {
    name: String,
    child: ChildProcess,
    log: PathBuf,
}

impl Process {
    fn start(name: &str, command: &str, env: &[(&str, String)], dir: &std::path::Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let launch = Launch::new(name, support::binary::ticketing())
            .args([command])
            .env_remove("NATS_URL")
            .env_remove("TEMPORAL_ADDRESS")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output(Output::NewLog(log.clone()));
        let child =
            ChildProcess::start(launch).unwrap_or_else(|e| panic!("cannot start {name}: {e:#}"));
        Process {
            name: name.to_owned(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        self.child.kill();
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.log());
        }
    }
}

/// A PostgreSQL database of the test's own, whatever TEST_DATABASE_URL says (the topology is
/// PostgreSQL's: several relays, advisory locks).
async fn postgres() -> ScratchDatabase {
    let server = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("ticketing_test_{}", uuid::Uuid::new_v4().simple());
    ScratchDatabase::create(&server, &name)
        .await
        .unwrap_or_else(|e| panic!("the topology test needs PostgreSQL at {server}: {e}"))
}

/// What a buyer wants of one order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wish {
    Pay,
    Cancel,
    LetExpire,
}

/// One lifecycle, through the servers in turn, retrying on the other server (same key) when one
/// does not answer. Returns the order's id.
async fn lifecycle(
    servers: Arc<Vec<Api>>,
    token: String,
    ticket: String,
    wish: Wish,
    i: usize,
) -> String {
    let key = format!("order-{}", uuid::Uuid::new_v4());
    let mut attempt = i;
    let order: Value = loop {
        let api = &servers[attempt % servers.len()];
        attempt += 1;
        match api.order_with_key(&token, &ticket, &key).await {
            Ok(response) if response.status() == 201 => break response.json().await.unwrap(),
            Ok(response) if response.status() == 503 => {}
            Ok(response) => panic!(
                "ordering answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            ),
            Err(_) => {} // that server is gone: the other one, same key
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let order_id = order["id"].as_str().unwrap().to_owned();
    match wish {
        Wish::LetExpire => {}
        Wish::Pay => {
            let key = format!("pay-{}", uuid::Uuid::new_v4());
            loop {
                let api = &servers[attempt % servers.len()];
                attempt += 1;
                match api.pay_with_key(&token, &order_id, "tok_visa", &key).await {
                    Ok(response) if response.status() == 201 => break,
                    Ok(response) if response.status() == 503 => {}
                    Ok(response) => panic!(
                        "paying answered {}: {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    ),
                    Err(_) => {}
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Wish::Cancel => loop {
            let api = &servers[attempt % servers.len()];
            attempt += 1;
            let path = format!("/api/orders/{order_id}");
            match api
                .client()
                .delete(api.url(&path))
                .bearer_auth(&token)
                .send()
                .await
            {
                Ok(response) if response.status() == 204 => break,
                Ok(response) if response.status() == 503 => {}
                Ok(response) => panic!(
                    "cancelling answered {}: {}",
                    response.status(),
                    response.text().await.unwrap_or_default()
                ),
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        },
    }
    order_id
}

#[tokio::test]
async fn the_topology_survives_losing_a_worker_a_server_and_the_relay() {
    let dir = std::env::temp_dir().join(format!(
        "ticketing-topology-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = postgres().await;
    let stripe = FakeStripe::start().await;
    let bus = support::nats::bus();
    let queue = format!("topology-{}", uuid::Uuid::new_v4().simple());
    let database = ("DATABASE_URL", db.url.clone());
    let temporal = [
        (
            "TEMPORAL_ADDRESS",
            support::temporal::shared_address().to_owned(),
        ),
        ("TEMPORAL_TASK_QUEUE", queue.clone()),
    ];
    let nats = [
        ("NATS_URL", bus.nats_url.clone()),
        ("EVENTS_STREAM", bus.stream.name.clone()),
        ("EVENTS_SUBJECT_PREFIX", bus.stream.subject_prefix.clone()),
    ];

    // The one-shot migration, then the long-running parts.
    let mut migrate = Process::start("migrate", "migrate", std::slice::from_ref(&database), &dir);
    let status = migrate.child.wait().unwrap();
    assert!(status.success(), "migrate failed:\n{}", migrate.log());
    let ports = [free_port(), free_port()];
    let mut servers: Vec<Process> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let mut env = vec![
                database.clone(),
                ("HTTP_ADDR", format!("127.0.0.1:{port}")),
                ("JWT_KEY", JWT_KEY.to_owned()),
                ("TICKET_CODE_KEY", TICKET_CODE_KEY.to_owned()),
                ("COOKIE_SECURE", "false".to_owned()),
                ("ORDER_EXPIRATION_SECONDS", WINDOW_SECONDS.to_string()),
                ("AUTH_ATTEMPTS_PER_ADDRESS", "100000".to_owned()),
            ];
            env.extend(temporal.iter().cloned());
            env.extend(nats.iter().cloned());
            Process::start(&format!("serve-{i}"), "serve", &env, &dir)
        })
        .collect();
    let mut workers: Vec<Process> = (0..2)
        .map(|i| {
            let mut env = vec![
                database.clone(),
                ("PAYMENT_GATEWAY", "stripe".to_owned()),
                ("STRIPE_SECRET_KEY", fake_stripe::SECRET_KEY.to_owned()),
                ("STRIPE_API_BASE", stripe.base.clone()),
                ("RECONCILE_EVERY_SECONDS", "0".to_owned()),
            ];
            env.extend(temporal.iter().cloned());
            Process::start(&format!("worker-{i}"), "worker", &env, &dir)
        })
        .collect();
    let relay_env: Vec<(&str, String)> = std::iter::once(database.clone())
        .chain(nats.iter().cloned())
        .collect();
    let mut relay = Process::start("relay", "relay", &relay_env, &dir);

    let apis: Vec<Api> = ports
        .iter()
        .map(|port| Api::new(&format!("http://127.0.0.1:{port}")))
        .collect();
    let started = Instant::now();
    for (api, server) in apis.iter().zip(servers.iter_mut()) {
        loop {
            server.assert_running();
            let ready = api
                .client()
                .get(api.url("/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} never got ready:\n{}",
                server.name,
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Sellers list every ticket before the trouble starts (listing takes no key).
    let seller = apis[0].new_user().await;
    let mut tickets = Vec::new();
    for i in 0..LIFECYCLES {
        let ticket = apis[i % 2]
            .ticket(&seller.token, &format!("Topology {i}"), json!(10 + i))
            .await;
        tickets.push(ticket["id"].as_str().unwrap().to_owned());
    }
    let mut buyers = Vec::new();
    for i in 0..LIFECYCLES {
        buyers.push(apis[i % 2].new_user().await.token);
    }

    let shared = Arc::new(apis.clone());
    let gate = Arc::new(Semaphore::new(6));
    let wishes: Vec<Wish> = (0..LIFECYCLES)
        .map(|i| [Wish::Pay, Wish::Cancel, Wish::LetExpire][i % 3])
        .collect();
    let mut running = Vec::new();
    for i in 0..LIFECYCLES {
        let (through, gate) = (shared.clone(), gate.clone());
        let (token, ticket, wish) = (buyers[i].clone(), tickets[i].clone(), wishes[i]);
        running.push(tokio::spawn(async move {
            let _turn = gate.acquire_owned().await.unwrap();
            lifecycle(through, token, ticket, wish, i).await
        }));
        if i == LIFECYCLES / 3 {
            // In the middle of it all: a worker, a server and the relay die.
            tokio::time::sleep(Duration::from_millis(300)).await;
            workers[0].kill();
            servers[1].kill();
            relay.kill();
        }
    }
    let mut orders = Vec::new();
    for handle in running {
        orders.push(handle.await.expect("a lifecycle finished"));
    }
    // The relay comes back (as compose's restart policy would bring it).
    let _relay = Process::start("relay-again", "relay", &relay_env, &dir);

    // Every order ends as its buyer wanted (the unpaid ones by expiry).
    let conn = database::connect(&db.url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(WINDOW_SECONDS + 60);
    let ended = loop {
        use sea_orm::EntityTrait;
        let rows = entities::order::Entity::find().all(&conn).await.unwrap();
        let by_id: HashMap<String, entities::order::Model> =
            rows.into_iter().map(|o| (o.id.to_string(), o)).collect();
        if orders
            .iter()
            .all(|id| by_id.get(id).is_some_and(|o| !o.is_open()))
        {
            break by_id;
        }
        workers[1].assert_running();
        assert!(
            Instant::now() < deadline,
            "orders still open:\n{}",
            workers[1].log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(ended.len(), LIFECYCLES, "one order per lifecycle, no ghost");
    let charges = stripe.charges();
    for (order_id, wish) in orders.iter().zip(&wishes) {
        use entities::order::{CancelReason, Status};
        let order = &ended[order_id];
        let (status, reason) = (order.status, order.cancel_reason);
        let charged: Vec<_> = charges
            .iter()
            .filter(|c| c.key.starts_with(order_id.as_str()))
            .collect();
        match wish {
            Wish::Pay => {
                assert_eq!(status, Status::Complete, "{order_id}");
                assert_eq!(charged.len(), 1, "{order_id} charged once: {charged:?}");
                assert_eq!(charged[0].amount, order.price_cents);
            }
            Wish::Cancel => {
                assert_eq!(
                    (status, reason),
                    (Status::Cancelled, Some(CancelReason::Cancelled))
                );
                assert!(charged.is_empty());
            }
            Wish::LetExpire => {
                assert_eq!(
                    (status, reason),
                    (Status::Cancelled, Some(CancelReason::Expired))
                );
                assert!(charged.is_empty());
            }
        }
    }

    // Every event on the bus once, in order per record, once the relay caught up.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let written = entities::event::Entity::find().count(&conn).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while entities::event::Entity::find()
        .filter(entities::event::Column::PublishedAt.is_null())
        .count(&conn)
        .await
        .unwrap()
        > 0
    {
        assert!(Instant::now() < deadline, "the relay did not catch up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let client = async_nats::connect(bus.nats_url.as_str()).await.unwrap();
    let js = jetstream::new(client);
    let stream = js.get_stream(&bus.stream.name).await.unwrap();
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut seen: Vec<(i64, String, i64)> = Vec::new();
    while (seen.len() as u64) < written {
        let next = tokio::time::timeout(Duration::from_secs(10), messages.next()).await;
        let Ok(Some(Ok(message))) = next else { break };
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()
        };
        let data: Value = serde_json::from_slice(&message.payload).unwrap();
        let kind = header("ce-type");
        let record = format!(
            "{}:{}",
            kind.split(':').next().unwrap(),
            header("ce-subject")
        );
        seen.push((
            header("ce-id").parse().unwrap(),
            record,
            data["version"].as_i64().unwrap_or(-1),
        ));
    }
    let mut ids: Vec<i64> = seen.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids.len() as u64, written, "every event is on the bus");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as u64, written, "each once");
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (id, record, version) in &seen {
        if *version >= 0
            && let Some(before) = last.insert(record, *version)
        {
            assert!(
                *version > before,
                "{record}: event {id} has version {version} after {before}"
            );
        }
    }
    let _ = js.delete_stream(&bus.stream.name).await;

    // And the checker agrees.
    let check = tokio::process::Command::new(support::binary::ticketing())
        .arg("check")
        .env("DATABASE_URL", &db.url)
        .env("TEMPORAL_ADDRESS", support::temporal::shared_address())
        .env("TEMPORAL_TASK_QUEUE", &queue)
        .env_remove("NATS_URL")
        .output()
        .await
        .unwrap();
    assert!(
        check.status.success(),
        "ticketing check disagrees:\n{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
