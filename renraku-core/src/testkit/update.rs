//! Updates: set and clear, no-ops, versions, validation.

use super::*;

pub async fn update_sets_and_clears_fields(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let patch = ContactPatch::default()
        .set(ContactField::FirstName, "  Zoë  ")
        .clear(ContactField::Email)
        .set(ContactField::Title, " ");
    let updated = repo.update(&case, created.id, patch, None, &supervisor()).await.expect("update");
    assert_eq!(updated.first_name.as_deref(), Some("Zoë"));
    assert_eq!(updated.email, None);
    assert_eq!(updated.title, None, "setting blank clears");
    assert_eq!(updated.last_name, created.last_name, "kept fields are kept");
    assert_eq!(updated.phone, created.phone);
    assert_eq!(updated.version, 2);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(updated.updated_by, supervisor());
    assert_eq!((updated.created_at, &updated.created_by), (created.created_at, &created.created_by));
    assert_eq!((updated.id, &updated.case_id), (created.id, &created.case_id));
    assert_eq!(repo.get(&case, created.id, &clerk()).await.expect("get"), updated);
}

pub async fn update_that_changes_nothing_changes_nothing(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let same = ContactPatch::default()
        .set(ContactField::FirstName, " Zoë-Marie ")
        .set(ContactField::Phone, "+49 30 1234567")
        .clear(ContactField::Title)
        .set(ContactField::Title, "Frau Dr.");
    let nothing = ContactPatch::default();
    for patch in [same, nothing] {
        let result =
            repo.update(&case, created.id, patch, Some(1), &supervisor()).await.expect("no-op update");
        assert_eq!(result, created, "no new version, no new timestamp, no new actor");
    }
    let cleared = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let clear_absent = ContactPatch::default().clear(ContactField::Email);
    assert_eq!(
        repo.update(&case, cleared.id, clear_absent, None, &supervisor()).await.expect("no-op"),
        cleared
    );
    let events = audit_of(&repo, &case).await;
    assert_eq!(events.len(), 2, "only the two creates are recorded: {events:?}");
}

pub async fn update_with_a_stale_version_conflicts(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let first = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    let updated =
        repo.update(&case, created.id, first, Some(1), &clerk()).await.expect("current version applies");
    assert_eq!(updated.version, 2);
    let stale = ContactPatch::default().set(ContactField::LastName, "Byron");
    let result = repo.update(&case, created.id, stale, Some(1), &supervisor()).await;
    assert!(
        matches!(result, Err(Error::Conflict { expected: Some(1), current: 2 })),
        "a stale version is a conflict naming the current one: {result:?}"
    );
    assert_eq!(repo.get(&case, created.id, &clerk()).await.expect("get"), updated, "nothing is overwritten");
    assert_eq!(audit_of(&repo, &case).await.len(), 2);
    let future = repo.update(&case, created.id, ContactPatch::default(), Some(9), &clerk()).await;
    assert!(matches!(future, Err(Error::Conflict { expected: Some(9), current: 2 })), "{future:?}");
}

pub async fn update_cannot_leave_no_one_to_contact(repo: Repo) {
    let case = fresh_case();
    let created = repo
        .create(
            &case,
            NewContact::default()
                .with(ContactField::Phone, "+49 30 1234567")
                .with(ContactField::Title, "Herr"),
            &clerk(),
        )
        .await
        .expect("create");
    let patch = ContactPatch::default().clear(ContactField::Phone);
    assert_eq!(
        codes(repo.update(&case, created.id, patch, None, &clerk()).await),
        [(None, "contact", "empty_contact")]
    );
    let patch = ContactPatch::default().set(ContactField::Phone, "   ");
    assert_eq!(
        codes(repo.update(&case, created.id, patch, None, &clerk()).await),
        [(None, "contact", "empty_contact")]
    );
    assert_eq!(repo.get(&case, created.id, &clerk()).await.expect("get"), created);
    assert_eq!(audit_of(&repo, &case).await.len(), 1);
}

pub async fn update_validates_fields(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let patch = ContactPatch::default()
        .set(ContactField::FirstName, "R2D2")
        .set(ContactField::Phone, "12")
        .set(ContactField::Email, "ada@");
    assert_eq!(
        codes(repo.update(&case, created.id, patch, None, &clerk()).await),
        [
            (None, "first_name", "invalid_name"),
            (None, "phone", "invalid_phone"),
            (None, "email", "invalid_email")
        ]
    );
    assert_eq!(repo.get(&case, created.id, &clerk()).await.expect("get"), created);
}

pub async fn update_of_an_unknown_contact_is_not_found(repo: Repo) {
    let case = fresh_case();
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    assert_not_found(repo.update(&case, ContactId::new(), patch.clone(), None, &clerk()).await, "no version");
    assert_not_found(repo.update(&case, ContactId::new(), patch, Some(1), &clerk()).await, "with version");
    assert_eq!(audit_of(&repo, &case).await.len(), 1);
}

pub async fn update_recomputes_the_e164_phone(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let patch = ContactPatch::default().set(ContactField::Phone, "0221 9876543");
    let updated = repo.update(&case, created.id, patch, None, &clerk()).await.expect("update");
    assert_eq!(updated.phone.as_deref(), Some("0221 9876543"));
    assert_eq!(updated.phone_e164.as_deref(), Some("+492219876543"));
    let cleared = repo
        .update(&case, created.id, ContactPatch::default().clear(ContactField::Phone), None, &clerk())
        .await;
    let cleared = cleared.expect("clear phone");
    assert_eq!((cleared.phone, cleared.phone_e164), (None, None));
}
