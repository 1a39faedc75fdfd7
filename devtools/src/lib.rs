//! What `ticketing dev`, the benchmark and the tests use to run things of their own: child
//! processes ([`process`]) and scratch databases ([`scratch_database`]).

pub mod process;
pub mod scratch_database;
