//! `ticketing dev` as a newcomer runs it: the binary starts its own Temporal dev server (from the
//! `temporal` CLI, which must be installed: a missing CLI fails this test) and its own NATS server
//! (`nats-server`, likewise), keeps everything in its data folder, serves the API, registers the
//! search attributes, exposes the Temporal UI, relays the events (which `ticketing events tail`
//! shows), and stops cleanly (taking its servers with it) on SIGTERM.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use devtools::process::{ChildProcess, Launch, Output};
use serde_json::{Value, json};
use support::{http::Api, ports::free_port};

async fn wait_until_up(client: &reqwest::Client, url: &str, child: &mut ChildProcess, log: &Path) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "`ticketing dev` exited with {status}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "`ticketing dev` did not answer on {url} within 90 s:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Free ports for `dev`: HTTP, Temporal, the Temporal UI, NATS.
fn dev_ports() -> (u16, u16, u16, u16) {
    (free_port(), free_port(), free_port(), free_port())
}

/// `ticketing dev` in `dir` on the given ports (HTTP, Temporal, Temporal UI, NATS), with nothing
/// else configured, its output in `log`; killed on drop if the test failed before it stopped it.
fn start_dev(
    dir: &Path,
    (http, temporal, ui, nats): (u16, u16, u16, u16),
    log: &Path,
) -> ChildProcess {
    let launch = Launch::new("`ticketing dev`", support::binary::ticketing())
        .args(["dev"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("JWT_KEY")
        .env_remove("TICKET_CODE_KEY")
        .env_remove("TEMPORAL_ADDRESS")
        .env_remove("NATS_URL")
        .env_remove("DATA_DIR")
        .env("HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("TEMPORAL_DEV_PORT", temporal.to_string())
        .env("TEMPORAL_UI_PORT", ui.to_string())
        .env("NATS_DEV_PORT", nats.to_string())
        .output(Output::NewLog(log.to_owned()));
    ChildProcess::start(launch).expect("the ticketing binary starts")
}

/// A new seller lists a ticket; a new buyer orders it. Returns the order id.
async fn order_a_ticket(base: &str) -> String {
    let api = Api::new(base);
    let (seller, buyer) = (api.new_user().await, api.new_user().await);
    let ticket = api.ticket(&seller.token, "Dev concert", json!(30)).await;
    let response = api
        .order(&buyer.token, ticket["id"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    order["id"].as_str().unwrap().to_owned()
}

/// The first `count` lines `ticketing events tail --from-start` prints in `dir` with nothing
/// configured (so it follows the `dev` running there), within 20 s.
async fn events_tail(dir: &Path, count: usize) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut tail = tokio::process::Command::new(support::binary::ticketing())
        .args(["events", "tail", "--from-start"])
        .current_dir(dir)
        .env_remove("NATS_URL")
        .env_remove("DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("ticketing events tail starts");
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while printed.len() < count {
        match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) => printed.push(line),
            _ => break,
        }
    }
    assert_eq!(printed.len(), count, "{printed:#?}");
    printed
}

/// `temporal <args> --output json --address <address>`, parsed.
fn temporal_json(args: &[&str], address: &str) -> Value {
    let output = Command::new(temporal_cli())
        .args(args)
        .args(["--output", "json", "--address", address])
        .output()
        .expect("the temporal CLI runs");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

fn temporal_cli() -> String {
    std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".into())
}

#[tokio::test]
async fn dev_runs_the_whole_system_on_embedded_defaults() {
    let dir = std::env::temp_dir().join(format!("ticketing-dev-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = dev_ports();
    let (http, temporal, ui, nats) = ports;
    let log = dir.join("dev.log");
    let mut running = start_dev(&dir, ports, &log);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{http}");
    wait_until_up(&client, &format!("{base}/readyz"), &mut running, &log).await;

    // The API answers, on SQLite in the data folder, with a generated key.
    let response = client
        .post(format!("{base}/api/users/signup"))
        .json(&json!({"email": "dev@example.com", "password": "secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !cookie.contains("Secure"),
        "dev serves plain HTTP: {cookie}"
    );
    let data = dir.join(".data");
    assert!(data.join("ticketing.db").is_file());
    assert!(data.join("jwt.key").is_file());
    assert!(data.join("ticket-code.key").is_file());
    assert!(data.join("temporal.db").is_file());
    assert!(
        data.join("nats").is_dir(),
        "JetStream keeps its streams in the data folder"
    );

    // The Temporal Web UI is served.
    let ui_page = client
        .get(format!("http://127.0.0.1:{ui}/"))
        .send()
        .await
        .unwrap();
    assert!(ui_page.status().is_success());

    // The search attributes are registered as Keyword.
    let listed = Command::new(temporal_cli())
        .args(["operator", "search-attribute", "list", "--output", "json"])
        .args(["--address", &format!("127.0.0.1:{temporal}")])
        .output()
        .expect("the temporal CLI runs");
    assert!(listed.status.success(), "{listed:?}");
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let custom = &listed["customAttributes"];
    for name in ["OrderStatus", "TicketId", "BuyerId"] {
        let kind = custom[name].as_str().unwrap_or_default();
        assert!(kind.contains("KEYWORD"), "{name} is {kind:?} in {listed}");
    }

    // An order runs as a workflow in the in-process worker, and operators find it by its search
    // attributes, with the ticket's title in its memo.
    let order_id = order_a_ticket(&base).await;
    let address = format!("127.0.0.1:{temporal}");
    let workflow_id = format!("order-{order_id}");
    let query = format!("OrderStatus = 'created' AND WorkflowId = '{workflow_id}'");
    let started = Instant::now();
    loop {
        let listed = temporal_json(&["workflow", "list", "--query", &query], &address);
        if listed.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no workflow listed for {query}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let described = temporal_json(
        &["workflow", "describe", "--workflow-id", &workflow_id],
        &address,
    );
    let memo = &described["workflowExecutionInfo"]["memo"]["fields"];
    assert_eq!(
        memo["title"], "Dev concert",
        "the memo holds the title: {described}"
    );

    // The events went to dev's own NATS, and `events tail` (with nothing configured, in the same
    // folder) shows them.
    let tail = events_tail(&dir, 3).await;
    assert!(tail[0].contains(" ticket:created "), "{tail:#?}");
    assert!(
        tail[1].contains(&format!(" order:created {order_id} ")),
        "{tail:#?}"
    );
    assert!(tail[2].contains(" ticket:updated "), "{tail:#?}");

    // SIGTERM stops it cleanly, with its Temporal server.
    running.terminate();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = running.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "dev did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "dev exited with {status}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", temporal)).is_err(),
        "the Temporal dev server still runs after dev stopped"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", nats)).is_err(),
        "the NATS server still runs after dev stopped"
    );

    // A second start reuses the data: the user signed up above can sign in.
    let mut running = start_dev(&dir, ports, &log);
    wait_until_up(&client, &format!("{base}/readyz"), &mut running, &log).await;
    let response = client
        .post(format!("{base}/api/users/signin"))
        .json(&json!({"email": "DEV@example.com", "password": "secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    running.terminate();
    let _ = running.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    for (args, env, expected) in [
        (vec!["serve"], vec![], "DATABASE_URL"),
        (
            vec!["serve"],
            vec![("DATABASE_URL", "sqlite://x.db")],
            "JWT_KEY",
        ),
        (
            vec!["serve"],
            vec![("DATABASE_URL", "sqlite://x.db"), ("JWT_KEY", "short")],
            "JWT_KEY",
        ),
        (
            vec!["serve"],
            vec![("DATABASE_URL", "mysql://x"), ("JWT_KEY", &"k".repeat(40))],
            "DATABASE_URL",
        ),
        (
            vec!["serve"],
            vec![
                ("DATABASE_URL", "sqlite://x.db"),
                ("JWT_KEY", &"k".repeat(40)),
            ],
            "TICKET_CODE_KEY",
        ),
        (
            vec!["serve"],
            vec![
                ("DATABASE_URL", "sqlite://x.db"),
                ("JWT_KEY", &"k".repeat(40)),
                ("TICKET_CODE_KEY", "short"),
            ],
            "TICKET_CODE_KEY",
        ),
        (
            vec!["serve"],
            vec![
                ("DATABASE_URL", "sqlite://x.db"),
                ("JWT_KEY", &"k".repeat(40)),
                ("TICKET_CODE_KEY", &"k".repeat(40)),
            ],
            "TICKET_CODE_KEY must differ from JWT_KEY",
        ),
        (
            vec!["dev"],
            vec![
                ("JWT_KEY", &"k".repeat(40)),
                ("TICKET_CODE_KEY", &"k".repeat(40)),
            ],
            "TICKET_CODE_KEY must differ from JWT_KEY",
        ),
        (vec!["serve"], vec![("HTTP_ADDR", "nowhere")], "HTTP_ADDR"),
        (
            vec!["serve"],
            vec![("JWT_TTL_SECONDS", "soon")],
            "JWT_TTL_SECONDS",
        ),
        (
            vec!["dev"],
            vec![("TEMPORAL_CLI", "/no/such/temporal")],
            "TEMPORAL_CLI",
        ),
        (vec!["migrate"], vec![], "DATABASE_URL"),
        (
            vec!["dev"],
            vec![("NATS_SERVER", "/no/such/nats-server")],
            "NATS_SERVER",
        ),
    ] {
        let dir =
            std::env::temp_dir().join(format!("ticketing-cfg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = Command::new(support::binary::ticketing());
        command.args(&args).current_dir(&dir);
        for name in [
            "DATABASE_URL",
            "JWT_KEY",
            "TICKET_CODE_KEY",
            "HTTP_ADDR",
            "JWT_TTL_SECONDS",
            "TEMPORAL_CLI",
            "TEMPORAL_ADDRESS",
            "NATS_URL",
            "NATS_SERVER",
        ] {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{args:?} {env:?}: {stderr}"
        );
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn openapi_prints_the_document() {
    let output = Command::new(support::binary::ticketing())
        .arg("openapi")
        .output()
        .unwrap();
    assert!(output.status.success());
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(document["paths"]["/api/tickets"].is_object());
}

/// `ticketing worker` beside `ticketing dev`: a second worker on the same queue starts, polls, and
/// stops cleanly on SIGTERM; orders keep working.
#[tokio::test]
async fn more_workers_can_join_with_the_worker_command() {
    let dir = std::env::temp_dir().join(format!(
        "ticketing-worker-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = dev_ports();
    let (http, temporal, _, _) = ports;
    let log = dir.join("dev.log");
    let mut dev = start_dev(&dir, ports, &log);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{http}");
    wait_until_up(&client, &format!("{base}/readyz"), &mut dev, &log).await;

    let worker_log = dir.join("worker.log");
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.join(".data/ticketing.db").display()
    );
    let mut worker = ChildProcess::start(
        Launch::new("`ticketing worker`", support::binary::ticketing())
            .args(["worker"])
            .current_dir(&dir)
            .env("DATABASE_URL", &database)
            .env("TEMPORAL_ADDRESS", format!("127.0.0.1:{temporal}"))
            .env_remove("TEMPORAL_TASK_QUEUE")
            .output(Output::NewLog(worker_log.clone())),
    )
    .expect("the worker starts");
    let started = Instant::now();
    while !std::fs::read_to_string(&worker_log)
        .unwrap_or_default()
        .contains("worker running")
    {
        assert!(
            worker.try_wait().unwrap().is_none(),
            "the worker exited: {}",
            std::fs::read_to_string(&worker_log).unwrap_or_default()
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    order_a_ticket(&base).await;

    worker.terminate();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker did not stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.success(),
        "the worker exited with {status}: {}",
        std::fs::read_to_string(&worker_log).unwrap_or_default()
    );
    dev.terminate();
    let _ = dev.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ticketing bench --embedded`, as the README and docs/performance.md run it, in miniature: on
/// SQLite, or with `TEST_DATABASE_URL` on a new database of that PostgreSQL server with pgbench's
/// turns. It runs to the end, every request succeeds, the invariants agree, and the figures are
/// written. (A pgbench scripts folder that shared the data folder's name once took the SQLite
/// file with it before the invariant check.)
#[tokio::test]
async fn bench_runs_to_the_end_on_embedded_defaults() {
    let dir = std::env::temp_dir().join(format!(
        "ticketing-bench-test-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let figures = dir.join("figures.json");
    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"));
    let mut command = tokio::process::Command::new(support::binary::ticketing());
    command
        .args(["bench", "--embedded", "-n", "6", "-c", "3", "--rounds", "1"])
        .args(["--read-seconds", "2", "--sign-ins", "2", "--json"])
        .arg(&figures)
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("TEMPORAL_ADDRESS")
        .env_remove("NATS_URL")
        .kill_on_drop(true);
    if let Some(url) = &postgres {
        command.env("DATABASE_URL", url);
    }
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("the benchmark ends within 5 minutes")
        .expect("the ticketing binary starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`ticketing bench` failed ({}):\n{stderr}",
        output.status
    );
    let figures: Value = serde_json::from_slice(&std::fs::read(&figures).unwrap()).unwrap();
    assert_eq!(figures["lifecycles"], 6, "{figures:#}");
    assert_eq!(figures["errors"], 0, "{figures:#}");
    assert_eq!(
        figures["disagreements"], 0,
        "the invariants were checked: {figures:#}"
    );
    assert!(
        figures["ticket_reads_per_second"].as_f64().unwrap() > 0.0,
        "{figures:#}"
    );
    if postgres.is_some() {
        assert!(
            figures["pgbench_reads_per_second"]
                .as_f64()
                .is_some_and(|tps| tps > 0.0),
            "pgbench ran beside the API's reads:\n{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
