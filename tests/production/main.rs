//! The production topology: Temporal reached over TLS and mTLS ([`tls`]), the compose file held
//! against the binary ([`compose`]), and every part as a process of its own ([`topology`]).

mod compose;
mod tls;
mod topology;
