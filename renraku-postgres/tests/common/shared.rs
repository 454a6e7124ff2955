//! Backend tests that run the same on one server (`postgres.rs`) and on Citus (`citus.rs`),
//! each given its repository.

use std::sync::Arc;
use std::time::Duration;

use renraku_core::{
    Actor, CaseId, ContactField, ContactPatch, ContactQuery, ContactRepository, ContactRepositoryExt, Error,
    NewContact, PageRequest,
};
use renraku_postgres::PgContactRepository;
use sqlx::{Executor, PgPool};

pub(crate) fn clerk() -> Actor {
    Actor::new("clerk-1").unwrap()
}

pub(crate) fn case() -> CaseId {
    renraku_core::testkit::fresh_case()
}

pub(crate) fn named(first: &str) -> NewContact {
    NewContact { first_name: Some(first.into()), ..NewContact::default() }
}

/// 32 writers on one contact: with a version exactly one wins, without one none is lost.
pub(crate) async fn thirty_two_concurrent_updaters_lose_nothing(repo: PgContactRepository) {
    const WRITERS: u64 = 32;
    let repo = Arc::new(repo);
    let case = case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.unwrap();

    // Everyone read version 1; exactly one may write on it, every other one is stale.
    let barrier = Arc::new(tokio::sync::Barrier::new(WRITERS as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, case, barrier) = (repo.clone(), case.clone(), barrier.clone());
        tasks.spawn(async move {
            let patch = ContactPatch::default().set(ContactField::Relationship, format!("writer {writer}"));
            barrier.wait().await;
            (writer, repo.update(&case, contact.id, patch, Some(1), &clerk()).await)
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap() {
            (writer, Ok(updated)) => winners.push((writer, updated)),
            (_, Err(Error::Conflict { expected: Some(1), current: 2 })) => {}
            (_, other) => panic!("a stale writer must get a conflict: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins version 1");
    let (writer, updated) = &winners[0];
    let stored = repo.get(&case, contact.id, &clerk()).await.unwrap();
    assert_eq!(&stored, updated);
    assert_eq!(stored.relationship, Some(format!("writer {writer}")));

    // Without an expected version, every update is applied on top of the others.
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, case) = (repo.clone(), case.clone());
        tasks.spawn(async move {
            let patch = ContactPatch::default().set(ContactField::Title, format!("T{writer}"));
            repo.update(&case, contact.id, patch, None, &clerk()).await.unwrap().version
        });
    }
    let mut versions = Vec::new();
    while let Some(version) = tasks.join_next().await {
        versions.push(version.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (3..=WRITERS + 2).collect::<Vec<_>>(), "no update is lost");
    let events =
        repo.audit_trail(&case, PageRequest::first(renraku_core::PageLimit::MAX), &clerk()).await.unwrap();
    assert_eq!(events.items.len() as u64, 1 + 1 + WRITERS, "create, one winner, every unversioned update");
}

/// A bulk create whose connection is killed while it waits for a lock stores nothing, and
/// the repository works on. `admin` is a pool on the server (the coordinator on Citus).
pub(crate) async fn a_bulk_create_killed_in_flight_stores_nothing(repo: PgContactRepository, admin: PgPool) {
    let case = case();
    // Hold a lock so the bulk insert waits where we can see it, then kill its connection.
    let mut blocker = admin.begin().await.unwrap();
    let lock = format!("LOCK TABLE \"{}\".contacts IN ACCESS EXCLUSIVE MODE", repo.schema());
    blocker.execute(sqlx::AssertSqlSafe(lock)).await.unwrap();

    let inputs: Vec<_> =
        (0..2_000).map(|i| named("Ada").with(ContactField::Relationship, format!("{i}"))).collect();
    let bulk = tokio::spawn({
        let (repo, case) = (repo.clone(), case.clone());
        async move { repo.create_many(&case, inputs, &clerk()).await }
    });
    let pid = waiting_insert(&admin, repo.schema()).await;
    let killed: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&admin).await.unwrap();
    assert!(killed);
    blocker.rollback().await.unwrap();

    let result = bulk.await.unwrap();
    assert!(matches!(result, Err(Error::Backend { .. })), "the call reports the failure: {result:?}");
    assert!(repo.list_all(&case, &clerk()).await.unwrap().is_empty(), "nothing of the batch is stored");
    let events = repo.audit_trail(&case, PageRequest::default(), &clerk()).await.unwrap();
    assert!(events.items.is_empty(), "no audit event either");
    let next = repo.create(&case, named("Grace"), &clerk()).await;
    assert!(next.is_ok(), "the next call on the same repository succeeds: {next:?}");
}

/// The backend pid of renraku's insert once it waits for a lock.
async fn waiting_insert(admin: &PgPool, schema: &str) -> i32 {
    let pattern = format!("%INSERT INTO \"{schema}\".contacts%");
    for _ in 0..500 {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1 LIMIT 1",
        )
        .bind(&pattern)
        .fetch_optional(admin)
        .await
        .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the bulk insert never reached the lock");
}

/// SQL, `LIKE` wildcards and escapes in every field are stored, read and searched verbatim.
pub(crate) async fn hostile_strings_are_stored_verbatim(repo: &PgContactRepository) {
    let case = case();
    let drop_table = "'); DROP TABLE contacts; --";
    let input = NewContact {
        title: Some(drop_table.into()),
        first_name: Some("O'Neil-- ".into()),
        last_name: Some("Robert' OR 'x' -- DROP TABLE".into()),
        email: Some("o'neil--drop@example.org".into()),
        address: Some(format!("{drop_table} \\x00 $1 %s {{}} \"quoted\"")),
        relationship: Some("%_\\".into()),
        ..NewContact::default()
    };
    let created = repo.create(&case, input, &clerk()).await.expect("hostile strings are valid input");
    assert_eq!(created.title.as_deref(), Some(drop_table));
    assert_eq!(created.first_name.as_deref(), Some("O'Neil--"));
    assert_eq!(created.last_name.as_deref(), Some("Robert' OR 'x' -- DROP TABLE"));
    assert_eq!(created.address.as_deref(), Some("'); DROP TABLE contacts; -- \\x00 $1 %s {} \"quoted\""));
    assert_eq!(repo.get(&case, created.id, &clerk()).await.unwrap(), created, "read back verbatim");

    let patch = ContactPatch::default().set(ContactField::Relationship, drop_table);
    let updated = repo.update(&case, created.id, patch, Some(1), &clerk()).await.unwrap();
    assert_eq!(updated.relationship.as_deref(), Some(drop_table));
    let found =
        repo.find(ContactQuery::NamePrefix("o'neil".into()), PageRequest::default(), &clerk()).await.unwrap();
    assert_eq!(found.items, std::slice::from_ref(&updated));
    let wildcard =
        repo.find(ContactQuery::NamePrefix("%".into()), PageRequest::default(), &clerk()).await.unwrap();
    assert!(wildcard.items.is_empty(), "no wildcard meaning");
    let email = repo
        .find(ContactQuery::Email("O'NEIL--DROP@example.org".into()), PageRequest::default(), &clerk())
        .await
        .unwrap();
    assert_eq!(email.items, [updated]);
}
