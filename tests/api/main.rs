mod errors;
mod health;
mod helpers;
mod openapi;
mod ticket_versions;
mod tickets;
mod users;
