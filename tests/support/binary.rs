//! The `ticketing` program, for the tests that run it as an operator or a deployment would.

use std::path::PathBuf;

/// The `ticketing` program of this build: the package's `ticketing-under-test` binary (see
/// `support/ticketing.rs`), which cargo builds, with the same code and features, before it runs
/// the package's tests.
pub fn ticketing() -> PathBuf {
    // The tests run from <target>/<profile>/deps/<test>-<hash>; binaries sit in <profile>.
    let exe = std::env::current_exe().expect("the test's own path");
    let program = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from <target>/<profile>/deps")
        .join("ticketing-under-test");
    assert!(
        program.is_file(),
        "{} is missing: run the tests through cargo, which builds it",
        program.display()
    );
    program
}
