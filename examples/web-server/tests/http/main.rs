//! In-process HTTP tests (tower `oneshot` on the real router) of every route, status and
//! error, on the memory store. `tests/http_postgres.rs` runs the same tests on PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

/// The store these tests run on.
const STORE: common::Store = common::Store::Memory;

mod api;
mod auth;
mod pages;
mod safety;
