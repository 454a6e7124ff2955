//! The suite of `tests/http/` on PostgreSQL, loaded by `tests/http_postgres.rs`; the module
//! name puts `postgres` into every test name, so `--skip postgres` leaves them out.

#[path = "api.rs"]
mod api;
#[path = "auth.rs"]
mod auth;
#[path = "pages.rs"]
mod pages;
#[path = "safety.rs"]
mod safety;
