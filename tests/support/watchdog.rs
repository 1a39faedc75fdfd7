//! Servers the tests of a process share live as long as the process: Linux ends each when the
//! test process ends (however it ends), as [`Launch::die_with_parent`] asks.

use devtools::process::{ChildProcess, Launch};

/// Starts `launch` and waits until it is ready, to be ended with this process. Linux signals it
/// when the thread that started it ends, and test threads end with their test: a thread of its
/// own starts it and then waits for the process to end. Dropping the [`ChildProcess`] still
/// kills it; keep it for as long as the process (`std::mem::forget`).
pub fn start_for_this_process(launch: Launch) -> anyhow::Result<ChildProcess> {
    let (started, receive) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let process = ChildProcess::start(launch.die_with_parent());
            let runs = process.is_ok();
            let _ = started.send(process);
            if runs {
                loop {
                    std::thread::park();
                }
            }
        })
        .expect("a thread for a shared server");
    receive.recv().expect("the shared server's thread answers")
}
