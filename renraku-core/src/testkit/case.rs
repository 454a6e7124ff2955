//! The case summary.

use super::*;

pub async fn case_summary_counts_and_times(repo: Repo) {
    let case = fresh_case();
    let first = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let second = repo.create(&case, named("Grace"), &clerk()).await.expect("create");
    let summary = repo.case(&case, &clerk()).await.expect("case");
    assert_eq!(summary.id, case);
    assert_eq!(summary.contact_count, 2);
    assert_eq!(summary.first_created_at, first.created_at);
    assert_eq!(summary.last_changed_at, second.created_at);
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    let updated = repo.update(&case, first.id, patch, None, &clerk()).await.expect("update");
    assert_eq!(repo.case(&case, &clerk()).await.expect("case").last_changed_at, updated.updated_at);
    repo.delete(&case, first.id, None, &clerk()).await.expect("delete");
    let summary = repo.case(&case, &clerk()).await.expect("case");
    let deleted_at = audit_of(&repo, &case).await.last().expect("event").at;
    assert_eq!(summary.contact_count, 1);
    assert_eq!(summary.first_created_at, second.created_at, "the oldest current contact");
    assert_eq!(summary.last_changed_at, deleted_at, "a delete changes the case");
}

pub async fn case_without_contacts_is_not_found(repo: Repo) {
    let case = fresh_case();
    assert_not_found(repo.case(&case, &clerk()).await, "unknown case");
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    repo.delete(&case, contact.id, None, &clerk()).await.expect("delete");
    assert_not_found(repo.case(&case, &clerk()).await, "case whose last contact was deleted");
}
