//! The retention period, applied: a background task that purges every contact not changed
//! for longer than the period, in bounded batches, on an interval, until shutdown.
//!
//! It logs counts only: never a contact, a case or anything else a person could be found by.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use renraku_core::access::Role;
use renraku_core::{Actor, ContactRepository, Error, PageLimit};
use tokio::task::JoinHandle;

/// The actor of the purges, as the audit trail records it.
pub const RETENTION_ACTOR: &str = "renraku-retention";

/// How many contacts one purge call erases at most.
const BATCH: PageLimit = PageLimit::MAX;

/// When and how the retention task purges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Contacts not changed for longer than this are purged.
    pub period: Duration,
    /// How long the task waits between two runs (the first run is at start).
    pub interval: Duration,
}

/// The actor of the purges: [`RETENTION_ACTOR`] with the retention role.
fn actor() -> Actor {
    Actor::new(RETENTION_ACTOR).expect("a valid actor id").with_roles([Role::Retention])
}

/// Purges every contact due now, batch after batch, and returns how many were erased.
///
/// # Errors
/// The first error of the store; contacts purged before it stay purged.
pub async fn run_once(store: &dyn ContactRepository, period: Duration) -> Result<u64, Error> {
    let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
    let cutoff =
        chrono::Utc::now().checked_sub_signed(period).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let actor = actor();
    let mut erased = 0;
    loop {
        let purged = store.purge(cutoff, BATCH, &actor).await?;
        erased += purged.erased;
        if !purged.more {
            return Ok(erased);
        }
    }
}

/// Starts the retention task: a run at once, then one every `retention.interval`, until
/// `shutdown` resolves; a run in progress is abandoned between or within batches (each
/// batch is atomic). Await the handle to wait for the end.
pub fn spawn(
    store: Arc<dyn ContactRepository>,
    retention: Retention,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        tracing::info!(
            period_seconds = retention.period.as_secs(),
            interval_seconds = retention.interval.as_secs(),
            "retention: purging contacts not changed within the retention period"
        );
        let mut ticks = tokio::time::interval(retention.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = ticks.tick() => {}
            }
            let run = run_once(store.as_ref(), retention.period);
            let result = tokio::select! {
                result = run => result,
                () = &mut shutdown => {
                    // The run is dropped: a purge batch is one transaction (one call of the
                    // store), done whole or not at all; the next start goes on from there.
                    break;
                }
            };
            match result {
                Ok(purged) => tracing::info!(purged, "retention: run finished"),
                // The error of the store, never a contact's data (errors hold none).
                Err(err) => {
                    tracing::warn!(error = %err, "retention: run failed; retrying at the next interval")
                }
            }
        }
        tracing::info!("retention: stopped");
    })
}
