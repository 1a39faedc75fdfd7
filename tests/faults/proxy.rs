//! A database outage the test controls: for PostgreSQL, a TCP proxy on loopback that drops every
//! connection and refuses new ones while it lasts; for SQLite, a transaction that holds the write
//! lock longer than the busy timeout.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Mutex, watch},
};

pub struct Outage {
    url: String,
    kind: Kind,
}

enum Kind {
    Postgres {
        cut: watch::Sender<bool>,
    },
    Sqlite {
        lock: Mutex<Option<DatabaseTransaction>>,
    },
}

impl Outage {
    /// Prepares an outage of the database at `url`.
    pub async fn for_database(url: &str) -> Self {
        if url.starts_with("postgres") {
            let (cut, _) = watch::channel(false);
            let upstream = authority(url).to_owned();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let proxied = url.replacen(&upstream, &listener.local_addr().unwrap().to_string(), 1);
            tokio::spawn(forward(listener, upstream, cut.subscribe()));
            Outage {
                url: proxied,
                kind: Kind::Postgres { cut },
            }
        } else {
            Outage {
                url: url.to_owned(),
                kind: Kind::Sqlite {
                    lock: Mutex::new(None),
                },
            }
        }
    }

    /// The URL the worker should use.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How long the outage lasts: long enough to make activities fail and retry.
    pub fn length(&self) -> Duration {
        match self.kind {
            Kind::Postgres { .. } => Duration::from_secs(5),
            // Beyond the 10 s busy timeout, so that writers give up and retry.
            Kind::Sqlite { .. } => Duration::from_secs(13),
        }
    }

    pub async fn begin(&self) {
        match &self.kind {
            Kind::Postgres { cut } => {
                cut.send_replace(true);
            }
            Kind::Sqlite { lock } => {
                let db = database::connect(&self.url).await.unwrap();
                let txn = db.begin().await.unwrap();
                // Any write takes the database's write lock until the transaction ends.
                txn.execute_unprepared("DELETE FROM events WHERE id = -1")
                    .await
                    .unwrap();
                *lock.lock().await = Some(txn);
            }
        }
    }

    pub async fn end(&self) {
        match &self.kind {
            Kind::Postgres { cut } => {
                cut.send_replace(false);
            }
            Kind::Sqlite { lock } => {
                if let Some(txn) = lock.lock().await.take() {
                    txn.rollback().await.unwrap();
                }
            }
        }
    }
}

/// `host:port` of a database URL.
fn authority(url: &str) -> &str {
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

async fn forward(listener: TcpListener, upstream: String, cut: watch::Receiver<bool>) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        if *cut.borrow() {
            drop(client); // refused while the outage lasts
            continue;
        }
        let upstream = upstream.clone();
        let mut cut = cut.clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.wait_for(|cut| *cut) => {} // dropped when the outage begins
            }
        });
    }
}

/// A TCP link on loopback that the test can cut: while cut, open connections are dropped and new
/// ones refused (a worker that loses its way to Temporal, say).
pub struct Link {
    address: String,
    cut: watch::Sender<bool>,
}

impl Link {
    /// A link to `upstream` (`host:port`).
    pub async fn to(upstream: &str) -> Self {
        let (cut, _) = watch::channel(false);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(forward(listener, upstream.to_owned(), cut.subscribe()));
        Link { address, cut }
    }

    /// `host:port` to connect to instead of the upstream.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }
}
