//! The change feed on PostgreSQL: its order, its horizon, its wake-ups, and how they hold
//! on Citus. The crate docs ("The change feed") say the same for hosts.
//!
//! # Order: transaction ids, read below the snapshot's `xmin`
//!
//! A sequence (or a UUID v7, or a timestamp) is not commit order: a transaction can take a
//! lower number, commit after one with a higher number, and a reader that already passed
//! the higher one would skip it for ever. So every audit event records the id of the
//! transaction that wrote it (`tx xid8`, by column default; 64 bits, never wraps), the feed
//! is ordered by `(tx, id)`, and it is read only **below the `xmin` of the reading
//! statement's snapshot**: the oldest transaction id still running. Every transaction below
//! `xmin` has committed or aborted, and every later transaction gets a higher id, so the
//! part of the feed below `xmin` never changes again; a cursor handed out is below it, and
//! nothing can appear behind it. A follower that stores its cursor sees each event once.
//!
//! What it costs: nothing on the write path but an 8-byte column and an index entry (no
//! lock, no counter, writers do not wait for each other). The price is on the read side: an
//! event is readable once every transaction that began before it has ended, so a long
//! transaction that has written anything in the whole cluster (the host's too) holds the
//! feed back while it runs — it delays the feed, it never loses an event. Keep writing
//! transactions short (`idle_in_transaction_session_timeout` helps). The alternative that
//! gives exact commit order, a counter row updated under a lock at the end of every writing
//! transaction, makes all writers of all cases take turns through their commits; BENCHMARKS.md
//! measures both.
//!
//! # On Citus
//!
//! After [`distribute`](crate::PgContactRepository::distribute), audit events live in shards
//! on the workers, each with its own transaction ids, and Citus commits a write to one worker
//! in one phase (the worker commits before the coordinator) but a write through the
//! coordinator (a bulk create, an audited read) in two, where the worker's `COMMIT PREPARED`
//! comes *after* the coordinator's transaction ended. A horizon on the coordinator would pass
//! such an event before it is visible, and a column default is evaluated on the worker when
//! Citus pushes an `INSERT ... SELECT` down. So the distributed repository writes each event
//! twice in the write's transaction: into `audit_events` (the case's trail, on the worker) and
//! into `_renraku_feed`, a bookkeeping table that stays on the coordinator, stamped with the
//! coordinator's transaction id; the feed reads that table only, below the coordinator's
//! `xmin`: the single-server argument, on one node. The Citus tests run the feed's
//! conformance behaviours and the out-of-order commit on a 3-node cluster.
//!
//! What Citus does with such a transaction (checked on Citus 13.2 with
//! `pg_dist_transaction`): a write to one worker plus a row in a plain coordinator table is
//! still a **one-phase** commit (`citus_writes_after_distribute_commit_in_one_phase` passes
//! with the feed row), so the cost is one more statement on the coordinator per write.
//! One-phase means the worker commits first, then the coordinator: the feed row never shows
//! a change before it is visible, but a coordinator that crashes between the two commits
//! leaves that change and its audit event on the worker without its feed row (the trail
//! keeps it; the feed misses it). Making the feed table a Citus local table
//! (`citus_add_local_table_to_metadata`) would close that window with a two-phase commit per
//! write, which BENCHMARKS.md measured at 1.4 to 1.9 times the cost of one phase for the
//! audit row: not done; a follower that must not miss even that can reconcile with the
//! audit trails. Writes must go through the coordinator: transaction ids of different nodes
//! are not comparable.
//!
//! # Wake-ups
//!
//! Every writing transaction runs `pg_notify('<schema>.feed', '')` in the round trip of its
//! `BEGIN` (audited reads on one server in their statement): PostgreSQL delivers it at commit
//! and drops it on rollback. The first wait starts one listener per repository (a
//! `PgListener` on a connection of the pool, reconnecting with backoff) that turns
//! notifications into a `watch` signal; waiters re-check the feed on every signal, poll
//! briefly while the new events are still behind a running transaction, and return at their
//! timeout otherwise, so a lost notification costs one timeout.

use std::time::Duration;

use renraku_core::{AuditEvent, Error, FeedCursor, FeedPage, PageLimit};
use sqlx::postgres::{PgListener, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::PgError;
use crate::repository::PgContactRepository;
use crate::rows::{self, bind_event, bind_events};

/// The longest pause between two looks at events that a running transaction holds back.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// The longest pause before the listener connects again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

fn source(repo: &PgContactRepository) -> usize {
    usize::from(repo.distributed())
}

/// A page of the feed after `after`.
pub(crate) async fn page(
    repo: &PgContactRepository,
    after: &FeedCursor,
    limit: PageLimit,
) -> Result<FeedPage, Error> {
    // The cursor's own event (to tell a known cursor from an unknown one), the page, and one
    // more to tell whether there is more.
    let rows = i64::try_from(limit.get()).unwrap_or(i64::MAX) + 2;
    let query = sqlx::query(repo.sql().feed_page[source(repo)].clone())
        .bind(after.position().to_string())
        .bind(after.event())
        .bind(rows);
    let found: Vec<PgRow> = repo.bounded(query.fetch_all(repo.pool())).await?;
    let mut events = found.iter().map(positioned).collect::<Result<Vec<_>, _>>()?;
    if !after.is_start() {
        match events.first() {
            Some((position, event))
                if *position == after.position() && *event.id.as_uuid() == after.event() =>
            {
                events.remove(0);
            }
            _ => return Err(Error::UnknownCursor),
        }
    }
    Ok(FeedPage::from_overfetch(events, *after, limit))
}

/// An event and its position (its transaction id).
fn positioned(row: &PgRow) -> Result<(u64, AuditEvent), PgError> {
    let tx: i64 = row.try_get(7)?;
    let position = u64::try_from(tx).map_err(|_| PgError::Corrupt("tx"))?;
    Ok((position, rows::event(row)?))
}

/// Waits for events after `after` (see `ContactRepository::wait_for_events`).
pub(crate) async fn wait(
    repo: &PgContactRepository,
    after: &FeedCursor,
    timeout: Duration,
) -> Result<bool, Error> {
    let deadline = Instant::now() + timeout;
    // Subscribed before the first look: a commit after it is a signal we will see.
    let mut signal = repo.feed_waker().subscribe();
    let mut pause = Duration::from_millis(2);
    loop {
        let query = sqlx::query_as(repo.sql().feed_pending[source(repo)].clone())
            .bind(after.position().to_string())
            .bind(after.event());
        let (readable, pending): (bool, bool) = repo.bounded(query.fetch_one(repo.pool())).await?;
        if readable {
            return Ok(true);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        if pending {
            // Committed, or about to be, behind a transaction that began earlier: soon.
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(MAX_PAUSE);
            continue;
        }
        match tokio::time::timeout(left, signal.changed()).await {
            Ok(Ok(())) => {}
            // The listener is gone (the repository is being dropped): wait out the time.
            Ok(Err(_)) => tokio::time::sleep(left).await,
            Err(_) => return Ok(false),
        }
    }
}

/// The repository's listener and the signal it sends; the listener stops when the
/// repository (its last clone) is dropped.
#[derive(Debug)]
pub(crate) struct FeedWaker {
    signal: watch::Sender<u64>,
    listener: tokio::task::AbortHandle,
}

impl Drop for FeedWaker {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PgContactRepository {
    /// The listener of this repository's feed, started on first use.
    fn feed_waker(&self) -> &watch::Sender<u64> {
        let waker = self.inner_feed_waker().get_or_init(|| {
            let signal = watch::Sender::new(0);
            let task =
                tokio::spawn(listen(self.pool().clone(), self.sql().feed_channel.clone(), signal.clone()));
            FeedWaker { signal, listener: task.abort_handle() }
        });
        &waker.signal
    }
}

/// Listens on `channel` for ever and signals every notification, and every (re)connection
/// (notifications may have been missed meanwhile).
async fn listen(pool: PgPool, channel: String, signal: watch::Sender<u64>) {
    let wake = || signal.send_modify(|n| *n = n.wrapping_add(1));
    let mut backoff = Duration::from_millis(50);
    loop {
        if let Ok(mut listener) = PgListener::connect_with(&pool).await
            && listener.listen(&channel).await.is_ok()
        {
            backoff = Duration::from_millis(50);
            wake();
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => wake(),
                    // The connection was lost; the next call reconnects and listens again.
                    Ok(None) => wake(),
                    Err(_) => break,
                }
            }
        }
        wake();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Stores an event's row in `_renraku_feed`, on a distributed repository.
pub(crate) async fn insert_feed_event(
    repo: &PgContactRepository,
    tx: &mut Transaction<'static, Postgres>,
    event: &AuditEvent,
) -> Result<(), Error> {
    let insert = sqlx::query(repo.sql().insert_feed_event.clone()).bind(event.case_id.as_str());
    repo.bounded(bind_event(insert, event).execute(&mut **tx)).await?;
    Ok(())
}

/// Stores the rows in `_renraku_feed` of events of one case, with one statement, on a
/// distributed repository.
pub(crate) async fn insert_feed_events<'a>(
    repo: &PgContactRepository,
    tx: &mut Transaction<'static, Postgres>,
    case_id: &str,
    events: impl Iterator<Item = &'a AuditEvent> + Clone,
) -> Result<(), Error> {
    let insert = bind_events(sqlx::query(repo.sql().insert_feed_events.clone()), case_id, events);
    repo.bounded(insert.execute(&mut **tx)).await?;
    Ok(())
}
