//! Concurrent writers.

use super::*;

const WRITERS: u64 = 16;

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
