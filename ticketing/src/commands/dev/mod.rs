//! `ticketing dev`: the whole system on one machine with embedded defaults. Starts a Temporal dev
//! server from the `temporal` CLI (unless `TEMPORAL_ADDRESS` is set) and a NATS server with
//! JetStream (unless `NATS_URL` is set), keeps their data, the SQLite database and generated keys
//! (JWT, ticket codes) in the data folder, migrates, serves HTTP, runs a worker and relays the events.

use std::{
    net::{Ipv4Addr, TcpListener},
    path::Path,
    time::Duration,
};

use anyhow::{Context, bail};
use api::{Application, JwtKey, TicketCodeKey};
use devtools::process::{ChildProcess, Launch, Output};
use workflows::{OrderWorker, temporal};

use crate::{
    cli::DevArgs,
    commands::run_app_and_worker,
    nats_dev_server::{self, NatsServer},
    settings::{Backends, ConfigError, Keys},
    temporal_dev_server::{self, DevServer},
};

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let data_dir = &args.data.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let data_dir = data_dir.canonicalize()?;

    // What `dev` decides where `serve` must be told: keys of its own, SQLite in its data folder.
    let jwt_key = match &args.session.jwt_key {
        Some(key) => JwtKey::new(key)?,
        None => dev_jwt_key(&data_dir)?,
    };
    let ticket_code_key = match &args.session.ticket_code_key {
        Some(key) => TicketCodeKey::new(key)?,
        None => dev_ticket_code_key(&data_dir)?,
    };
    let keys = Keys::new(jwt_key, ticket_code_key)?;
    let database_url = match args.database.given()? {
        Some(url) => url,
        None => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("ticketing.db").display()
        ),
    };

    // A wrong NATS_SERVER stops start-up before any server is started; a missing `nats-server`
    // only leaves the events in the outbox.
    let nats = match args.nats.bus() {
        Some(bus) => Nats::Given(bus),
        None => match nats_dev_server::find_server(args.nats_server.as_deref()) {
            Ok(program) => Nats::Start(program),
            Err(missing) if args.nats_server.is_none() => Nats::Missing(missing.0),
            Err(wrong) => bail!(wrong),
        },
    };

    // The servers this command starts, stopped (last first) however it ends.
    let mut servers = Vec::new();
    let outcome = async {
        let temporal_address = match &args.temporal.temporal_address {
            Some(address) => address.clone(),
            None => {
                let (server, address) = start_temporal(&args, &data_dir).await?;
                servers.push(server);
                address
            }
        };
        let bus = match nats {
            Nats::Given(bus) => Events::Bus(bus),
            Nats::Start(program) => {
                let (server, url) = start_nats(&args, &program, &data_dir).await?;
                servers.push(server);
                Events::Bus(args.nats.bus_at(url))
            }
            Nats::Missing(why) => Events::Off(why),
        };
        serve(&args, &database_url, keys, &temporal_address, bus).await
    }
    .await;
    let _ = std::fs::remove_file(data_dir.join(NATS_URL_FILE));
    for server in servers.iter_mut().rev() {
        server.stop_async().await;
    }
    outcome
}

/// Which NATS `dev` uses.
enum Nats {
    /// `NATS_URL`'s.
    Given(events::BusSettings),
    /// One it starts with this `nats-server`.
    Start(std::path::PathBuf),
    /// None: no `nats-server` was found (why).
    Missing(String),
}

/// Where the events go in `dev`.
enum Events {
    Bus(events::BusSettings),
    /// No NATS: why (the events wait in the outbox).
    Off(String),
}

/// The file in the data folder that holds the URL of the NATS server `dev` started, while it
/// runs (`ticketing events tail` reads it when NATS_URL is not set).
const NATS_URL_FILE: &str = "nats.url";

/// The URL of the NATS server that the `dev` with data folder `data_dir` runs, if one does.
pub fn nats_url_of(data_dir: &Path) -> Option<String> {
    let url = std::fs::read_to_string(data_dir.join(NATS_URL_FILE)).ok()?;
    Some(url.trim().to_owned()).filter(|url| !url.is_empty())
}

async fn serve(
    args: &DevArgs,
    database_url: &str,
    keys: Keys,
    temporal_address: &str,
    events: Events,
) -> anyhow::Result<()> {
    let db = database::connect(database_url)
        .await
        .with_context(|| format!("cannot open the database {database_url}"))?;
    database::migrate(&db)
        .await
        .context("migrating the database")?;
    db.close().await.ok();

    // A server of the user's (TEMPORAL_ADDRESS) is reached as the environment says (TLS, API
    // key...); the one dev started, in plaintext.
    let temporal = match &args.temporal.temporal_address {
        Some(_) => args.temporal.resolve(None)?,
        None => args.temporal.local(temporal_address)?,
    };
    // `serve`'s and `worker`'s settings, on the database and the Temporal server `dev` settled.
    let backends = Backends {
        database_url: database_url.to_owned(),
        temporal: temporal.clone(),
    };
    let worker_config = args.worker_flags().settings(backends.clone())?;
    let bus = match &events {
        Events::Bus(bus) => Some(bus.clone()),
        Events::Off(_) => None,
    };
    // Events go to the bus `dev` found or started, and this process relays them.
    let app_config = args.app_flags().settings(
        backends,
        keys,
        api::EventBus {
            bus: bus.clone(),
            relay_here: bus.is_some(),
        },
    );
    // One process: the HTTP server, the worker and the relay share its metrics.
    let metrics = telemetry::Metrics::new();
    let app = Application::build(app_config, metrics.clone()).await?;
    let client = temporal::connect(&temporal, Duration::from_secs(30)).await?;
    let gateway = worker_config.gateway.build();
    let worker = OrderWorker::build(&worker_config, client, gateway, metrics.clone()).await?;
    let base = format!("http://{}:{}", args.http.http_addr.ip(), app.port());
    eprintln!();
    eprintln!("  ticketing is running");
    eprintln!("    web pages    {base}/");
    eprintln!("    API          {base}/api");
    eprintln!("    API docs     {base}/api/docs   (OpenAPI: {base}/api/openapi.json)");
    eprintln!(
        "    Temporal     {temporal_address}   namespace {}",
        temporal.namespace
    );
    if args.temporal.temporal_address.is_none() {
        eprintln!(
            "    Temporal UI  http://127.0.0.1:{}",
            args.temporal_ui_port
        );
    }
    eprintln!("    database     {}", redact_password(database_url));
    eprintln!(
        "    worker       task queue {}, payments: {:?}, orders expire after {} s",
        temporal.task_queue, worker_config.gateway, args.orders.order_expiration_seconds
    );
    match &events {
        Events::Bus(bus) => {
            eprintln!(
                "    events       relayed to {} (stream {}, subjects {}.>); follow them with \
                 `ticketing events tail`",
                bus.nats_url, bus.stream.name, bus.stream.subject_prefix
            );
        }
        Events::Off(why) => eprintln!("    events       kept in the outbox: {why}"),
    }
    eprintln!("  Press Ctrl-C to stop.");
    eprintln!();
    let relay = bus.map(|bus| (database_url.to_owned(), args.nats.relay_to(bus)));
    run_app_and_worker(app, worker, relay, &metrics).await
}
/// The JWT key kept in `<data>/jwt.key`, created on first use (readable by its owner only).
fn dev_jwt_key(data_dir: &Path) -> anyhow::Result<JwtKey> {
    dev_key(&data_dir.join("jwt.key"), "JWT key", JwtKey::new)
}

/// The ticket code key kept in `<data>/ticket-code.key`, created on first use like the JWT key.
fn dev_ticket_code_key(data_dir: &Path) -> anyhow::Result<TicketCodeKey> {
    dev_key(
        &data_dir.join("ticket-code.key"),
        "ticket code key",
        TicketCodeKey::new,
    )
}

/// The key kept in the file at `path`, or a new random one written there (readable by its owner
/// only); `what` names it in the error when the file holds no usable key.
fn dev_key<K>(
    path: &Path,
    what: &str,
    key_of: fn(&str) -> Result<K, api::InvalidSetting>,
) -> anyhow::Result<K> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(key_of(existing.trim()).map_err(|_| {
            ConfigError(format!(
                "{} is not a usable {what}; delete it to get a new one",
                path.display()
            ))
        })?);
    }
    let key: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    write_private(path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key_of(&key)?)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Starts a Temporal dev server with its data in the data folder; it and its address.
async fn start_temporal(args: &DevArgs, data_dir: &Path) -> anyhow::Result<(ChildProcess, String)> {
    let cli = temporal_dev_server::find_cli(args.temporal_cli.as_deref())?;
    for (port, setting) in [
        (args.temporal_dev_port, "TEMPORAL_DEV_PORT"),
        (args.temporal_ui_port, "TEMPORAL_UI_PORT"),
    ] {
        if !free(port) {
            bail!(ConfigError(format!(
                "port {port} is in use (another Temporal server?): set TEMPORAL_ADDRESS=127.0.0.1:{} \
                 to use a running server, or {setting} to start ours on another port",
                args.temporal_dev_port
            )));
        }
    }
    let server = DevServer {
        namespace: args
            .temporal
            .temporal_namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        ui_port: Some(args.temporal_ui_port),
        db_file: Some(data_dir.join("temporal.db")),
        ..DevServer::new(cli.clone(), args.temporal_dev_port)
    };
    let address = server.address();
    let process = ChildProcess::start_async(
        Launch::new("the Temporal dev server", &cli)
            .args(server.args())
            .output(Output::Log(data_dir.join("temporal.log")))
            .ready_at(address.clone(), Duration::from_secs(60))
            .announce()
            .die_with_parent(),
    )
    .await?;
    Ok((process, address))
}

/// Starts `program`, a NATS server with JetStream, its streams in `<data>/nats`; it and its URL.
async fn start_nats(
    args: &DevArgs,
    program: &Path,
    data_dir: &Path,
) -> anyhow::Result<(ChildProcess, String)> {
    let port = match args.nats_dev_port {
        Some(port) if !free(port) => bail!(ConfigError(format!(
            "port {port} is in use (another NATS server?): set NATS_URL=nats://127.0.0.1:{port} \
             to use a running server, or NATS_DEV_PORT to start ours on another port"
        ))),
        Some(port) => port,
        // NATS's own port unless something holds it already (a NATS of the machine's, say).
        None if free(nats_dev_server::DEFAULT_PORT) => nats_dev_server::DEFAULT_PORT,
        None => TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port(),
    };
    let server = NatsServer {
        program: program.to_owned(),
        port,
        store_dir: data_dir.join("nats"),
    };
    let process = ChildProcess::start_async(
        Launch::new("NATS (JetStream)", program)
            .args(server.args())
            .output(Output::Log(data_dir.join("nats.log")))
            .ready_at(server.address(), Duration::from_secs(30))
            .announce()
            .die_with_parent(),
    )
    .await?;
    std::fs::write(data_dir.join(NATS_URL_FILE), server.url())
        .with_context(|| format!("cannot write {}", data_dir.join(NATS_URL_FILE).display()))?;
    Ok((process, server.url()))
}

/// Nothing listens on `port` of 127.0.0.1.
fn free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`, for printing.
fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &url[scheme_end..scheme_end + at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end],
                    &userinfo[..colon],
                    &url[scheme_end + at..]
                ),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact_password("postgres://u:s3cret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_password("sqlite://.data/t.db?mode=rwc"),
            "sqlite://.data/t.db?mode=rwc"
        );
    }
}
