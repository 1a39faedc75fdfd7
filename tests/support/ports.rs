//! Loopback ports.

use std::time::{Duration, Instant};

/// A port nobody listens on right now, on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits (60 s at most) until something accepts connections at `address`; `what` names it in
/// the failure.
pub fn wait_for_port(address: &str, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not come up on {address}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
