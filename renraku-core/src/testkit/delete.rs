//! Deleting a contact and erasing a case.

use super::*;

pub async fn delete_removes_the_contact_and_records_it(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let keep = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    repo.delete(&case, contact.id, Some(1), &supervisor()).await.expect("delete");
    assert_not_found(repo.get(&case, contact.id, &clerk()).await, "deleted contact");
    assert_eq!(repo.list_all(&case, &clerk()).await.expect("list"), [keep]);
    let events = audit_of(&repo, &case).await;
    let deleted = events.last().expect("an event");
    assert_eq!(deleted.action, AuditAction::Deleted);
    assert_eq!(deleted.contact_id, Some(contact.id));
    assert_eq!(deleted.actor, supervisor());
    assert_eq!(deleted.changed_fields, ContactField::ALL, "a delete names every field that had a value");
}

pub async fn delete_with_a_stale_version_conflicts(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let updated = repo
        .update(
            &case,
            contact.id,
            ContactPatch::default().set(ContactField::LastName, "Lovelace"),
            None,
            &clerk(),
        )
        .await
        .expect("update");
    let result = repo.delete(&case, contact.id, Some(1), &clerk()).await;
    assert!(matches!(result, Err(Error::Conflict { expected: Some(1), current: 2 })), "{result:?}");
    assert_eq!(repo.get(&case, contact.id, &clerk()).await.expect("still there"), updated);
    assert_eq!(audit_of(&repo, &case).await.len(), 2);
}

pub async fn delete_of_an_unknown_contact_is_not_found(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    assert_not_found(repo.delete(&case, ContactId::new(), None, &clerk()).await, "unknown id");
    repo.delete(&case, contact.id, None, &clerk()).await.expect("delete");
    assert_not_found(repo.delete(&case, contact.id, None, &clerk()).await, "deleted twice");
    assert_not_found(repo.delete(&case, contact.id, Some(1), &clerk()).await, "deleted twice, with version");
    assert_eq!(audit_of(&repo, &case).await.len(), 2, "one create, one delete");
}

pub async fn erase_case_removes_every_contact_with_one_event(repo: Repo) {
    let (case, other) = (fresh_case(), fresh_case());
    let inputs = vec![complete_contact(), named("Ada"), named("Grace")];
    repo.create_many(&case, inputs, &clerk()).await.expect("create_many");
    let survivor = repo.create(&other, named("Alan"), &clerk()).await.expect("other case");
    assert_eq!(repo.erase_case(&case, &supervisor()).await.expect("erase"), 3);
    assert!(repo.list_all(&case, &clerk()).await.expect("list").is_empty());
    assert_not_found(repo.case(&case, &clerk()).await, "erased case");
    let events = audit_of(&repo, &case).await;
    assert_eq!(events.len(), 4, "three creates and one erasure");
    let erased = &events[3];
    assert_eq!(erased.action, AuditAction::CaseErased);
    assert_eq!((erased.contact_id, erased.changed_fields.is_empty()), (None, true));
    assert_eq!(erased.actor, supervisor());
    assert_eq!(repo.list_all(&other, &clerk()).await.expect("list"), [survivor], "other cases are untouched");
}

pub async fn erase_of_a_case_without_contacts_records_nothing(repo: Repo) {
    let case = fresh_case();
    assert_eq!(repo.erase_case(&case, &clerk()).await.expect("erase"), 0);
    assert_case_untouched(&repo, &case).await;
}
