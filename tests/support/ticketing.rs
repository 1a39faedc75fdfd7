//! The `ticketing` program, built as a binary of this package so that the tests that run it as
//! an operator or a deployment would (`dev`, `worker`, `check`, `history export`) always run the
//! build they were compiled with: the same code as `ticketing/src/main.rs`, which is this line.

fn main() -> std::process::ExitCode {
    ticketing::main()
}
