//! The audit trail.

use super::*;

pub async fn audit_trail_records_each_change_exactly(repo: Repo) {
    let case = fresh_case();
    let input = NewContact {
        first_name: Some("Ada".into()),
        phone: Some("+49 30 1234567".into()),
        ..NewContact::default()
    };
    let created = repo.create(&case, input, &clerk()).await.expect("create");
    let patch = ContactPatch::default()
        .set(ContactField::LastName, "Lovelace")
        .clear(ContactField::Phone)
        .set(ContactField::FirstName, "Ada");
    let updated = repo.update(&case, created.id, patch.clone(), None, &supervisor()).await.expect("update");
    repo.update(&case, created.id, patch, None, &supervisor()).await.expect("no-op update");
    repo.delete(&case, created.id, Some(updated.version), &clerk()).await.expect("delete");
    let events = audit_of(&repo, &case).await;
    let summary: Vec<_> =
        events.iter().map(|e| (e.action, e.contact_id, e.actor.as_str(), e.changed_fields.clone())).collect();
    assert_eq!(
        summary,
        [
            (
                AuditAction::Created,
                Some(created.id),
                "clerk-1",
                vec![ContactField::FirstName, ContactField::Phone]
            ),
            (
                AuditAction::Updated,
                Some(created.id),
                "supervisor-2",
                vec![ContactField::LastName, ContactField::Phone]
            ),
            (
                AuditAction::Deleted,
                Some(created.id),
                "clerk-1",
                vec![ContactField::FirstName, ContactField::LastName]
            ),
        ]
    );
    assert!(events.iter().all(|e| e.case_id == case));
    assert_eq!(events[0].at, created.created_at);
    assert_eq!(events[1].at, updated.updated_at);
    assert!(events.windows(2).all(|w| w[0].id < w[1].id && w[0].at <= w[1].at), "oldest first");
}

pub async fn audit_events_hold_no_values(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let patch = ContactPatch::replace_with(NewContact {
        first_name: Some("Secretia".into()),
        email: Some("secretia@example.org".into()),
        ..NewContact::default()
    });
    repo.update(&case, contact.id, patch, None, &clerk()).await.expect("update");
    repo.erase_case(&case, &clerk()).await.expect("erase");
    let values = ["Frau", "Zoë", "Brien", "1234567", "example.org", "Hauptstraße", "household", "Secretia"];
    for event in audit_of(&repo, &case).await {
        let text = format!("{event:?} {event:#?}");
        for value in values {
            assert!(!text.contains(value), "an audit event shows {value:?}: {text}");
        }
    }
}

pub async fn audit_trail_pages(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    for name in ["Lovelace", "Byron", "King", "Noel"] {
        let patch = ContactPatch::default().set(ContactField::LastName, name);
        repo.update(&case, contact.id, patch, None, &clerk()).await.expect("update");
    }
    let clerk = clerk();
    let pages = walk(|request| repo.audit_trail(&case, request, &clerk), 2).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let versions: Vec<_> = pages.concat().iter().map(|e| e.action).collect();
    assert_eq!(versions[0], AuditAction::Created);
    assert!(versions[1..].iter().all(|a| *a == AuditAction::Updated));
    let empty = repo.audit_trail(&fresh_case(), PageRequest::default(), &clerk).await.expect("audit");
    assert_eq!((empty.items.len(), empty.next), (0, None));
}

pub async fn audit_trail_survives_erasure(repo: Repo) {
    let case = fresh_case();
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    repo.erase_case(&case, &clerk()).await.expect("erase");
    let again = repo.create(&case, named("Grace"), &clerk()).await.expect("a case can start again");
    let actions: Vec<_> = audit_of(&repo, &case).await.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::CaseErased, AuditAction::Created]);
    assert_eq!(repo.case(&case, &clerk()).await.expect("case").first_created_at, again.created_at);
}
