//! The change feed when transactions commit out of the order in which they began: on one
//! server and on Citus (included by `postgres.rs` and `citus.rs`).

use std::time::Duration;

use renraku_core::{
    Actor, AuditAction, AuditEvent, ContactRepository, FeedCursor, FeedPage, NewContact, PageLimit,
};
use renraku_postgres::PgContactRepository;

fn auditor() -> Actor {
    Actor::new("auditor-1").unwrap()
}

async fn page(repo: &PgContactRepository, after: FeedCursor) -> FeedPage {
    repo.feed(&after, PageLimit::MAX, &auditor()).await.unwrap()
}

/// At least `n` events after `after`, waiting while other transactions (other tests', on
/// the same server) hold them back.
async fn at_least(repo: &PgContactRepository, after: FeedCursor, n: usize) -> FeedPage {
    let mut all = FeedPage::caught_up(after);
    for _ in 0..100 {
        let next = page(repo, all.next).await;
        all.events.extend(next.events);
        all.next = next.next;
        if all.events.len() >= n {
            return all;
        }
        repo.wait_for_events(&all.next, Duration::from_secs(1), &auditor()).await.unwrap();
    }
    panic!("the feed holds {} events after {after}, not {n}", all.events.len());
}

/// Two writers: the first begins, stores its event and stays open; the second stores its
/// event and commits. A follower must not pass the second event until the first commits,
/// then sees both, once each, and the first one first.
///
/// `table` is where the feed reads (`audit_events` on one server, `_renraku_feed` on Citus):
/// the first writer writes there by hand, as renraku's own statements do.
pub(crate) async fn transactions_that_commit_out_of_order_are_delivered_once(
    repo: &PgContactRepository,
    table: &str,
) {
    let clerk = Actor::new("clerk-1").unwrap();
    let input = || NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
    let before = repo.create(&renraku_core::testkit::fresh_case(), input(), &clerk).await.unwrap();
    let first = at_least(repo, FeedCursor::START, 1).await;
    assert_eq!(first.events.len(), 1);
    let cursor = first.next;

    // The early writer: begins first, takes its transaction id, commits last.
    let early_case = renraku_core::testkit::fresh_case();
    let early_id = uuid::Uuid::now_v7();
    let mut early = repo.pool().begin().await.unwrap();
    let insert = format!(
        "INSERT INTO \"{}\".{table} (case_id, id, contact_id, action, actor, changed_fields, at)
        VALUES ($1, $2, NULL, 'case_erased', 'clerk-1', '{{}}', now())",
        repo.schema()
    );
    sqlx::query(sqlx::AssertSqlSafe(insert))
        .bind(early_case.as_str())
        .bind(early_id)
        .execute(&mut *early)
        .await
        .unwrap();
    let early_tx: i64 =
        sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint").fetch_one(&mut *early).await.unwrap();

    // The late writer: a renraku write that begins after and commits first.
    let late_case = renraku_core::testkit::fresh_case();
    let late = repo.create(&late_case, input(), &clerk).await.unwrap();
    let trail = repo.audit_trail(&late_case, Default::default(), &clerk).await.unwrap();
    assert_eq!(trail.items.len(), 1, "the late write is committed and visible");

    let held = page(repo, cursor).await;
    assert!(held.events.is_empty(), "the late event waits behind the early transaction: {held:?}");
    assert_eq!(held.next, cursor);
    assert!(
        !repo.wait_for_events(&cursor, Duration::from_millis(200), &auditor()).await.unwrap(),
        "nothing is readable yet"
    );
    let waiter = tokio::spawn({
        let repo = repo.clone();
        async move { repo.wait_for_events(&cursor, Duration::from_secs(20), &auditor()).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    early.commit().await.unwrap();
    assert!(tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap(), "the commit wakes");

    let after = at_least(repo, cursor, 2).await;
    let seen: Vec<(uuid::Uuid, AuditAction)> =
        after.events.iter().map(|e: &AuditEvent| (*e.id.as_uuid(), e.action)).collect();
    let late_event = trail.items[0].id;
    assert_eq!(
        seen,
        [(early_id, AuditAction::CaseErased), (*late_event.as_uuid(), AuditAction::Created)],
        "both, once, the early one first"
    );
    assert_eq!(after.events[1].contact_id, Some(late.id));
    let (early_position, late_position) = (u64::try_from(early_tx).unwrap(), after.next.position());
    assert!(early_position < late_position, "ordered by transaction");
    // The whole feed again: the same events, each once.
    let all = at_least(repo, FeedCursor::START, 3).await;
    let ids: Vec<_> = all.events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(all.events[0].contact_id, Some(before.id));
}
