//! Read audit: behaviours named `read_audit_*` run on a store with read audit on; the
//! others on one with it off.

use super::*;

pub async fn reads_record_nothing_without_read_audit(repo: Repo) {
    let (case, actor) = (fresh_case(), clerk());
    let contact = repo.create(&case, named("Ada"), &actor).await.expect("create");
    repo.get(&case, contact.id, &actor).await.expect("get");
    repo.list(&case, PageRequest::default(), &actor).await.expect("list");
    repo.find(ContactQuery::NamePrefix("ada".into()), PageRequest::default(), &actor).await.expect("find");
    let actions: Vec<_> = audit_of(&repo, &case).await.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Created], "reads are not recorded unless read audit is on");
}

pub async fn read_audit_records_views_lists_and_searches(repo: Repo) {
    let (case, actor) = (fresh_case(), supervisor());
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    assert_eq!(repo.get(&case, contact.id, &actor).await.expect("get"), contact);
    assert_not_found(repo.get(&case, ContactId::new(), &actor).await, "an unknown contact");
    repo.list(&case, PageRequest::default(), &actor).await.expect("list");
    let events = audit_of(&repo, &case).await;
    let summary: Vec<_> = events.iter().map(|e| (e.action, e.contact_id, e.actor.as_str())).collect();
    assert_eq!(
        summary,
        [
            (AuditAction::Created, Some(contact.id), "clerk-1"),
            (AuditAction::Viewed, Some(contact.id), "supervisor-2"),
            (AuditAction::Listed, None, "supervisor-2"),
        ],
        "a view of a contact that does not exist is not one"
    );
    assert!(events[1..].iter().all(|e| e.changed_fields.is_empty() && e.case_id == case));

    let before = audit_of(&repo, &CaseId::across_cases()).await.len();
    let secret = "Zoe.OBrien@example.org";
    let found = repo.find(ContactQuery::Email(secret.into()), PageRequest::default(), &actor).await;
    assert_eq!(found.expect("find").items, [contact]);
    repo.find(ContactQuery::NamePrefix("zoë".into()), PageRequest::default(), &actor).await.expect("find");
    let across = audit_of(&repo, &CaseId::across_cases()).await;
    let searches: Vec<_> = across[before..]
        .iter()
        .filter(|e| e.actor == actor)
        .map(|e| (e.action, e.contact_id, e.changed_fields.clone()))
        .collect();
    assert_eq!(
        searches,
        [
            (AuditAction::Searched, None, vec![ContactField::Email]),
            (AuditAction::Searched, None, vec![ContactField::FirstName, ContactField::LastName]),
        ]
    );
    for event in &across {
        let text = format!("{event:?}");
        assert!(!text.contains("example.org") && !text.contains("zo"), "no searched value: {text}");
    }
}

/// Found by the `memory_ops` fuzz target: a recorded read moved the case's `last_changed_at`,
/// which says when its contact data last changed.
pub async fn read_audit_reads_do_not_change_the_case(repo: Repo) {
    let (case, actor) = (fresh_case(), clerk());
    let contact = repo.create(&case, named("Ada"), &actor).await.expect("create");
    let changed = repo.case(&case, &actor).await.expect("case").last_changed_at;
    std::thread::sleep(std::time::Duration::from_millis(5));
    repo.get(&case, contact.id, &actor).await.expect("get");
    repo.list(&case, PageRequest::default(), &actor).await.expect("list");
    let actions: Vec<_> = audit_of(&repo, &case).await.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::Viewed, AuditAction::Listed]);
    assert_eq!(
        repo.case(&case, &actor).await.expect("case").last_changed_at,
        changed,
        "reads change nothing"
    );
}
