//! [`PgContactRepositoryBuilder`]: the options of a repository, checked once.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use renraku_core::validation::{FieldError, ValidationErrors, code};
use renraku_core::{Error, Rules};
use sqlx::PgPool;

use crate::repository::{Inner, PgContactRepository};
use crate::sql::Statements;
use crate::{DEFAULT_SCHEMA, DEFAULT_STATEMENT_TIMEOUT};

/// Options of a [`PgContactRepository`]; see [`PgContactRepository::builder`].
#[derive(Debug)]
#[must_use]
pub struct PgContactRepositoryBuilder {
    pool: PgPool,
    schema: String,
    statement_timeout: Duration,
    rules: Rules,
    read_audit: bool,
    feed_notifications: bool,
}

impl PgContactRepository {
    /// Starts building a repository on `pool`, which may be the host application's own.
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool) -> renraku_core::Result<()> {
    /// let repo = renraku_postgres::PgContactRepository::builder(pool).schema("contacts").build()?;
    /// repo.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(pool: PgPool) -> PgContactRepositoryBuilder {
        PgContactRepositoryBuilder {
            pool,
            schema: DEFAULT_SCHEMA.to_owned(),
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            rules: Rules::default(),
            read_audit: false,
            feed_notifications: true,
        }
    }
}

impl PgContactRepositoryBuilder {
    /// The schema for renraku's tables (default [`DEFAULT_SCHEMA`]): 1 to 63 characters,
    /// lowercase ASCII letters, digits and `_`, not starting with a digit or `pg_`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// How long one call may take, from waiting for a connection to its commit (default
    /// [`DEFAULT_STATEMENT_TIMEOUT`]); each statement also stops at it on the server.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// The validation rules (default: [`Rules::default`]).
    pub fn rules(mut self, rules: Rules) -> Self {
        self.rules = rules;
        self
    }

    /// Records reads as audit events too (default off): viewing a contact, listing a case
    /// and searching across cases, each in the same statement as the read, so a read
    /// that returns data has its event. What it costs is in BENCHMARKS.md.
    pub fn read_audit(mut self, read_audit: bool) -> Self {
        self.read_audit = read_audit;
        self
    }

    /// Whether every write notifies the followers of the change feed (default on), so that
    /// [`wait_for_events`](renraku_core::ContactRepository::wait_for_events) wakes within
    /// milliseconds of a commit: a `pg_notify` in the round trip that begins the write's
    /// transaction, delivered by PostgreSQL at commit. Without it, followers see new events
    /// when their wait times out. What it costs is in BENCHMARKS.md.
    pub fn feed_notifications(mut self, notify: bool) -> Self {
        self.feed_notifications = notify;
        self
    }

    /// Checks the options and builds the repository. It does not touch the database; call
    /// [`PgContactRepository::migrate`] before first use.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `schema` or `statement_timeout`.
    pub fn build(self) -> Result<PgContactRepository, Error> {
        check_schema(&self.schema)?;
        if self.statement_timeout.is_zero() {
            return Err(option_error("statement_timeout", "must be longer than zero"));
        }
        let sql = Statements::new(&self.schema, self.statement_timeout, self.feed_notifications);
        Ok(PgContactRepository::from_inner(Arc::new(Inner {
            pool: self.pool,
            schema: self.schema,
            statement_timeout: self.statement_timeout,
            rules: self.rules,
            read_audit: self.read_audit,
            sql,
            two_statements: AtomicBool::new(false),
            feed_waker: std::sync::OnceLock::new(),
        })))
    }
}

fn check_schema(schema: &str) -> Result<(), Error> {
    let valid_chars = schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let starts_well = schema.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if schema.len() > 63 || !valid_chars || !starts_well || schema.starts_with("pg_") {
        return Err(option_error(
            "schema",
            "must be 1 to 63 lowercase ASCII letters, digits or _, not starting with a digit or pg_",
        ));
    }
    Ok(())
}

fn option_error(field: &'static str, message: &'static str) -> Error {
    ValidationErrors::from(FieldError::new(field, code::RANGE, message)).into()
}
