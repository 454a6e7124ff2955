//! The change feed: every event once, in a stable order, with typed answers and wake-ups.

use std::time::{Duration, Instant};

use super::*;
use crate::access::{Action, PolicyRepository, Role, RoleBasedPolicy};
use crate::{FeedCursor, FeedPage, IdKind};

fn auditor() -> Actor {
    Actor::new("auditor-3").expect("valid actor")
}

/// Every event after `after`, `page_limit` at a time, and the cursor after the last; at
/// least `at_least` of them. A write that has returned is in the feed once every
/// transaction that began before it has ended (on PostgreSQL, other tests' too), so this
/// waits for the feed to hold them.
async fn read_feed(
    repo: &Repo,
    after: FeedCursor,
    page_limit: u32,
    at_least: usize,
) -> (Vec<AuditEvent>, FeedCursor) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut events, mut cursor) = (Vec::new(), after);
    loop {
        let page = repo.feed(&cursor, limit(page_limit), &auditor()).await.expect("feed");
        assert!(page.events.len() <= page_limit as usize, "a page holds at most its limit");
        events.extend(page.events);
        cursor = page.next;
        if page.more {
            continue;
        }
        if events.len() >= at_least {
            return (events, cursor);
        }
        assert!(Instant::now() < deadline, "the feed holds {} events, not {at_least}", events.len());
        repo.wait_for_events(&cursor, Duration::from_secs(1), &auditor()).await.expect("wait");
    }
}

fn ids(events: &[AuditEvent]) -> Vec<crate::AuditEventId> {
    events.iter().map(|e| e.id).collect()
}

pub async fn feed_of_an_empty_store_is_an_empty_page(repo: Repo) {
    let page = repo.feed(&FeedCursor::START, PageLimit::MAX, &auditor()).await.expect("feed");
    assert_eq!(page, FeedPage::caught_up(FeedCursor::START));
    assert!(
        !repo.wait_for_events(&FeedCursor::START, Duration::from_millis(1), &auditor()).await.expect("wait"),
        "nothing to wait for"
    );
}

pub async fn feed_delivers_every_event_once_in_a_stable_order(repo: Repo) {
    let (first, second) = (fresh_case(), fresh_case());
    let ada = repo.create(&first, named("Ada"), &clerk()).await.expect("create");
    repo.create_many(&second, vec![named("Grace"), named("Alan"), named("Edsger")], &clerk())
        .await
        .expect("create_many");
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    repo.update(&first, ada.id, patch.clone(), None, &supervisor()).await.expect("update");
    repo.update(&first, ada.id, patch, None, &supervisor()).await.expect("an update that changes nothing");
    repo.erase_case(&second, &clerk()).await.expect("erase");
    repo.delete(&first, ada.id, None, &clerk()).await.expect("delete");

    let (events, end) = read_feed(&repo, FeedCursor::START, 2, 7).await;
    let mut expected = audit_of(&repo, &first).await;
    expected.extend(audit_of(&repo, &second).await);
    let mut sorted = ids(&events);
    sorted.sort_unstable();
    let mut wanted = ids(&expected);
    wanted.sort_unstable();
    assert_eq!(sorted, wanted, "the feed holds every event of every case, each once");
    assert_eq!(events.len(), 1 + 3 + 1 + 1 + 1, "no event for the update that changed nothing");
    for case in [&first, &second] {
        let in_feed: Vec<_> = events.iter().filter(|e| e.case_id == *case).cloned().collect();
        assert_eq!(in_feed, audit_of(&repo, case).await, "a case's events in the order of its trail");
    }

    let (again, same_end) = read_feed(&repo, FeedCursor::START, 3, 7).await;
    assert_eq!(again, events, "the same order at every read, whatever the page size");
    assert_eq!(same_end, end);
    let caught_up = repo.feed(&end, limit(10), &auditor()).await.expect("feed");
    assert_eq!(caught_up, FeedPage::caught_up(end), "a follower that caught up gets an empty page");

    // A follower that stored the cursor after the third event, as text, resumes behind it.
    let third = repo.feed(&FeedCursor::START, limit(3), &auditor()).await.expect("feed");
    assert!(third.more);
    let stored = third.next.to_string();
    let (rest, _) = read_feed(&repo, stored.parse().expect("a stored cursor parses"), 50, 4).await;
    assert_eq!(rest, events[3..], "resuming sees the rest, once");

    let later = repo.create(&first, named("Grace"), &clerk()).await.expect("create");
    let (new, _) = read_feed(&repo, end, 50, 1).await;
    assert_eq!(ids(&new), [audit_of(&repo, &first).await.last().expect("event").id]);
    assert_eq!(new[0].contact_id, Some(later.id));
}

pub async fn feed_follower_sees_every_event_once_while_16_writers_commit(repo: Repo) {
    const WRITERS: usize = 16;
    const UPDATES: usize = 4;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = tokio::spawn({
        let (repo, done) = (repo.clone(), done.clone());
        async move {
            // The follower keeps its cursor as text, as it would store it, and parses it back
            // for every read, as it would after a restart.
            let (mut seen, mut stored) = (Vec::new(), FeedCursor::START.to_string());
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let cursor: FeedCursor = stored.parse().expect("stored cursor");
                let page = repo.feed(&cursor, limit(7), &auditor()).await.expect("feed");
                let caught_up = page.events.is_empty();
                seen.extend(page.events);
                stored = page.next.to_string();
                // Done when the writers are, and nothing is left to read or held back.
                if finished
                    && caught_up
                    && !repo
                        .wait_for_events(&page.next, Duration::from_millis(200), &auditor())
                        .await
                        .expect("wait")
                {
                    return (seen, stored);
                }
                if !page.more {
                    repo.wait_for_events(&page.next, Duration::from_millis(50), &auditor())
                        .await
                        .expect("wait");
                }
            }
        }
    });
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let repo = repo.clone();
        writers.spawn(async move {
            let case = fresh_case();
            let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
            for update in 0..UPDATES {
                let patch = ContactPatch::default()
                    .set(ContactField::Relationship, format!("writer {writer} {update}"));
                repo.update(&case, contact.id, patch, None, &clerk()).await.expect("update");
            }
            case
        });
    }
    let mut expected = Vec::new();
    while let Some(case) = writers.join_next().await {
        expected.extend(audit_of(&repo, &case.expect("writer")).await);
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (seen, stored) = tokio::time::timeout(Duration::from_secs(60), follower)
        .await
        .expect("the follower catches up")
        .expect("follower");
    assert_eq!(expected.len(), WRITERS * (1 + UPDATES));
    let mut seen_ids = ids(&seen);
    seen_ids.sort_unstable();
    let before = seen_ids.len();
    seen_ids.dedup();
    assert_eq!(before, seen_ids.len(), "no event is delivered twice");
    let mut wanted = ids(&expected);
    wanted.sort_unstable();
    assert_eq!(seen_ids, wanted, "every event is delivered, none is skipped");
    let (again, end) = read_feed(&repo, FeedCursor::START, 500, seen.len()).await;
    assert_eq!(again, seen, "the follower saw the feed's one order");
    assert_eq!(end.to_string(), stored);
}

pub async fn feed_keeps_the_events_of_erased_cases(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let patch = ContactPatch::default().set(ContactField::FirstName, "Secretia");
    repo.update(&case, contact.id, patch, None, &clerk()).await.expect("update");
    repo.erase_case(&case, &clerk()).await.expect("erase");
    let (events, _) = read_feed(&repo, FeedCursor::START, 50, 3).await;
    let actions: Vec<_> = events.iter().filter(|e| e.case_id == case).map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::Updated, AuditAction::CaseErased]);
    let values = ["Frau", "Zoë", "Brien", "1234567", "example.org", "Hauptstraße", "household", "Secretia"];
    for event in &events {
        let text = format!("{event:?} {}", forwarded_fields(event));
        for value in values {
            assert!(!text.contains(value), "a feed event shows {value:?}: {text}");
        }
    }
}

/// Every field of an event as text, as a host would forward it.
fn forwarded_fields(event: &AuditEvent) -> String {
    format!(
        "{} {} {:?} {} {} {:?} {}",
        event.id, event.case_id, event.contact_id, event.action, event.actor, event.changed_fields, event.at
    )
}

pub async fn feed_cursors_that_are_malformed_or_unknown_have_typed_errors(repo: Repo) {
    for text in ["", "bogus", "0123", &"z".repeat(48)] {
        assert!(
            matches!(text.parse::<FeedCursor>(), Err(Error::InvalidId { kind: IdKind::FeedCursor })),
            "{text:?} is malformed"
        );
    }
    let made_up = FeedCursor::after(4_000_000_000, uuid::Uuid::now_v7());
    let unknown = repo.feed(&made_up, limit(10), &auditor()).await;
    assert!(matches!(unknown, Err(Error::UnknownCursor)), "a made-up cursor: {unknown:?}");

    repo.create(&fresh_case(), named("Ada"), &clerk()).await.expect("create");
    let (_, real) = read_feed(&repo, FeedCursor::START, 10, 1).await;
    assert_eq!(repo.feed(&real, limit(10), &auditor()).await.expect("feed"), FeedPage::caught_up(real));
    let wrong_event = FeedCursor::after(real.position(), uuid::Uuid::now_v7());
    let unknown = repo.feed(&wrong_event, limit(10), &auditor()).await;
    assert!(matches!(unknown, Err(Error::UnknownCursor)), "the right position, another event: {unknown:?}");
    let message = Error::UnknownCursor.to_string();
    assert!(message.contains("cursor"), "{message}");
}

pub async fn feed_waits_without_polling_and_wakes_on_a_commit(repo: Repo) {
    let (case, actor) = (fresh_case(), auditor());
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let waited = Instant::now();
    assert!(
        repo.wait_for_events(&FeedCursor::START, Duration::from_secs(30), &actor).await.expect("wait"),
        "events to read: no wait"
    );
    assert!(waited.elapsed() < Duration::from_secs(5));
    let (_, end) = read_feed(&repo, FeedCursor::START, 50, 1).await;

    let waited = Instant::now();
    let woken = repo.wait_for_events(&end, Duration::from_millis(300), &actor).await.expect("wait");
    assert!(!woken, "nothing happened: the timeout");
    assert!(waited.elapsed() >= Duration::from_millis(250), "it waited: {:?}", waited.elapsed());

    let waiter = tokio::spawn({
        let repo = repo.clone();
        async move {
            let woken = repo.wait_for_events(&end, Duration::from_secs(30), &auditor()).await.expect("wait");
            (woken, Instant::now())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    repo.create(&case, named("Grace"), &clerk()).await.expect("create");
    let committed = Instant::now();
    let (woken, at) = waiter.await.expect("waiter");
    assert!(woken, "a commit wakes the follower");
    let delay = at.saturating_duration_since(committed);
    assert!(delay < Duration::from_secs(2), "woken {delay:?} after the commit");
    let (new, _) = read_feed(&repo, end, 50, 1).await;
    assert_eq!(new.len(), 1);
}

pub async fn feed_asks_the_policy_for_read_feed(repo: Repo) {
    repo.create(&fresh_case(), named("Ada"), &clerk()).await.expect("create");
    let guarded = PolicyRepository::new(repo.clone(), RoleBasedPolicy);
    let as_role = |role: Role| Actor::new(format!("user-{role}")).expect("actor").with_roles([role]);
    for role in [Role::Reader, Role::Editor, Role::Searcher] {
        let actor = as_role(role);
        let denied = guarded.feed(&FeedCursor::START, limit(10), &actor).await;
        assert!(
            matches!(denied, Err(Error::Denied { action: Action::ReadFeed, case_id: None })),
            "{role}: {denied:?}"
        );
        let denied = guarded.wait_for_events(&FeedCursor::START, Duration::from_millis(1), &actor).await;
        assert!(matches!(denied, Err(Error::Denied { action: Action::ReadFeed, case_id: None })));
    }
    let auditor = as_role(Role::Auditor);
    assert!(
        guarded.wait_for_events(&FeedCursor::START, Duration::from_secs(30), &auditor).await.expect("wait")
    );
    let page =
        guarded.feed(&FeedCursor::START, limit(10), &auditor).await.expect("an auditor follows the feed");
    assert_eq!(page.events.len(), 1);
}
