//! Programs run as child processes: `ticketing dev`'s servers (Temporal's dev server, NATS) and
//! the tests' servers and `ticketing` processes. A [`Launch`] says what to run and where its
//! output goes; a [`ChildProcess`] starts it, waits until it answers on its address (showing the
//! end of its log when it does not), stops it (SIGTERM, then SIGKILL after a grace), starts it
//! again the same way, and kills it if it is dropped while it runs.
//!
//! The core is blocking (`std::process`), for the tests; `dev` waits with
//! [`ChildProcess::start_async`] and [`ChildProcess::stop_async`], which only sleep on Tokio.

use std::{
    ffi::{OsStr, OsString},
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use log_tail::tail;

mod log_tail;

/// How long a process has to exit after SIGTERM before it is killed, unless its launch says.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How often a starting process is checked.
const READY_POLL: Duration = Duration::from_millis(100);
/// How often a stopping process is checked.
const STOP_POLL: Duration = Duration::from_millis(50);
/// How many lines of its log a process that did not come up shows.
const TAIL_LINES: usize = 20;

/// Where a child's output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Nowhere.
    Null,
    /// Where ours goes.
    Inherit,
    /// Appended to this file, made if missing.
    Log(PathBuf),
    /// This file, emptied at each start.
    NewLog(PathBuf),
}

impl Output {
    fn file(&self) -> Option<&Path> {
        match self {
            Output::Log(path) | Output::NewLog(path) => Some(path),
            Output::Null | Output::Inherit => None,
        }
    }

    fn open(&self) -> anyhow::Result<Option<File>> {
        let Some(path) = self.file() else {
            return Ok(None);
        };
        let opened = match self {
            Output::NewLog(_) => File::create(path),
            _ => File::options().create(true).append(true).open(path),
        };
        opened
            .map(Some)
            .with_context(|| format!("cannot open {}", path.display()))
    }

    fn stdio(&self, file: Option<File>) -> Stdio {
        match (file, self) {
            (Some(file), _) => file.into(),
            (None, Output::Inherit) => Stdio::inherit(),
            (None, _) => Stdio::null(),
        }
    }
}

/// What to run and how: a program, its arguments, environment, working folder and output, and
/// where it answers once ready. A [`ChildProcess`] runs it, and runs it again the same way.
#[derive(Clone, Debug)]
pub struct Launch {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    /// Variables set (`Some`) or removed (`None`), in order.
    env: Vec<(OsString, Option<OsString>)>,
    dir: Option<PathBuf>,
    stdout: Output,
    stderr: Output,
    ready: Option<Ready>,
    announce: bool,
    die_with_parent: bool,
    stop_grace: Duration,
}

/// Where a process answers once ready, and how long it may take.
#[derive(Clone, Debug)]
struct Ready {
    address: String,
    patience: Duration,
}

impl Launch {
    /// Runs `program`; `name` says what it is in messages (`the Temporal dev server`). No input,
    /// output nowhere, ready as soon as it runs, until told otherwise.
    pub fn new(name: impl Into<String>, program: impl AsRef<Path>) -> Self {
        Launch {
            name: name.into(),
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            dir: None,
            stdout: Output::Null,
            stderr: Output::Null,
            ready: None,
            announce: false,
            die_with_parent: false,
            stop_grace: STOP_GRACE,
        }
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        vars.into_iter()
            .fold(self, |launch, (key, value)| launch.env(key, value))
    }

    /// Removes an environment variable (ours would be inherited).
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// Runs it in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Sends its standard output and error to `output` (one file when it is one).
    pub fn output(self, output: Output) -> Self {
        self.stdout(output.clone()).stderr(output)
    }

    /// Sends its standard output to `output`.
    pub fn stdout(mut self, output: Output) -> Self {
        self.stdout = output;
        self
    }

    /// Sends its standard error to `output`.
    pub fn stderr(mut self, output: Output) -> Self {
        self.stderr = output;
        self
    }

    /// It is ready once `address` (`host:port`) accepts connections, which must be within
    /// `patience`.
    pub fn ready_at(mut self, address: impl Into<String>, patience: Duration) -> Self {
        self.ready = Some(Ready {
            address: address.into(),
            patience,
        });
        self
    }

    /// Says on our standard error when it starts and when it is ready.
    pub fn announce(mut self) -> Self {
        self.announce = true;
        self
    }

    /// Asks Linux to SIGTERM it if we die, even killed outright. Linux sends it when the thread
    /// that started it ends: start it from a thread that lasts (the main thread, a runtime's
    /// worker), never from `spawn_blocking`.
    pub fn die_with_parent(mut self) -> Self {
        self.die_with_parent = true;
        self
    }

    /// Gives it `grace` to exit after SIGTERM before [`ChildProcess::stop`] kills it (10 s unless
    /// told).
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// Its log: where its standard error goes, else its standard output.
    fn log(&self) -> Option<&Path> {
        self.stderr.file().or_else(|| self.stdout.file())
    }

    /// `; its log:` and its end, when it has a log.
    fn its_log(&self) -> String {
        match self.log() {
            Some(log) => format!("; its log:\n{}", tail(log, TAIL_LINES)),
            None => String::new(),
        }
    }

    fn spawn(&self) -> anyhow::Result<Child> {
        let mut command = Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null());
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let stdout = self.stdout.open()?;
        // Output and error to the same file share one open file, as a shell's `>log 2>&1` does.
        let stderr = match &stdout {
            Some(file) if self.stderr == self.stdout => Some(file.try_clone()?),
            _ => self.stderr.open()?,
        };
        command
            .stdout(self.stdout.stdio(stdout))
            .stderr(self.stderr.stdio(stderr));
        #[cfg(target_os = "linux")]
        if self.die_with_parent {
            use std::os::unix::process::CommandExt;
            // SAFETY: `prctl` is async-signal-safe and touches nothing but the child being set up.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
        }
        if self.announce {
            match self.log() {
                Some(log) => eprintln!(
                    "starting {} ({}; log in {})…",
                    self.name,
                    self.program.display(),
                    log.display()
                ),
                None => eprintln!("starting {} ({})…", self.name, self.program.display()),
            }
        }
        command
            .spawn()
            .with_context(|| format!("cannot run {}", self.program.display()))
    }
}

/// A program we started, as its [`Launch`] says: killed if dropped while it runs.
pub struct ChildProcess {
    /// Boxed: a launch is large, and a `ChildProcess` goes into enums and is moved about.
    launch: Box<Launch>,
    child: Child,
}

impl ChildProcess {
    /// Starts it and waits until it is ready, blocking this thread.
    pub fn start(launch: Launch) -> anyhow::Result<ChildProcess> {
        let child = launch.spawn()?;
        let mut process = ChildProcess {
            launch: Box::new(launch),
            child,
        };
        process.wait_until_ready()?;
        Ok(process)
    }

    /// Starts it (from this thread) and waits until it is ready, sleeping on Tokio.
    pub async fn start_async(launch: Launch) -> anyhow::Result<ChildProcess> {
        let child = launch.spawn()?;
        let mut process = ChildProcess {
            launch: Box::new(launch),
            child,
        };
        let Some(ready) = process.launch.ready.clone() else {
            return Ok(process);
        };
        let started = Instant::now();
        loop {
            process.fail_if_exited()?;
            if tokio::net::TcpStream::connect(&ready.address).await.is_ok() {
                break;
            }
            process.fail_if_late(&ready, started)?;
            tokio::time::sleep(READY_POLL).await;
        }
        process.say_ready(&ready, started);
        Ok(process)
    }

    /// Stops it if it runs and starts it again the same way, waiting until it is ready.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        self.child = self.launch.spawn()?;
        self.wait_until_ready()
    }

    /// Asks it to stop (SIGTERM) and waits; kills it if it has not stopped within its grace
    /// (10 s unless its launch says). False when it had to be killed.
    pub fn stop(&mut self) -> bool {
        self.terminate();
        let asked = Instant::now();
        while self.runs() && asked.elapsed() < self.launch.stop_grace {
            std::thread::sleep(STOP_POLL);
        }
        self.kill_if_running()
    }

    /// As [`ChildProcess::stop`], sleeping on Tokio.
    pub async fn stop_async(&mut self) -> bool {
        self.terminate();
        let asked = Instant::now();
        while self.runs() && asked.elapsed() < self.launch.stop_grace {
            tokio::time::sleep(STOP_POLL).await;
        }
        self.kill_if_running()
    }

    /// Kills and reaps it; false when it still ran.
    fn kill_if_running(&mut self) -> bool {
        let stopped = !self.runs();
        self.kill();
        stopped
    }

    /// Sends it SIGTERM if it still runs, and returns at once.
    pub fn terminate(&mut self) {
        if self.runs() {
            // SAFETY: `kill` only sends a signal to our own child, which has not been reaped (so
            // its pid is still its own).
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
    }

    /// Kills it (SIGKILL) if it still runs, and reaps it.
    pub fn kill(&mut self) {
        // Neither signals a child that was reaped already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// How it exited, if it has.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits until it exits.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait()
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    fn runs(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let Some(ready) = self.launch.ready.clone() else {
            return Ok(());
        };
        let started = Instant::now();
        loop {
            self.fail_if_exited()?;
            if std::net::TcpStream::connect(&ready.address).is_ok() {
                break;
            }
            self.fail_if_late(&ready, started)?;
            std::thread::sleep(READY_POLL);
        }
        self.say_ready(&ready, started);
        Ok(())
    }

    fn fail_if_exited(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}) before it was ready{}",
                self.launch.name,
                self.launch.its_log()
            );
        }
        Ok(())
    }

    /// Kills it and fails once it has had its patience.
    fn fail_if_late(&mut self, ready: &Ready, started: Instant) -> anyhow::Result<()> {
        if started.elapsed() > ready.patience {
            self.kill();
            bail!(
                "{} did not answer on {} within {} s{}",
                self.launch.name,
                ready.address,
                ready.patience.as_secs(),
                self.launch.its_log()
            );
        }
        Ok(())
    }

    fn say_ready(&self, ready: &Ready, started: Instant) {
        if self.launch.announce {
            eprintln!(
                "{} ready on {} ({:.1} s)",
                self.launch.name,
                ready.address,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests;
