//! The `ticketing` binary: `dev`, `serve`, `worker`, `migrate`, `openapi`, `check`, `history`,
//! `bench`, `users` (see `ticketing --help`); the program itself is [`ticketing::main`].

fn main() -> std::process::ExitCode {
    ticketing::main()
}
