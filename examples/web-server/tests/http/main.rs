//! In-process HTTP tests (tower `oneshot` on the real router) of every route, status and
//! error, each run on the memory store (`…::memory`) and on PostgreSQL (`…::postgres`: a
//! fresh schema per test on the test server, `DATABASE_URL` or a throwaway cluster, see
//! `renraku_postgres::testkit`). `--skip postgres` leaves the PostgreSQL runs out.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod auth;
mod pages;
mod person;
mod retention;
mod roles;
mod safety;
mod transfer;
mod usability;
