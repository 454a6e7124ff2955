//! The change feed: every [`AuditEvent`] of a repository, across cases, in a stable order,
//! for hosts that forward changes elsewhere. [`FeedCursor`] in, [`FeedPage`] out.
//!
//! A follower reads [`ContactRepository::feed`] from the position it stored, delivers the
//! events, stores [`FeedPage::next`], and waits with [`ContactRepository::wait_for_events`]
//! when it has caught up. [`follow`] is that loop, for hosts that want it done for them.
//!
//! # The contract
//!
//! - **Every event exactly once.** A follower that resumes from the cursor it stored sees
//!   each event once, even while many writers commit concurrently and transactions commit
//!   out of the order in which they began: a position, once handed out, never has events
//!   appear before it.
//! - **A stable order.** Reading again from the same cursor returns the same events in the
//!   same order. Events of one change come in the order they were planned; the order
//!   between changes is the backend's (see its docs), not necessarily the order of `at`.
//! - **Erasure keeps the feed.** Events hold no personal values, so erasing a case keeps its
//!   events in the feed, like its audit trail.
//! - **Typed answers.** A caught-up feed is an empty page whose `next` is the cursor given.
//!   A cursor that is not a cursor is [`Error::InvalidId`] with [`IdKind::FeedCursor`]; one
//!   that this feed did not hand out (another repository's, or a made-up one) is
//!   [`Error::UnknownCursor`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::error::{Error, IdKind};
use crate::page::PageLimit;
use crate::repository::ContactRepository;

/// A position in the change feed: the feed after it starts behind it.
///
/// It is opaque to hosts: 48 hexadecimal digits, URL-safe, to store as text (a file, a
/// column) and parse back with [`FromStr`]. Underneath it is the backend's position of the
/// last event delivered (a commit sequence in memory, a transaction id on PostgreSQL) and
/// that event's id. [`FeedCursor::START`] is before every event.
///
/// ```
/// use renraku_core::{Error, FeedCursor, IdKind};
///
/// let start = FeedCursor::START;
/// assert_eq!(start.to_string().parse::<FeedCursor>()?, start);
/// assert!(matches!("bogus".parse::<FeedCursor>(), Err(Error::InvalidId { kind: IdKind::FeedCursor })));
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FeedCursor {
    position: u64,
    event: Uuid,
}

impl FeedCursor {
    /// Before every event: where a new follower starts.
    pub const START: Self = Self { position: 0, event: Uuid::nil() };

    /// The cursor after the event with id `event` at the backend's `position`. Backends
    /// build cursors with it.
    #[must_use]
    pub const fn after(position: u64, event: Uuid) -> Self {
        Self { position, event }
    }

    /// The backend's position of the last event before the feed (0 for the start).
    #[must_use]
    pub const fn position(&self) -> u64 {
        self.position
    }

    /// The id of the last event before the feed (nil for the start).
    #[must_use]
    pub const fn event(&self) -> Uuid {
        self.event
    }

    /// Whether this is [`FeedCursor::START`].
    #[must_use]
    pub fn is_start(&self) -> bool {
        *self == Self::START
    }
}

impl Default for FeedCursor {
    fn default() -> Self {
        Self::START
    }
}

impl FromStr for FeedCursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidId { kind: IdKind::FeedCursor };
        if s.len() != 48 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let position = u64::from_str_radix(&s[..16], 16).map_err(|_| invalid())?;
        let event = Uuid::try_parse(&s[16..]).map_err(|_| invalid())?;
        Ok(Self { position, event })
    }
}

impl TryFrom<String> for FeedCursor {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FeedCursor> for String {
    fn from(cursor: FeedCursor) -> Self {
        cursor.to_string()
    }
}

impl fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{}", self.position, self.event.simple())
    }
}

impl fmt::Debug for FeedCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FeedCursor({self})")
    }
}

/// One page of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    /// The events after the cursor, in feed order; empty when the follower has caught up.
    pub events: Vec<AuditEvent>,
    /// Where to continue: after the last event of the page, or the cursor given if the page
    /// is empty. Store it once the events are delivered.
    pub next: FeedCursor,
    /// Whether more events could be read right away (the page was full).
    pub more: bool,
}

impl FeedPage {
    /// The empty page of a follower at `cursor` that has caught up.
    #[must_use]
    pub const fn caught_up(cursor: FeedCursor) -> Self {
        Self { events: Vec::new(), next: cursor, more: false }
    }

    /// Builds a page from up to `limit + 1` events in feed order, each with its position:
    /// the extra one only says that there is more. This is how every backend pages.
    #[must_use]
    pub fn from_overfetch(mut events: Vec<(u64, AuditEvent)>, after: FeedCursor, limit: PageLimit) -> Self {
        let more = events.len() > limit.get();
        events.truncate(limit.get());
        let next = events.last().map_or(after, |(position, e)| FeedCursor::after(*position, *e.id.as_uuid()));
        Self { events: events.into_iter().map(|(_, e)| e).collect(), next, more }
    }
}

/// Follows the feed of `repo` from `after` for ever: reads a page, hands it to `deliver`,
/// and waits for more (up to `reread` at a time) when it has caught up; it returns only
/// with the first error of the repository or of `deliver`.
///
/// `deliver` gets each non-empty page and returns once the page is delivered and its
/// [`next`](FeedPage::next) stored (for at-least-once delivery, store it only after the
/// delivery succeeded).
///
/// ```
/// use std::time::Duration;
/// use renraku_core::{feed, Actor, ContactRepository, FeedCursor, FeedPage, PageLimit};
///
/// async fn forward(repo: &dyn ContactRepository, auditor: &Actor) -> renraku_core::Result<()> {
///     feed::follow(repo, FeedCursor::START, PageLimit::MAX, Duration::from_secs(1), auditor, |page: FeedPage| async move {
///         for event in &page.events {
///             println!("{}", event.id);
///         }
///         Ok(())
///     })
///     .await
/// }
/// ```
///
/// # Errors
/// The first error of [`ContactRepository::feed`], of
/// [`ContactRepository::wait_for_events`] or of `deliver`.
pub async fn follow<R, F, Fut>(
    repo: &R,
    mut after: FeedCursor,
    limit: PageLimit,
    reread: Duration,
    actor: &Actor,
    mut deliver: F,
) -> Result<(), Error>
where
    R: ContactRepository + ?Sized,
    F: FnMut(FeedPage) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    loop {
        let page = repo.feed(&after, limit, actor).await?;
        let (next, more) = (page.next, page.more);
        if !page.events.is_empty() {
            deliver(page).await?;
        }
        after = next;
        if !more {
            repo.wait_for_events(&after, reread, actor).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_as_text_and_json() {
        let cursor = FeedCursor::after(0x1234_5678_9abc, Uuid::now_v7());
        let text = cursor.to_string();
        assert_eq!(text.len(), 48);
        assert_eq!(text.parse::<FeedCursor>().unwrap(), cursor);
        let json = serde_json::to_string(&cursor).unwrap();
        assert_eq!(serde_json::from_str::<FeedCursor>(&json).unwrap(), cursor);
        assert_eq!(FeedCursor::START.to_string(), "0".repeat(48));
        assert!(FeedCursor::START.to_string().parse::<FeedCursor>().unwrap().is_start());
    }

    #[test]
    fn malformed_cursors_are_invalid_ids() {
        let good = FeedCursor::after(7, Uuid::now_v7()).to_string();
        let bad = [
            String::new(),
            "bogus".to_owned(),
            good[..47].to_owned(),
            format!("{good}0"),
            format!("g{}", &good[1..]),
            format!("+{}", &good[1..]),
        ];
        for text in bad {
            assert!(
                matches!(text.parse::<FeedCursor>(), Err(Error::InvalidId { kind: IdKind::FeedCursor })),
                "{text:?}"
            );
        }
    }
}
