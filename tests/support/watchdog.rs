//! Servers the tests of a process share live as long as the process: each runs in the background
//! of a small shell that ends it when the test process ends (however it ends).

use std::{
    ffi::OsString,
    path::Path,
    process::{Command, Stdio},
};

/// Starts `program args` with its output in `log`, to be ended with this process.
pub fn spawn_for_this_process(program: &Path, args: Vec<OsString>, log: &Path, what: &str) {
    let script = r#"
        test_pid=$1; shift
        "$@" &
        server=$!
        while kill -0 "$test_pid" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
        kill "$server" 2>/dev/null
    "#;
    let log_file = std::fs::File::create(log).expect("a log file for a shared server");
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(std::process::id().to_string())
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what} `{}`: {e}", program.display()));
    // Reap the watchdog whenever it ends.
    std::thread::spawn(move || watchdog.wait());
}
