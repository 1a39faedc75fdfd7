//! The servers `ticketing dev` starts as child processes (Temporal's dev server, NATS): their
//! output goes to a log file in the data folder, they never outlive `dev`, and `dev` waits until
//! they answer (showing the end of the log when one does not).

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// A server `dev` started.
pub struct ServerProcess {
    child: Child,
}

/// What to start.
pub struct Launch<'a> {
    /// What it is, for messages: `the Temporal dev server`.
    pub name: &'a str,
    pub program: &'a Path,
    pub args: Vec<OsString>,
    /// Where its output goes.
    pub log: PathBuf,
    /// `host:port` where it answers once ready.
    pub address: String,
    /// How long it may take.
    pub patience: Duration,
}

impl ServerProcess {
    /// Starts the server and waits until it accepts connections on its address.
    pub async fn start(launch: Launch<'_>) -> anyhow::Result<ServerProcess> {
        let Launch {
            name,
            program,
            args,
            log,
            address,
            patience,
        } = launch;
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        // Even if `dev` itself is killed outright, its servers must not outlive it.
        #[cfg(target_os = "linux")]
        // SAFETY: `prctl` is async-signal-safe and touches nothing but the child being set up.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        eprintln!(
            "starting {name} ({}; log in {})…",
            program.display(),
            log.display()
        );
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot run {}", program.display()))?;
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{name} exited ({status}) before it was ready; its log:\n{}",
                    tail(&log, 20)
                );
            }
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                break;
            }
            if started.elapsed() > patience {
                let _ = child.start_kill();
                bail!(
                    "{name} did not answer on {address} within {} s; its log:\n{}",
                    patience.as_secs(),
                    tail(&log, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!(
            "{name} ready on {address} ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(ServerProcess { child })
    }

    /// Asks the server to stop (SIGTERM), and kills it if it has not within 10 s.
    pub async fn stop(&mut self) {
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

/// The last `lines` lines of a log file. A Go server that panics writes the reason first and then
/// every goroutine's stack, so the reason (`panic: ...` or `fatal error: ...`, to the first blank
/// line) comes first when the last lines do not hold it.
fn tail(path: &Path, lines: usize) -> String {
    last_lines(&std::fs::read_to_string(path).unwrap_or_default(), lines)
}

fn last_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let reason = all[..from]
        .iter()
        .position(|line| line.starts_with("panic: ") || line.starts_with("fatal error: "))
        .map(|start| {
            all[start..from]
                .iter()
                .take_while(|line| !line.trim().is_empty())
                .take(5)
                .copied()
                .collect::<Vec<_>>()
        });
    match reason {
        Some(reason) => format!("{}\n...\n{}", reason.join("\n"), all[from..].join("\n")),
        None => all[from..].join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn a_panics_reason_comes_before_its_stacks() {
        let mut log = String::from(
            "starting\npanic: listen tcp 127.0.0.1:8443: bind: address already in use\n\n",
        );
        for i in 0..30 {
            log.push_str(&format!("frame {i}\n"));
        }
        let shown = last_lines(&log, 3);
        assert_eq!(
            shown,
            "panic: listen tcp 127.0.0.1:8443: bind: address already in use\n...\nframe 27\nframe 28\nframe 29"
        );
    }

    #[test]
    fn a_short_log_is_shown_whole() {
        assert_eq!(last_lines("a\nb\n", 20), "a\nb");
        assert_eq!(last_lines("panic: x\nframe\n", 20), "panic: x\nframe");
    }
}
