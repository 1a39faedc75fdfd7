//! The production topology: Temporal reached over TLS and mTLS ([`tls`]).

mod tls;
