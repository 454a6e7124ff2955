//! Privacy over time: retention, and one person across cases.

use super::*;
use crate::{ContactRef, plan};

fn retention() -> Actor {
    Actor::new("renraku-retention").expect("valid actor")
}

/// A moment strictly between what happened before it and what happens after it.
async fn cutoff() -> chrono::DateTime<chrono::Utc> {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let at = plan::now();
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    at
}

async fn purge_all(repo: &Repo, before: chrono::DateTime<chrono::Utc>, batch: u32) -> (u64, usize) {
    let (mut erased, mut calls) = (0, 0);
    loop {
        let purged = repo.purge(before, limit(batch), &retention()).await.expect("purge");
        erased += purged.erased;
        calls += 1;
        if !purged.more {
            return (erased, calls);
        }
    }
}

pub async fn purge_erases_what_did_not_change_since_the_cutoff(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let old = repo.create(&a, complete_contact(), &clerk()).await.expect("create");
    let changed = repo.create(&a, named("Grace"), &clerk()).await.expect("create");
    let other = repo.create(&b, named("Alan"), &clerk()).await.expect("create");
    let before = cutoff().await;
    let patch = ContactPatch::default().set(ContactField::LastName, "Hopper");
    let changed = repo.update(&a, changed.id, patch, None, &clerk()).await.expect("update");
    let new = repo.create(&a, named("Ada"), &clerk()).await.expect("create");

    let (erased, calls) = purge_all(&repo, before, 1).await;
    assert_eq!(erased, 2, "the two contacts unchanged since the cutoff");
    assert!(calls >= 2, "at most one contact per call of limit 1");
    assert_eq!(repo.list_all(&a, &clerk()).await.expect("list"), [changed, new]);
    assert!(repo.list_all(&b, &clerk()).await.expect("list").is_empty());
    let purged = |events: Vec<AuditEvent>| -> Vec<_> {
        events
            .into_iter()
            .filter(|e| e.action == AuditAction::Purged)
            .map(|e| (e.contact_id, e.actor, e.changed_fields))
            .collect()
    };
    assert_eq!(purged(audit_of(&repo, &a).await), [(Some(old.id), retention(), ContactField::ALL.to_vec())]);
    assert_eq!(
        purged(audit_of(&repo, &b).await),
        [(Some(other.id), retention(), vec![ContactField::FirstName])]
    );
    let again = repo.purge(before, limit(10), &retention()).await.expect("purge");
    assert_eq!((again.erased, again.more), (0, false));
}

pub async fn purge_from_two_callers_erases_each_contact_once(repo: Repo) {
    let cases = [fresh_case(), fresh_case(), fresh_case()];
    for case in &cases {
        let inputs = (0..20).map(|i| named("Ada").with(ContactField::Relationship, format!("{i}"))).collect();
        repo.create_many(case, inputs, &clerk()).await.expect("create_many");
    }
    let before = cutoff().await;
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let repo = repo.clone();
            tokio::spawn(async move { purge_all(&repo, before, 7).await.0 })
        })
        .collect();
    let mut erased = 0;
    for caller in callers {
        erased += caller.await.expect("purger");
    }
    assert_eq!(erased, 60, "every contact once, between both callers");
    for case in &cases {
        assert!(repo.list_all(case, &clerk()).await.expect("list").is_empty());
        let events = audit_of(&repo, case).await;
        let purged = events.iter().filter(|e| e.action == AuditAction::Purged).count();
        assert_eq!(purged, 20, "one event per contact");
    }
}

pub async fn purge_never_touches_a_contact_changed_while_it_runs(repo: Repo) {
    let case = fresh_case();
    let inputs = (0..40).map(|i| named("Ada").with(ContactField::Relationship, format!("{i}"))).collect();
    let contacts = repo.create_many(&case, inputs, &clerk()).await.expect("create_many");
    let before = cutoff().await;
    let updater = {
        let (repo, case) = (repo.clone(), case.clone());
        tokio::spawn(async move {
            let mut updated = 0;
            for contact in contacts {
                let patch = ContactPatch::default().set(ContactField::Title, "Dr.");
                match repo.update(&case, contact.id, patch, None, &clerk()).await {
                    Ok(_) => updated += 1,
                    Err(Error::NotFound { .. }) => {}
                    Err(other) => panic!("update: {other}"),
                }
                tokio::task::yield_now().await;
            }
            updated
        })
    };
    let (purged, _) = purge_all(&repo, before, 3).await;
    let updated = updater.await.expect("updater");
    assert_eq!(purged + updated, 40, "each contact was either purged or updated");
    let events = audit_of(&repo, &case).await;
    for contact in repo.list_all(&case, &clerk()).await.expect("list") {
        assert_eq!(contact.version, 2, "what is left was updated after the cutoff");
        assert!(!events.iter().any(|e| e.contact_id == Some(contact.id) && e.action == AuditAction::Purged));
    }
    let purged_events = events.iter().filter(|e| e.action == AuditAction::Purged).count() as u64;
    assert_eq!(purged_events, purged);
}

pub async fn export_person_returns_every_match_with_its_trail(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let email = "person@example.org";
    let first =
        repo.create(&a, named("Ada").with(ContactField::Email, email), &clerk()).await.expect("create");
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    let first = repo.update(&a, first.id, patch, None, &supervisor()).await.expect("update");
    let second = repo
        .create(&b, NewContact::default().with(ContactField::Email, "Person@Example.org"), &clerk())
        .await;
    let second = second.expect("create");
    repo.create(&b, named("Other").with(ContactField::Email, "other@example.org"), &clerk())
        .await
        .expect("create");

    let clerk = clerk();
    let export = |page| repo.export_person(ContactQuery::Email(email.into()), page, &clerk);
    let pages = PageRequest::first(limit(1)).walk(export).await.expect("export");
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1], "paged like find");
    let records = pages.concat();
    assert_eq!(records.iter().map(|r| &r.contact).collect::<Vec<_>>(), [&first, &second]);
    let actions = |trail: &[AuditEvent]| trail.iter().map(|e| e.action).collect::<Vec<_>>();
    assert_eq!(actions(&records[0].trail), [AuditAction::Created, AuditAction::Updated]);
    assert_eq!(actions(&records[1].trail), [AuditAction::Created]);
    assert!(records.iter().all(|r| r.trail.iter().all(|e| e.contact_id == Some(r.contact.id))));
    for (case, contact) in [(&a, &first), (&b, &second)] {
        let exported: Vec<_> = audit_of(&repo, case)
            .await
            .into_iter()
            .filter(|e| e.action == AuditAction::Exported)
            .map(|e| (e.contact_id, e.actor))
            .collect();
        assert_eq!(
            exported,
            [(Some(contact.id), clerk.clone())],
            "the export is recorded in the contact's case"
        );
    }
    let invalid = repo.export_person(ContactQuery::Email(" ".into()), PageRequest::default(), &clerk).await;
    assert_eq!(codes(invalid).len(), 1);
}

pub async fn erase_person_erases_the_selection_with_one_event_each(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let a1 = repo
        .create(&a, named("Ada").with(ContactField::Phone, "+49 30 1234567"), &clerk())
        .await
        .expect("create");
    let a2 = repo.create(&a, named("Grace"), &clerk()).await.expect("create");
    let b1 = repo
        .create(&b, named("Ada").with(ContactField::Phone, "030 1234567"), &clerk())
        .await
        .expect("create");
    let gone = ContactRef { case_id: a.clone(), id: ContactId::new() };
    let wrong_case = ContactRef { case_id: b.clone(), id: a2.id };
    let selection = vec![ContactRef::of(&a1), ContactRef::of(&b1), gone, wrong_case];
    assert_eq!(repo.erase_person(selection, &supervisor()).await.expect("erase"), 2);
    assert_eq!(repo.list_all(&a, &clerk()).await.expect("list"), [a2], "what was not selected stays");
    assert!(repo.list_all(&b, &clerk()).await.expect("list").is_empty());
    for (case, contact) in [(&a, &a1), (&b, &b1)] {
        let erased: Vec<_> = audit_of(&repo, case)
            .await
            .into_iter()
            .filter(|e| e.action == AuditAction::Erased)
            .map(|e| (e.contact_id, e.actor, e.changed_fields))
            .collect();
        assert_eq!(
            erased,
            [(Some(contact.id), supervisor(), vec![ContactField::FirstName, ContactField::Phone])]
        );
    }
    let found =
        repo.find(ContactQuery::Phone("+49 30 1234567".into()), PageRequest::default(), &clerk()).await;
    assert!(found.expect("find").items.is_empty(), "no match is left");
    assert_eq!(repo.erase_person(Vec::new(), &supervisor()).await.expect("nothing"), 0);
}
