//! `ticketing dev`: the whole system on one machine with embedded defaults. Starts a Temporal dev
//! server from the `temporal` CLI (unless `TEMPORAL_ADDRESS` is set), keeps its data, the SQLite
//! database and a generated JWT key in the data folder, migrates, and serves HTTP.

use std::{
    net::{Ipv4Addr, TcpListener},
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use api::{Application, JwtKey};
use tokio::process::{Child, Command};
use workflows::{OrderWorker, WorkerSettings, temporal};

use crate::{
    cli::{DevArgs, GatewayKind},
    commands::run_app_and_worker,
    settings::{ConfigError, check_database_url},
    temporal_dev_server::{self, DevServer},
};

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create the data folder {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;

    let jwt_key = match &args.jwt_key {
        Some(key) => JwtKey::new(key)?,
        None => dev_jwt_key(&data_dir)?,
    };
    let database_url = match &args.database.database_url {
        Some(url) => {
            check_database_url(url)?;
            url.clone()
        }
        None => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("ticketing.db").display()
        ),
    };

    let (mut temporal, temporal_address) = match &args.temporal.temporal_address {
        Some(address) => (None, address.clone()),
        None => {
            let server = TemporalDevServer::start(&args, &data_dir).await?;
            let address = server.address.clone();
            (Some(server), address)
        }
    };

    let outcome = serve(&args, &database_url, jwt_key, &temporal_address).await;
    if let Some(server) = temporal.as_mut() {
        server.stop().await;
    }
    outcome
}

async fn serve(
    args: &DevArgs,
    database_url: &str,
    jwt_key: JwtKey,
    temporal_address: &str,
) -> anyhow::Result<()> {
    let db = database::connect(database_url)
        .await
        .with_context(|| format!("cannot open the database {database_url}"))?;
    database::migrate(&db)
        .await
        .context("migrating the database")?;
    db.close().await.ok();

    let temporal = args.temporal.resolve(Some(temporal_address))?;
    let worker_config = WorkerSettings {
        database_url: database_url.to_owned(),
        temporal: temporal.clone(),
        gateway: args.payment.gateway()?,
        currency: args.payment.currency.clone(),
        reconcile_every: args.reconciler.every(),
    };
    let app = Application::build(api::Settings {
        database_url: database_url.to_owned(),
        http_addr: args.http.http_addr,
        jwt_key,
        jwt_ttl_seconds: args.http.jwt_ttl_seconds,
        cookie_secure: args.cookie_secure,
        body_limit_bytes: args.http.body_limit_bytes,
        temporal: temporal.clone(),
        order_expiration_seconds: args.orders.order_expiration_seconds,
        max_reservations_in_flight: args.orders.max_reservations_in_flight as usize,
        stripe_card_form: args.payment.payment_gateway == GatewayKind::Stripe,
        credential_limits: args.http.guards.credential_limits(),
        trust_forwarded_for: args.http.guards.trust_forwarded_for,
        password_hashing_concurrency: args.http.guards.password_hashing_concurrency(),
    })
    .await?;
    let client = temporal::connect(&temporal, Duration::from_secs(30)).await?;
    let worker = OrderWorker::build(&worker_config, client, worker_config.gateway.build()).await?;
    let base = format!("http://{}:{}", args.http.http_addr.ip(), app.port());
    eprintln!();
    eprintln!("  ticketing is running");
    eprintln!("    web pages    {base}/");
    eprintln!("    API          {base}/api");
    eprintln!("    API docs     {base}/api/docs   (OpenAPI: {base}/api/openapi.json)");
    eprintln!(
        "    Temporal     {temporal_address}   namespace {}",
        args.temporal.temporal_namespace
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
    match args.nats.relay() {
        Some(relay) => {
            eprintln!(
                "    events       relayed to {} (stream {}, subjects {}.>)",
                relay.nats_url, relay.stream.name, relay.stream.subject_prefix
            );
            let db = database::connect(database_url)
                .await
                .with_context(|| format!("cannot open the database {database_url}"))?;
            // Ends with the process; a failure is logged and the rest goes on.
            tokio::spawn(async move {
                if let Err(error) = events::relay::run(db, relay, std::future::pending()).await {
                    tracing::error!(error = %format!("{error:#}"), "the event relay stopped");
                }
            });
        }
        None => eprintln!("    events       kept in the outbox (set NATS_URL to relay them)"),
    }
    eprintln!("  Press Ctrl-C to stop.");
    eprintln!();
    run_app_and_worker(app, worker).await
}

/// The JWT key kept in `<data>/jwt.key`, created on first use (readable by its owner only).
fn dev_jwt_key(data_dir: &Path) -> anyhow::Result<JwtKey> {
    let path = data_dir.join("jwt.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(JwtKey::new(existing.trim()).map_err(|_| {
            ConfigError(format!(
                "{} is not a usable JWT key; delete it to get a new one",
                path.display()
            ))
        })?);
    }
    let key: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    write_private(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(JwtKey::new(&key)?)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// A `temporal server start-dev` child process.
struct TemporalDevServer {
    child: Child,
    address: String,
}

impl TemporalDevServer {
    async fn start(args: &DevArgs, data_dir: &Path) -> anyhow::Result<Self> {
        let cli = temporal_dev_server::find_cli(args.temporal_cli.as_deref())?;
        for (port, setting) in [
            (args.temporal_dev_port, "TEMPORAL_DEV_PORT"),
            (args.temporal_ui_port, "TEMPORAL_UI_PORT"),
        ] {
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
                bail!(ConfigError(format!(
                    "port {port} is in use (another Temporal server?): set TEMPORAL_ADDRESS=127.0.0.1:{} \
                     to use a running server, or {setting} to start ours on another port",
                    args.temporal_dev_port
                )));
            }
        }
        let log_path = data_dir.join("temporal.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let server = DevServer {
            namespace: args.temporal.temporal_namespace.clone(),
            ui_port: Some(args.temporal_ui_port),
            db_file: Some(data_dir.join("temporal.db")),
            ..DevServer::new(cli.clone(), args.temporal_dev_port)
        };
        let mut command = Command::new(&cli);
        command
            .args(server.args())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        // Even if `dev` itself is killed outright, its Temporal server must not outlive it.
        #[cfg(target_os = "linux")]
        // SAFETY: `prctl` is async-signal-safe and touches nothing but the child being set up.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        eprintln!(
            "starting the Temporal dev server ({} server start-dev; log in {})…",
            cli.display(),
            log_path.display()
        );
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot run {}", cli.display()))?;

        let address = server.address();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the Temporal dev server exited ({status}) before it was ready; its log:\n{}",
                    tail(&log_path, 20)
                );
            }
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.start_kill();
                bail!(
                    "the Temporal dev server did not answer on {address} within 60 s; its log:\n{}",
                    tail(&log_path, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!(
            "Temporal dev server ready on {address} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(TemporalDevServer { child, address })
    }

    /// Asks the server to stop (SIGTERM), and kills it if it has not within 10 s.
    async fn stop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id() {
            // SAFETY: `kill` only sends a signal to our own child process.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The last `lines` lines of a log file.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
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
