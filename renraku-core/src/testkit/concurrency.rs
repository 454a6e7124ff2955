//! Concurrent writers.

use super::*;

const WRITERS: u64 = 16;

/// The writers of the update storm, and how many updates each makes one after the other.
const STORM_TASKS: u64 = 64;
const STORM_UPDATES: u64 = 5;

pub async fn concurrent_updates_with_versions_have_one_winner_per_version(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, case) = (repo.clone(), case.clone());
        tasks.spawn(async move {
            let mut losses = 0;
            loop {
                let current = repo.get(&case, contact.id, &clerk()).await.expect("get");
                let patch =
                    ContactPatch::default().set(ContactField::Relationship, format!("writer {writer}"));
                match repo.update(&case, contact.id, patch, Some(current.version), &clerk()).await {
                    Ok(updated) => return (current.version, updated.version, losses),
                    Err(Error::Conflict { expected, current: now }) => {
                        assert_eq!(expected, Some(current.version));
                        assert!(now > current.version, "a conflict reports a newer version");
                        losses += 1;
                    }
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        });
    }
    let mut winners = BTreeMap::new();
    while let Some(result) = tasks.join_next().await {
        let (from, to, _) = result.expect("writer");
        assert_eq!(to, from + 1);
        assert!(winners.insert(from, to).is_none(), "two writers won version {from}");
    }
    assert_eq!(winners.keys().copied().collect::<Vec<_>>(), (1..=WRITERS).collect::<Vec<_>>());
    assert_eq!(repo.get(&case, contact.id, &clerk()).await.expect("get").version, WRITERS + 1);
    let updates = audit_of(&repo, &case).await.iter().filter(|e| e.action == AuditAction::Updated).count();
    assert_eq!(updates as u64, WRITERS);
}

pub async fn concurrent_updates_without_version_are_all_applied(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, case) = (repo.clone(), case.clone());
        tasks.spawn(async move {
            let patch = ContactPatch::default().set(ContactField::Relationship, format!("writer {writer}"));
            repo.update(&case, contact.id, patch, None, &clerk()).await.expect("update without version")
        });
    }
    let mut versions = Vec::new();
    while let Some(result) = tasks.join_next().await {
        versions.push(result.expect("writer").version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=WRITERS + 1).collect::<Vec<_>>(), "each update got its own version");
    let last = repo.get(&case, contact.id, &clerk()).await.expect("get");
    assert_eq!(last.version, WRITERS + 1);
    let events = audit_of(&repo, &case).await;
    let updates: Vec<_> = events.iter().filter(|e| e.action == AuditAction::Updated).collect();
    assert_eq!(updates.len() as u64, WRITERS, "one event per update");
    assert!(matches!(last.relationship, Some(ref r) if r.starts_with("writer ")));
}

pub async fn concurrent_creates_are_all_stored(repo: Repo) {
    let case = fresh_case();
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, case) = (repo.clone(), case.clone());
        tasks.spawn(async move {
            repo.create(&case, named("Ada").with(ContactField::Relationship, format!("{writer}")), &clerk())
                .await
                .expect("create")
                .id
        });
    }
    let mut ids = HashSet::new();
    while let Some(id) = tasks.join_next().await {
        ids.insert(id.expect("writer"));
    }
    let listed: HashSet<_> =
        repo.list_all(&case, &clerk()).await.expect("list").iter().map(|c| c.id).collect();
    assert_eq!(listed, ids);
    assert_eq!(repo.case(&case, &clerk()).await.expect("case").contact_count, WRITERS);
    assert_eq!(audit_of(&repo, &case).await.len() as u64, WRITERS);
}

/// 64 writers each update one contact 5 times in a row without an expected version, all at
/// once: every update is applied, versions 2..=321 are each returned once, and each update
/// has exactly one audit event (by its writer).
pub async fn an_update_storm_applies_every_update_once(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let barrier = Arc::new(tokio::sync::Barrier::new(STORM_TASKS as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..STORM_TASKS {
        let (repo, case, barrier) = (repo.clone(), case.clone(), barrier.clone());
        tasks.spawn(async move {
            let actor = Actor::new(format!("writer-{task}")).expect("valid actor");
            barrier.wait().await;
            let mut applied = Vec::new();
            for update in 0..STORM_UPDATES {
                let value = format!("task {task} update {update}");
                let patch = ContactPatch::default().set(ContactField::Relationship, value.clone());
                let updated = repo.update(&case, contact.id, patch, None, &actor).await.expect("update");
                assert_eq!(updated.relationship.as_deref(), Some(value.as_str()), "the update as asked");
                assert_eq!(updated.updated_by, actor);
                applied.push((updated.version, value));
            }
            applied
        });
    }
    let mut applied = BTreeMap::new();
    while let Some(result) = tasks.join_next().await {
        for (version, value) in result.expect("writer") {
            assert!(applied.insert(version, value).is_none(), "version {version} was returned twice");
        }
    }
    let last = STORM_TASKS * STORM_UPDATES + 1;
    assert_eq!(applied.keys().copied().collect::<Vec<_>>(), (2..=last).collect::<Vec<_>>());
    let stored = repo.get(&case, contact.id, &clerk()).await.expect("get");
    assert_eq!(stored.version, last);
    assert_eq!(stored.relationship.as_ref(), applied.get(&last), "the last version holds its update");

    let events = audit_of(&repo, &case).await;
    let updates: Vec<_> = events.iter().filter(|e| e.action == AuditAction::Updated).collect();
    assert_eq!(updates.len() as u64, STORM_TASKS * STORM_UPDATES, "one audit event per update");
    let mut per_writer = BTreeMap::new();
    for event in &updates {
        assert_eq!(event.contact_id, Some(contact.id));
        assert_eq!(event.changed_fields, [ContactField::Relationship]);
        *per_writer.entry(event.actor.as_str().to_owned()).or_insert(0) += 1;
    }
    assert_eq!(per_writer.len() as u64, STORM_TASKS);
    assert!(per_writer.values().all(|&n| n == STORM_UPDATES), "each writer's updates: {per_writer:?}");
}
