//! The PostgreSQL [`ContactRepository`](renraku_core::ContactRepository) of renraku, built on sqlx and safe to embed in a
//! database that a host application already owns.
//!
//! - **Its own schema.** Tables live in one schema (default `renraku`, configurable), and
//!   the migration bookkeeping is `<schema>._renraku_migrations`, so it never meets the
//!   host's own `_sqlx_migrations`. [`PgContactRepository::migrate`] can run beside the
//!   host's migrations, in any order, from several processes at once: sqlx's migrator
//!   serializes them with a PostgreSQL advisory lock.
//! - **Atomic, versioned writes.** Every mutation and its audit event are one transaction;
//!   versions are checked in the statement itself (`... AND version = $3`). A stale
//!   expected version is [`Error::Conflict`](renraku_core::Error::Conflict); an update without one retries on a concurrent
//!   change instead of overwriting it.
//! - **Bounded waits.** Every transaction sets the repository's statement timeout, and every
//!   call returns within it when the server is slow or down: [`Error::Backend`](renraku_core::Error::Backend) with a
//!   [`PgError`] source. The pool heals when the server comes back.
//! - **Private.** Errors and `tracing` spans (one per operation: its name and case id, at
//!   `DEBUG`, so that a host logging at `INFO` does not pay for them) hold no personal data
//!   and no SQL parameters.
//!
//! # Usage
//!
//! ```no_run
//! use std::time::Duration;
//! use renraku_core::{Actor, CaseId, ContactRepository, NewContact, Rules};
//! use renraku_postgres::PgContactRepository;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = renraku_postgres::pool_options().connect("postgres://app@localhost/app").await?;
//! let repo = PgContactRepository::builder(pool)
//!     .schema("renraku")
//!     .statement_timeout(Duration::from_secs(5))
//!     .rules(Rules::default().with_default_region("DE".parse()?))
//!     .build()?;
//! repo.migrate().await?;
//!
//! let case: CaseId = "42".parse()?;
//! let input = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
//! repo.create(&case, input, &Actor::new("user-17")?).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # The sqlx it takes
//!
//! The repository runs on a `sqlx::PgPool` of **sqlx 0.9** (with the `runtime-tokio` and
//! `postgres` features), re-exported as [`renraku_postgres::sqlx`](crate::sqlx): a host on
//! the same version shares its pool, a host on another builds one with the re-export.
//!
//! # The pool
//!
//! [`pool_options`] are sqlx's, except that a connection used within the last half second
//! is handed out without a ping: one round trip less for most calls under load.
//!
//! # TLS to the database
//!
//! The repository runs on the pool the host gives it, so whether that pool's connections are
//! encrypted is the host's choice of a sqlx TLS feature and of the connection URL:
//! renraku-postgres enables no TLS backend of its own. Without one, sqlx refuses
//! `sslmode=require` ("SQLx was built without TLS support enabled") and the default,
//! `sslmode=prefer`, connects in plain text. Enable one in the host's `Cargo.toml`, for
//! example rustls with Mozilla's root certificates compiled in:
//!
//! ```toml
//! [dependencies]
//! sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "postgres", "tls-rustls-ring-webpki"] }
//! ```
//!
//! (or `tls-rustls-ring-native-roots` for the system's roots, `tls-native-tls` for the
//! platform's TLS library), and ask for a verified connection in the URL:
//!
//! ```text
//! postgres://app@db.example.org/app?sslmode=verify-full&sslrootcert=/etc/app/db-ca.pem
//! ```
//!
//! `verify-full` checks the server's certificate chain and that it names the host of the
//! URL; `sslrootcert` adds the CA that issued it (with rustls, to the roots of the feature,
//! where libpq would trust the file alone). `require` encrypts without checking who
//! answers. The web example (`examples/web-server`) does exactly this, and its tests connect
//! to a server that accepts TLS only.
//!
//! # Schema, and distributing it
//!
//! Two tables, `contacts` and `audit_events`, each with primary key `(case_id, id)` (and
//! the bookkeeping tables `_renraku_…`). Every
//! statement filters by `case_id`, except the cross-case search of
//! [`ContactRepository::find`](renraku_core::ContactRepository::find), so the tables can be distributed by `case_id` without
//! changing a query: on a [Citus](https://www.citusdata.com/) cluster,
//! [`PgContactRepository::distribute`] (after `migrate()`, at every start) distributes them
//! and colocates each case's contacts and events on one worker. Operations on one case then
//! run on that worker, and search fans out to every shard; its docs say what runs where, and
//! BENCHMARKS.md what it costs. Indexes serve listing
//! (the primary key), phone search on the E.164 form, case-insensitive email search and
//! case-insensitive name-prefix search (on keys that renraku-core case-folds, so matching
//! does not depend on the database's collation).
//!
//! # The change feed
//!
//! [`ContactRepository::feed`](renraku_core::ContactRepository::feed) reads every audit
//! event across cases in the order of the transactions that wrote them, `(tx, id)`, and only
//! below the `xmin` of the reading statement's snapshot (the oldest transaction still
//! running), so a position once handed out never has an event appear behind it, however
//! transactions interleave: an id from a sequence would not be commit order. Writers do not
//! wait for each other for it (an 8-byte column and an index entry per event); in exchange,
//! a transaction that runs long anywhere in the cluster holds the feed back (it delays
//! events, it never loses one). After [`distribute`](PgContactRepository::distribute), events
//! live on the workers, each with its own transaction ids and Citus's two-phase commits, so
//! every write also stores its events in `_renraku_feed` on the coordinator, in the same
//! transaction, and the feed reads that table below the coordinator's `xmin`; writes must
//! go through the coordinator (as [`distribute`](PgContactRepository::distribute) says).
//!
//! Every write notifies `<schema>.feed` (a `pg_notify` in the round trip of its `BEGIN`,
//! delivered at commit; [`feed_notifications`](PgContactRepositoryBuilder::feed_notifications)
//! turns it off), and
//! [`wait_for_events`](renraku_core::ContactRepository::wait_for_events) listens on it with a
//! `PgListener` that the first wait starts (one connection of the pool, for as long as the
//! repository lives). What the feed delivers, how fast, and what notifications cost the
//! writers is in BENCHMARKS.md; `examples/audit-forwarder` follows it.
//!
//! # Features
//!
//! - `testkit`: [`testkit`] starts a throwaway PostgreSQL server for tests and builds
//!   fresh repositories on it.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

mod builder;
mod citus;
mod error;
mod feed;
mod migrations;
mod pool;
mod reads;
mod repository;
mod rows;
mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;
mod writes;

/// The sqlx this crate is built on (0.9): [`PgContactRepository::builder`] takes its
/// `PgPool`. A host whose own sqlx is another version builds the pool with this one.
pub use sqlx;

pub use builder::PgContactRepositoryBuilder;
pub use error::PgError;
pub use pool::{RECENTLY_USED, pool_options};
pub use repository::PgContactRepository;

/// The schema renraku's tables live in unless the builder names another.
pub const DEFAULT_SCHEMA: &str = "renraku";

/// How long a statement may run unless the builder sets another limit.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
