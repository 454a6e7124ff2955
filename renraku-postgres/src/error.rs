//! [`PgError`]: what went wrong in PostgreSQL, kept as the source of `Error::Backend`.

use std::time::Duration;

use renraku_core::Error;

/// The backend error of renraku-postgres: the source of every
/// [`Error::Backend`](renraku_core::Error::Backend) it returns.
///
/// Its message names the kind of failure and the SQLSTATE, never the server's text, so it
/// cannot carry values. The `sqlx` error stays reachable through
/// [`source()`](std::error::Error::source) for debugging.
///
/// ```
/// use renraku_postgres::PgError;
///
/// fn is_timeout(err: &renraku_core::Error) -> bool {
///     std::error::Error::source(err)
///         .and_then(|source| source.downcast_ref::<PgError>())
///         .is_some_and(PgError::is_timeout)
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The server refused or failed a statement.
    #[error("PostgreSQL failed a statement (SQLSTATE {sqlstate})")]
    Database {
        /// The SQLSTATE code, such as `57014` for a statement timeout.
        sqlstate: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The driver failed without a SQLSTATE: the server is down or unreachable, dropped
    /// the connection, or no pooled connection came free in time.
    #[error("the PostgreSQL connection failed")]
    Driver(#[source] sqlx::Error),
    /// The operation did not finish within the statement timeout.
    #[error("PostgreSQL did not answer within {0:?}")]
    Timeout(Duration),
    /// A migration failed.
    #[error("a renraku migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A stored value does not satisfy renraku's rules (the named column).
    #[error("stored data in column {0} is invalid")]
    Corrupt(&'static str),
    /// [`distribute`](crate::PgContactRepository::distribute) needs the `citus` extension in
    /// the database, and it is not there (not installed, or not created with `CREATE EXTENSION
    /// citus`).
    #[error("the citus extension is not installed in this database")]
    CitusMissing,
    /// The connection plans statements with `plan_cache_mode = force_generic_plan`, with which
    /// Citus cannot run most of renraku's statements on distributed tables.
    #[error("plan_cache_mode is force_generic_plan, with which Citus cannot run renraku's statements")]
    GenericPlansForced,
    /// A table of renraku's schema (named) is already managed by Citus, but not as a table
    /// distributed by `case_id` and colocated with `contacts` (for example a reference table,
    /// or a table of a schema that Citus shards by schema).
    #[error("table {0} is managed by Citus, but not distributed by case_id beside contacts")]
    DistributedOtherwise(String),
}

impl PgError {
    /// The SQLSTATE of a failed statement.
    #[must_use]
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Self::Database { sqlstate, .. } => Some(sqlstate),
            _ => None,
        }
    }

    /// Whether the operation timed out, on the client or on the server (SQLSTATE 57014).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_)) || self.sqlstate() == Some("57014")
    }
}

impl From<sqlx::Error> for PgError {
    fn from(error: sqlx::Error) -> Self {
        match error.as_database_error().and_then(|e| e.code()).map(|code| code.into_owned()) {
            Some(sqlstate) => Self::Database { sqlstate, source: error },
            None => Self::Driver(error),
        }
    }
}

impl From<PgError> for Error {
    fn from(error: PgError) -> Self {
        Error::backend("postgres", error)
    }
}

/// Lifts a driver error into the core's error, through [`PgError`].
pub(crate) fn backend(error: sqlx::Error) -> Error {
    PgError::from(error).into()
}
