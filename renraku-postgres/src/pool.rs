//! The pool options renraku recommends to its hosts.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

/// A pooled connection back in the pool for less than this is handed out without a ping.
pub const RECENTLY_USED: Duration = Duration::from_millis(500);

/// sqlx's pool options, with one change: a connection is pinged before it is handed out
/// only if it has been idle for [`RECENTLY_USED`] or longer.
///
/// sqlx pings every connection twice per use by default: when it comes back to the pool
/// (always) and before it is handed out again (`test_before_acquire`). For a request that
/// runs one statement, that second ping is a third of its round trips to the database. A
/// connection that came back within the last half second has just answered the first ping,
/// so these options skip the second for it, as HikariCP does (its `aliveBypassWindowMs`).
/// A connection idle for longer is pinged, and if it broke (the server restarted), closed
/// and replaced before it is handed out, as with sqlx's default.
///
/// The price: a connection that breaks within half a second of its last use fails the one
/// call that gets it next (with [`Error::Backend`](renraku_core::Error::Backend), as any
/// lost connection does) and is then replaced. The web example uses these options;
/// BENCHMARKS.md has what they save.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// # async fn run() -> Result<(), sqlx::Error> {
/// let pool = renraku_postgres::pool_options()
///     .max_connections(16)
///     .acquire_timeout(Duration::from_secs(5))
///     .connect("postgres://app@localhost/app")
///     .await?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new().test_before_acquire(false).before_acquire(|connection, meta| {
        Box::pin(async move {
            if meta.idle_for >= RECENTLY_USED {
                sqlx::Connection::ping(connection).await?;
            }
            Ok(true)
        })
    })
}
