//! The child processes, started, stopped, restarted and killed for real (`sh`).

use super::*;

/// A log file of the test's own.
fn log_file(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("devtools-{test}-{}.log", std::process::id()))
}

/// `sh -c script`.
fn shell(script: &str) -> Launch {
    Launch::new("the shell", "sh").args(["-c", script])
}

/// `sh -c script`, ready once `listener`'s address accepts connections.
fn server(script: &str, listener: &std::net::TcpListener) -> Launch {
    let address = listener.local_addr().unwrap().to_string();
    shell(script).ready_at(address, Duration::from_secs(5))
}

#[test]
fn a_process_that_exits_before_it_is_ready_shows_its_log() {
    let log = log_file("exits");
    // Port 1: below the range the system hands out for port 0, so no test running beside this
    // one can be listening there (a port bound and let go could be taken by one meanwhile).
    let address = "127.0.0.1:1".to_owned();
    let launch = shell("echo out; echo err >&2; exit 3")
        .output(Output::NewLog(log.clone()))
        .ready_at(address, Duration::from_secs(5));
    let Err(error) = ChildProcess::start(launch) else {
        panic!("it was ready");
    };
    let error = error.to_string();
    assert!(
        error.starts_with("the shell exited (exit status: 3) before it was ready; its log:\n"),
        "{error}"
    );
    assert!(error.contains("out\n") && error.contains("err"), "{error}");
    std::fs::remove_file(log).unwrap();
}

#[test]
fn a_process_that_does_not_answer_in_time_is_killed() {
    // Port 1: below the range the system hands out for port 0, so no test running beside this
    // one can be listening there (a port bound and let go could be taken by one meanwhile).
    let address = "127.0.0.1:1".to_owned();
    let launch = Launch::new("the sleeper", "sleep")
        .args(["30"])
        .ready_at(address.clone(), Duration::ZERO);
    let started = Instant::now();
    let error = ChildProcess::start(launch).err().unwrap().to_string();
    assert_eq!(
        error,
        format!("the sleeper did not answer on {address} within 0 s")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn stops_restarts_and_kills_on_drop() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut process = ChildProcess::start(server("sleep 30", &listener)).unwrap();
    assert!(process.try_wait().unwrap().is_none());
    let started = Instant::now();
    assert!(process.stop(), "SIGTERM stops it");
    assert!(started.elapsed() < Duration::from_secs(5), "at once");
    assert!(process.try_wait().unwrap().is_some());
    assert!(process.stop(), "a stopped one stays stopped");

    process.restart().unwrap();
    let pid = process.id() as libc::pid_t;
    assert!(process.try_wait().unwrap().is_none());
    drop(process);
    // SAFETY: signal 0 only asks whether the process exists.
    assert_eq!(
        unsafe { libc::kill(pid, 0) },
        -1,
        "killed and reaped on drop"
    );
}

#[test]
fn a_new_log_is_emptied_and_a_log_appended_to() {
    let log = log_file("logs");
    for _ in 0..2 {
        let mut process =
            ChildProcess::start(shell("echo new").output(Output::NewLog(log.clone()))).unwrap();
        process.wait().unwrap();
    }
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "new\n");
    let mut process =
        ChildProcess::start(shell("echo more").stdout(Output::Log(log.clone()))).unwrap();
    process.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "new\nmore\n");
    std::fs::remove_file(log).unwrap();
}

#[test]
fn one_that_ignores_sigterm_is_killed_after_its_grace() {
    let log = log_file("ignores");
    let launch = shell("trap '' TERM; echo ignoring; exec sleep 30")
        .output(Output::NewLog(log.clone()))
        .stop_grace(Duration::from_millis(300));
    let mut process = ChildProcess::start(launch).unwrap();
    while !std::fs::read_to_string(&log).unwrap().contains("ignoring") {
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    assert!(!process.stop(), "it had to be killed");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(process.try_wait().unwrap().is_some());
    std::fs::remove_file(log).unwrap();
}

#[tokio::test]
async fn dev_starts_and_stops_on_tokio() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut process = ChildProcess::start_async(server("sleep 30", &listener))
        .await
        .unwrap();
    assert!(process.stop_async().await);
    assert!(!process.try_wait().unwrap().unwrap().success());
}
