mod errors;
mod health;
mod helpers;
mod openapi;
mod tickets;
mod users;
