//! The in-process HTTP tests of `tests/http/`, every route, status and error, on
//! PostgreSQL: a fresh schema per test on the test server (`DATABASE_URL`, or a throwaway
//! cluster started from the machine's PostgreSQL binaries; see `renraku_postgres::testkit`).

#[path = "common/mod.rs"]
mod common;

/// The store these tests run on.
const STORE: common::Store = common::Store::Postgres;

#[path = "http/postgres.rs"]
mod postgres;
