#![cfg(feature = "mock")]
//! How a host application unit-tests its own code with the `mock` feature's
//! `MockContactRepository`: set expectations on exactly the calls the code under test must
//! make, and script the answers, including the errors that are hard to produce with a real
//! store (a version conflict at just the wrong moment, a failing backend).
//!
//! Built only with the `mock` feature (`[[test]] required-features` in Cargo.toml):
//! `cargo test -p renraku-core --features mock --test mock`.

use std::sync::Arc;

use chrono::Utc;
use renraku_core::{
    Actor, Case, CaseId, Contact, ContactField, ContactId, ContactPatch, ContactRepository, Error,
    FieldPatch, MockContactRepository, NewContact, Rules, plan,
};

// ---------------------------------------------------------------------------------------
// The host application's code under test.
// ---------------------------------------------------------------------------------------

/// What the host's "rename a contact" action reports to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RenameOutcome {
    /// The contact has the new last name, at this version.
    Renamed { version: u64 },
    /// The contact already had that last name; nothing was written.
    Unchanged,
    /// Someone else changed the contact after we read it; the user should reload.
    ChangedMeanwhile { current: u64 },
    /// The contact is not in this case (or no longer exists).
    NoSuchContact,
}

/// Reads a contact, and sets its last name only if nobody changed it in between.
async fn rename(
    repo: &dyn ContactRepository,
    case: &CaseId,
    id: ContactId,
    last_name: &str,
    actor: &Actor,
) -> Result<RenameOutcome, Error> {
    let contact = match repo.get(case, id, actor).await {
        Ok(contact) => contact,
        Err(Error::NotFound { .. }) => return Ok(RenameOutcome::NoSuchContact),
        Err(other) => return Err(other),
    };
    if contact.last_name.as_deref() == Some(last_name) {
        return Ok(RenameOutcome::Unchanged);
    }
    let patch = ContactPatch::default().set(ContactField::LastName, last_name);
    match repo.update(case, id, patch, Some(contact.version), actor).await {
        Ok(updated) => Ok(RenameOutcome::Renamed { version: updated.version }),
        Err(Error::Conflict { current, .. }) => Ok(RenameOutcome::ChangedMeanwhile { current }),
        Err(Error::NotFound { .. }) => Ok(RenameOutcome::NoSuchContact),
        Err(other) => Err(other),
    }
}

/// How many contacts a case has, or 0 for a case without contacts: takes any repository.
async fn contact_count(repo: impl ContactRepository) -> Result<u64, Error> {
    match repo.case(&case(), &clerk()).await {
        Ok(case) => Ok(case.contact_count),
        Err(Error::NotFound { .. }) => Ok(0),
        Err(other) => Err(other),
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------------------

fn case() -> CaseId {
    CaseId::new("42").unwrap()
}

fn clerk() -> Actor {
    Actor::new("clerk-7").unwrap()
}

/// A stored contact at `version`, built through the public API.
fn stored(last_name: &str, version: u64) -> Contact {
    let input =
        NewContact::default().with(ContactField::FirstName, "Ada").with(ContactField::LastName, last_name);
    let mut contact = plan::create(&Rules::default(), &case(), input, &clerk()).unwrap().contact;
    contact.version = version;
    contact
}

/// The patch `rename` must send: the last name set, every other field kept.
fn is_rename_to(patch: &ContactPatch, last_name: &str) -> bool {
    ContactField::ALL.into_iter().all(|field| match field {
        ContactField::LastName => patch.field(field) == &FieldPatch::Set(last_name.to_owned()),
        _ => patch.field(field).is_keep(),
    })
}

/// A mock whose `get` expects exactly this case and id, once, and answers `answer`.
fn mock_get(id: ContactId, answer: Result<Contact, Error>) -> MockContactRepository {
    let mut repo = MockContactRepository::new();
    let mut answer = Some(answer);
    repo.expect_get()
        .withf(move |case_id, got, _actor| case_id.as_str() == "42" && *got == id)
        .times(1)
        .returning(move |_, _, _| answer.take().expect("get is expected once"));
    repo
}

// ---------------------------------------------------------------------------------------
// Tests of the host code.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rename_updates_with_the_version_it_read() {
    let current = stored("Byron", 3);
    let id = current.id;
    let mut repo = mock_get(id, Ok(current.clone()));
    repo.expect_update()
        .withf(move |case_id, got, patch, expected, actor| {
            case_id == &case()
                && *got == id
                && is_rename_to(patch, "Lovelace")
                && *expected == Some(3)
                && actor == &clerk()
        })
        .times(1)
        .returning(move |_, _, _, _, _| {
            let mut updated = current.clone();
            updated.last_name = Some("Lovelace".into());
            updated.version = 4;
            Ok(updated)
        });

    let outcome = rename(&repo, &case(), id, "Lovelace", &clerk()).await.unwrap();
    assert_eq!(outcome, RenameOutcome::Renamed { version: 4 });
}

#[tokio::test]
async fn rename_reports_a_conflict_as_changed_meanwhile() {
    let current = stored("Byron", 3);
    let id = current.id;
    let mut repo = mock_get(id, Ok(current));
    // Between our read and our write, someone else updated the contact twice.
    repo.expect_update()
        .withf(move |_, got, patch, expected, _| {
            *got == id && is_rename_to(patch, "Lovelace") && *expected == Some(3)
        })
        .times(1)
        .returning(|_, _, _, expected, _| Err(Error::Conflict { expected, current: 5 }));

    let outcome = rename(&repo, &case(), id, "Lovelace", &clerk()).await.unwrap();
    assert_eq!(outcome, RenameOutcome::ChangedMeanwhile { current: 5 });
}

#[tokio::test]
async fn rename_writes_nothing_when_the_name_is_already_right() {
    let current = stored("Lovelace", 2);
    let id = current.id;
    let mut repo = mock_get(id, Ok(current));
    repo.expect_update().never();

    let outcome = rename(&repo, &case(), id, "Lovelace", &clerk()).await.unwrap();
    assert_eq!(outcome, RenameOutcome::Unchanged);
}

#[tokio::test]
async fn rename_of_a_missing_contact_writes_nothing() {
    let id = ContactId::new();
    let mut repo = mock_get(id, Err(Error::contact_not_found(&case(), id)));
    repo.expect_update().never();

    let outcome = rename(&repo, &case(), id, "Lovelace", &clerk()).await.unwrap();
    assert_eq!(outcome, RenameOutcome::NoSuchContact);
}

#[tokio::test]
async fn rename_of_a_contact_deleted_meanwhile_is_no_such_contact() {
    let current = stored("Byron", 1);
    let id = current.id;
    let mut repo = mock_get(id, Ok(current));
    repo.expect_update()
        .times(1)
        .returning(|case_id, id, _, _, _| Err(Error::contact_not_found(case_id, id)));

    let outcome = rename(&repo, &case(), id, "Lovelace", &clerk()).await.unwrap();
    assert_eq!(outcome, RenameOutcome::NoSuchContact);
}

#[tokio::test]
async fn rename_passes_backend_failures_on() {
    let current = stored("Byron", 1);
    let id = current.id;
    let mut repo = mock_get(id, Ok(current));
    repo.expect_update()
        .times(1)
        .returning(|_, _, _, _, _| Err(Error::backend("mock", std::io::Error::other("connection reset"))));

    let err = rename(&repo, &case(), id, "Lovelace", &clerk()).await.unwrap_err();
    assert!(matches!(err, Error::Backend { backend: "mock", .. }), "{err:?}");
}

#[tokio::test]
async fn rename_passes_validation_errors_on() {
    let current = stored("Byron", 1);
    let id = current.id;
    let mut repo = mock_get(id, Ok(current));
    // The mock does not validate; script the answer a real store gives for a bad name.
    repo.expect_update()
        .times(1)
        .returning(|_, _, patch, _, _| Err(Rules::default().check_patch(patch).unwrap_err()));

    let err = rename(&repo, &case(), id, "R2D2", &clerk()).await.unwrap_err();
    let codes: Vec<_> = err.validation_errors().unwrap().iter().map(|e| (e.field, e.code)).collect();
    assert_eq!(codes, [("last_name", "invalid_name")]);
}

// ---------------------------------------------------------------------------------------
// The mock behind every pointer type the trait is implemented for.
// ---------------------------------------------------------------------------------------

fn mock_case(count: u64) -> MockContactRepository {
    let mut repo = MockContactRepository::new();
    repo.expect_case().withf(|case_id, _| case_id.as_str() == "42").times(1).returning(move |case_id, _| {
        Ok(Case {
            id: case_id.clone(),
            contact_count: count,
            first_created_at: Utc::now(),
            last_changed_at: Utc::now(),
        })
    });
    repo
}

#[tokio::test]
async fn mock_works_as_arc_dyn_repository() {
    let repo: Arc<dyn ContactRepository> = Arc::new(mock_case(3));
    let shared = Arc::clone(&repo);
    let task = tokio::spawn(async move { shared.case(&case(), &clerk()).await.map(|c| c.contact_count) });
    assert_eq!(task.await.unwrap().unwrap(), 3);

    // And through the `Arc<T>` forwarding impl, as `impl ContactRepository`.
    assert_eq!(contact_count(Arc::new(mock_case(4))).await.unwrap(), 4);
}

#[tokio::test]
async fn mock_works_through_the_reference_and_box_forwarding_impls() {
    let repo = mock_case(5);
    assert_eq!(contact_count(&repo).await.unwrap(), 5);

    assert_eq!(contact_count(Box::new(mock_case(6))).await.unwrap(), 6);

    let boxed: Box<dyn ContactRepository> = Box::new(mock_case(7));
    assert_eq!(contact_count(boxed).await.unwrap(), 7);

    let mut missing = MockContactRepository::new();
    missing.expect_case().times(1).returning(|case_id, _| Err(Error::case_not_found(case_id)));
    assert_eq!(contact_count(&missing).await.unwrap(), 0);
}

#[test]
#[should_panic(expected = "No matching expectation found")]
fn an_unexpected_call_fails_the_test() {
    let repo = MockContactRepository::new();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let _ = runtime.block_on(repo.case(&case(), &clerk()));
}
