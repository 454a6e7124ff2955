//! The conformance suite: every behaviour a [`ContactRepository`] must have, one function
//! each.
//!
//! **The suite writes and erases data; run it only against a store made for the test.** It
//! is a testing aid, outside renraku's semver guarantees: behaviours are added as the
//! contract grows.
//!
//! A backend runs the whole suite with [`conformance_tests!`](crate::conformance_tests),
//! given an `async fn(Rules) -> impl ContactRepository` that builds a fresh, empty store
//! with the rules it is given. The macro generates one `#[tokio::test]` per behaviour,
//! three times: on the repository itself, through `Box<dyn ContactRepository>` and through
//! `Arc<dyn ContactRepository>`, so a failure names the behaviour and the path. The crate
//! that calls it needs `tokio` (features `macros`, `rt-multi-thread`) as a dev-dependency.
//!
//! This is the whole of `renraku-memory/tests/conformance.rs` (compiled and run there; it
//! cannot be a doctest here, because the store lives in a crate that depends on this one):
//!
//! ```text
//! use renraku_core::Rules;
//! use renraku_memory::MemoryContactRepository;
//!
//! async fn fresh(rules: Rules) -> MemoryContactRepository {
//!     MemoryContactRepository::with_rules(rules)
//! }
//!
//! renraku_core::conformance_tests!(fresh);
//! ```
//!
//! Each behaviour function takes an `Arc<dyn ContactRepository>` and panics with a message
//! naming the broken rule.

#![allow(clippy::missing_panics_doc)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::{
    Actor, AuditAction, AuditEvent, CaseId, Contact, ContactField, ContactId, ContactPatch, ContactQuery,
    ContactRepository, ContactRepositoryExt, Error, NewContact, Page, PageLimit, PageRequest, Rules,
};

/// Generates the conformance suite for a backend: one `#[tokio::test]` per behaviour, on
/// the repository, through `Box<dyn ContactRepository>` and through
/// `Arc<dyn ContactRepository>`.
///
/// `$fresh` is the path of an `async fn(Rules) -> R` (with `R: ContactRepository +
/// 'static`) that returns a fresh, empty store using the given rules. See [`testkit`](self).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        /// The renraku conformance suite.
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_module!(direct, $fresh, |repo| ::std::sync::Arc::new(repo));
            $crate::__conformance_module!(through_box_dyn, $fresh, |repo| {
                let boxed: ::std::boxed::Box<dyn $crate::ContactRepository> = ::std::boxed::Box::new(repo);
                ::std::sync::Arc::new(boxed)
            });
            $crate::__conformance_module!(through_arc_dyn, $fresh, |repo| {
                let shared: ::std::sync::Arc<dyn $crate::ContactRepository> = ::std::sync::Arc::new(repo);
                ::std::sync::Arc::new(shared)
            });
        }
    };
}

/// One module of the suite: the list of behaviours lives here, once.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_module {
    ($module:ident, $fresh:path, $wrap:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_module!(@tests $fresh, $wrap;
                create_round_trips_every_field,
                create_normalizes_text,
                create_rejects_an_empty_contact,
                create_rejects_control_characters,
                create_counts_lengths_in_characters,
                names_accept_letters_marks_and_punctuation,
                names_reject_digits_and_symbols,
                phone_keeps_the_entry_and_its_e164_form,
                phone_rejects_invalid_numbers,
                email_is_validated_and_kept_as_entered,
                validation_errors_never_contain_values,
                create_many_stores_all_in_order,
                create_many_is_atomic_and_names_every_invalid_row,
                create_many_of_nothing_stores_nothing,
                create_many_of_a_large_batch_is_atomic,
                contacts_are_invisible_through_other_cases,
                get_of_an_unknown_contact_is_not_found,
                list_pages_in_creation_order,
                list_walk_sees_every_contact_once_during_inserts,
                list_of_an_unknown_case_is_empty,
                update_sets_and_clears_fields,
                update_that_changes_nothing_changes_nothing,
                update_with_a_stale_version_conflicts,
                update_cannot_leave_no_one_to_contact,
                update_validates_fields,
                update_of_an_unknown_contact_is_not_found,
                update_recomputes_the_e164_phone,
                delete_removes_the_contact_and_records_it,
                delete_with_a_stale_version_conflicts,
                delete_of_an_unknown_contact_is_not_found,
                erase_case_removes_every_contact_with_one_event,
                erase_of_a_case_without_contacts_records_nothing,
                case_summary_counts_and_times,
                case_without_contacts_is_not_found,
                audit_trail_records_each_change_exactly,
                audit_events_hold_no_values,
                audit_trail_pages,
                audit_trail_survives_erasure,
                find_by_phone_matches_any_formatting,
                find_by_email_ignores_case,
                find_by_name_prefix_ignores_case,
                find_crosses_cases_and_pages,
                find_rejects_blank_and_invalid_queries,
                find_skips_deleted_and_erased_contacts,
                concurrent_updates_with_versions_have_one_winner_per_version,
                concurrent_updates_without_version_are_all_applied,
                concurrent_creates_are_all_stored,
            );
        }
    };
    (@tests $fresh:path, $wrap:expr; $($behaviour:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $behaviour() {
                let repo = $fresh($crate::testkit::rules()).await;
                $crate::testkit::$behaviour(($wrap)(repo)).await;
            }
        )*
    };
}

/// The repository type every behaviour takes.
pub type Repo = Arc<dyn ContactRepository>;

/// The rules the suite builds stores with: default phone region `DE`.
#[must_use]
pub fn rules() -> Rules {
    Rules::default().with_default_region("DE".parse().expect("DE is a region"))
}

/// A case id no other test uses.
#[must_use]
pub fn fresh_case() -> CaseId {
    CaseId::new(format!("case-{}", ContactId::new())).expect("valid case id")
}

fn clerk() -> Actor {
    Actor::new("clerk-1").expect("valid actor")
}

fn supervisor() -> Actor {
    Actor::new("supervisor-2").expect("valid actor")
}

fn named(first: &str) -> NewContact {
    NewContact { first_name: Some(first.into()), ..NewContact::default() }
}

/// A contact with every field given.
#[must_use]
pub fn complete_contact() -> NewContact {
    NewContact {
        title: Some("Frau Dr.".into()),
        first_name: Some("Zoë-Marie".into()),
        last_name: Some("O'Brien".into()),
        phone: Some("+49 30 1234567".into()),
        email: Some("Zoe.OBrien@example.org".into()),
        address: Some("Hauptstraße 1, 10115 Berlin".into()),
        relationship: Some("household".into()),
    }
}

fn limit(n: u32) -> PageLimit {
    PageLimit::new(n).expect("valid limit")
}

async fn audit_of(repo: &Repo, case: &CaseId) -> Vec<AuditEvent> {
    let mut request = PageRequest::first(PageLimit::MAX);
    let mut events = Vec::new();
    loop {
        let page = repo.audit_trail(case, request).await.expect("audit trail");
        let next = request.next(&page);
        events.extend(page.items);
        match next {
            Some(next) => request = next,
            None => return events,
        }
    }
}

async fn walk<T>(mut fetch: impl AsyncFnMut(PageRequest) -> Page<T>, page_limit: u32) -> Vec<Vec<T>> {
    let mut request = PageRequest::first(limit(page_limit));
    let mut pages = Vec::new();
    loop {
        let page = fetch(request).await;
        let next = request.next(&page);
        pages.push(page.items);
        match next {
            Some(next) => request = next,
            None => return pages,
        }
    }
}

/// The `(field, code)` pairs of a validation error, or a panic naming what came instead.
#[must_use]
pub fn codes(
    result: Result<impl std::fmt::Debug, Error>,
) -> Vec<(Option<usize>, &'static str, &'static str)> {
    match result {
        Err(Error::Validation(errors)) => errors.iter().map(|e| (e.index, e.field, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(matches!(result, Err(Error::NotFound { .. })), "{what}: expected NotFound, got {result:?}");
}

async fn assert_case_untouched(repo: &Repo, case: &CaseId) {
    assert!(repo.list_all(case).await.expect("list").is_empty(), "nothing may be stored");
    assert!(audit_of(repo, case).await.is_empty(), "no audit event may be written");
}

// ---------------------------------------------------------------- create and validation

/// Behaviour: Create round trips every field.
pub async fn create_round_trips_every_field(repo: Repo) {
    let case = fresh_case();
    let created = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    assert_eq!(created.case_id, case);
    assert_eq!(created.title.as_deref(), Some("Frau Dr."));
    assert_eq!(created.first_name.as_deref(), Some("Zoë-Marie"));
    assert_eq!(created.last_name.as_deref(), Some("O'Brien"));
    assert_eq!(created.phone.as_deref(), Some("+49 30 1234567"));
    assert_eq!(created.phone_e164.as_deref(), Some("+49301234567"));
    assert_eq!(created.email.as_deref(), Some("Zoe.OBrien@example.org"));
    assert_eq!(created.address.as_deref(), Some("Hauptstraße 1, 10115 Berlin"));
    assert_eq!(created.relationship.as_deref(), Some("household"));
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(created.created_by, clerk());
    assert_eq!(created.updated_by, clerk());
    let loaded = repo.get(&case, created.id).await.expect("get");
    assert_eq!(loaded, created, "a contact reads back exactly as it was stored");
}

/// Behaviour: Create normalizes text.
pub async fn create_normalizes_text(repo: Repo) {
    let case = fresh_case();
    let input = NewContact {
        title: Some("   ".into()),
        first_name: Some("  Zoe\u{308}  ".into()),
        last_name: Some("\tNguye\u{302}\u{303}n\u{a0}".into()),
        address: Some(String::new()),
        ..NewContact::default()
    };
    let created = repo.create(&case, input, &clerk()).await.expect("create");
    assert_eq!(created.title, None, "blank means absent");
    assert_eq!(created.address, None, "empty means absent");
    assert_eq!(created.first_name.as_deref(), Some("Zoë"), "trimmed and NFC");
    assert_eq!(created.last_name.as_deref(), Some("Nguyễn"), "trimmed and NFC");
    assert_eq!(repo.get(&case, created.id).await.expect("get"), created);
}

/// Behaviour: Create rejects an empty contact.
pub async fn create_rejects_an_empty_contact(repo: Repo) {
    let case = fresh_case();
    let input = NewContact {
        title: Some("Herr".into()),
        address: Some("Hauptstraße 1".into()),
        relationship: Some("household".into()),
        ..NewContact::default()
    };
    assert_eq!(codes(repo.create(&case, input, &clerk()).await), [(None, "contact", "empty_contact")]);
    let blank = NewContact { first_name: Some("  ".into()), ..NewContact::default() };
    assert_eq!(codes(repo.create(&case, blank, &clerk()).await), [(None, "contact", "empty_contact")]);
    assert_case_untouched(&repo, &case).await;
}

/// Behaviour: Create rejects control characters.
pub async fn create_rejects_control_characters(repo: Repo) {
    let case = fresh_case();
    for field in ContactField::ALL {
        for bad in ["Ada\u{7}", "a\nb", "a\u{0}b", "a\u{9f}b"] {
            let input = named("Ada").with(field, bad);
            let result = repo.create(&case, input, &clerk()).await;
            let found = codes(result);
            assert!(found.contains(&(None, field.name(), "control_character")), "{field}: {found:?}");
        }
    }
    assert_case_untouched(&repo, &case).await;
}

/// Behaviour: Create counts lengths in characters.
pub async fn create_counts_lengths_in_characters(repo: Repo) {
    let case = fresh_case();
    let letters = |n: usize| "é".repeat(n);
    let email = |n: usize| {
        format!("{}@{}.{}.{}", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(n - 193))
    };
    type Make<'a> = &'a dyn Fn(usize) -> String;
    let cases: [(ContactField, usize, Make<'_>); 6] = [
        (ContactField::Title, 50, &letters),
        (ContactField::FirstName, 100, &letters),
        (ContactField::LastName, 100, &letters),
        (ContactField::Email, 254, &email),
        (ContactField::Address, 500, &letters),
        (ContactField::Relationship, 100, &letters),
    ];
    for (field, max, make) in cases {
        let longest = make(max);
        assert_eq!(longest.chars().count(), max);
        let created = repo.create(&case, named("Ada").with(field, longest.clone()), &clerk()).await;
        let created = created.unwrap_or_else(|e| panic!("{field} of {max} characters must pass: {e}"));
        assert_eq!(created.field(field), Some(longest.as_str()));
        let too_long = repo.create(&case, named("Ada").with(field, make(max + 1)), &clerk()).await;
        assert_eq!(codes(too_long), [(None, field.name(), "too_long")], "{field} of {} characters", max + 1);
    }
    let phone = format!("+49 30 1234567{}", "0".repeat(19));
    assert_eq!(phone.chars().count(), 33);
    let found = codes(repo.create(&case, named("Ada").with(ContactField::Phone, phone), &clerk()).await);
    assert_eq!(found, [(None, "phone", "too_long")]);
    assert_eq!(
        repo.list_all(&case).await.expect("list").len(),
        6,
        "only the longest valid values are stored"
    );
}

/// Behaviour: Names accept letters marks and punctuation.
pub async fn names_accept_letters_marks_and_punctuation(repo: Repo) {
    let case = fresh_case();
    for name in
        ["Zoë-Marie", "O'Brien", "O\u{2019}Brien", "Nguyễn", "李小龙", "Jean-Luc", "J. R. R.", "Mary Ann"]
    {
        for field in [ContactField::FirstName, ContactField::LastName] {
            let input = NewContact::default().with(field, name);
            let created = repo.create(&case, input, &clerk()).await;
            let created = created.unwrap_or_else(|e| panic!("{field} {name:?} must pass: {e}"));
            assert_eq!(created.field(field), Some(name));
        }
    }
    let decomposed = NewContact::default().with(ContactField::LastName, "Nguye\u{302}\u{303}n");
    let created = repo.create(&case, decomposed, &clerk()).await.expect("combining marks pass");
    assert_eq!(created.last_name.as_deref(), Some("Nguyễn"), "names are stored NFC");
}

/// Behaviour: Names reject digits and symbols.
pub async fn names_reject_digits_and_symbols(repo: Repo) {
    let case = fresh_case();
    for name in ["R2D2", "<b>Ada</b>", "Ada;", "ada@example.org", "Ada_Lovelace", "Ada!"] {
        for field in [ContactField::FirstName, ContactField::LastName] {
            let input = NewContact::default().with(field, name).with(ContactField::Phone, "+49 30 1234567");
            assert_eq!(
                codes(repo.create(&case, input, &clerk()).await),
                [(None, field.name(), "invalid_name")]
            );
        }
    }
    assert_case_untouched(&repo, &case).await;
}

/// Behaviour: Phone keeps the entry and its E.164 form.
pub async fn phone_keeps_the_entry_and_its_e164_form(repo: Repo) {
    let case = fresh_case();
    for (entered, e164) in [
        ("+49 30 1234567", "+49301234567"),
        ("030 1234567", "+49301234567"),
        ("(030) 123-4567", "+49301234567"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
    ] {
        let input = NewContact::default().with(ContactField::Phone, entered);
        let created = repo.create(&case, input, &clerk()).await.expect("valid phone");
        assert_eq!(created.phone.as_deref(), Some(entered), "the entry is kept");
        assert_eq!(created.phone_e164.as_deref(), Some(e164), "{entered}");
        assert_eq!(repo.get(&case, created.id).await.expect("get").phone_e164.as_deref(), Some(e164));
    }
}

/// Behaviour: Phone rejects invalid numbers.
pub async fn phone_rejects_invalid_numbers(repo: Repo) {
    let case = fresh_case();
    for bad in ["12", "+49 0", "not a number", "+1 555", "+999 123456789", "030 12"] {
        let input = named("Ada").with(ContactField::Phone, bad);
        assert_eq!(
            codes(repo.create(&case, input, &clerk()).await),
            [(None, "phone", "invalid_phone")],
            "{bad}"
        );
    }
    assert_case_untouched(&repo, &case).await;
}

/// Behaviour: Email is validated and kept as entered.
pub async fn email_is_validated_and_kept_as_entered(repo: Repo) {
    let case = fresh_case();
    for bad in
        ["ada", "ada@", "@example.org", "ada@@example.org", "ada lovelace@example.org", "zoë@example.org"]
    {
        let input = NewContact::default().with(ContactField::Email, bad);
        assert_eq!(
            codes(repo.create(&case, input, &clerk()).await),
            [(None, "email", "invalid_email")],
            "{bad}"
        );
    }
    for good in ["Ada.Lovelace@Example.ORG", "zoe@bücher.de", "a+tag@sub.example.co.uk"] {
        let input = NewContact::default().with(ContactField::Email, good);
        let created = repo.create(&case, input, &clerk()).await.expect("valid email");
        assert_eq!(created.email.as_deref(), Some(good));
    }
}

/// Behaviour: Validation errors never contain values.
pub async fn validation_errors_never_contain_values(repo: Repo) {
    let case = fresh_case();
    let input = NewContact {
        title: Some(format!("Secret{}", "x".repeat(60))),
        first_name: Some("Secret1".into()),
        last_name: Some("Secret<2>".into()),
        phone: Some("Secret 3".into()),
        email: Some("Secret4@".into()),
        address: Some("Secret\u{7}5".into()),
        relationship: Some(format!("Secret{}", "y".repeat(100))),
    };
    let err = repo.create(&case, input, &clerk()).await.expect_err("invalid");
    let errors = err.validation_errors().expect("a validation error");
    let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
    assert_eq!(fields, ["title", "first_name", "last_name", "phone", "email", "address", "relationship"]);
    assert!(
        errors.iter().all(|e| !e.message.is_empty() && !e.code.is_empty()),
        "every error has a code and message"
    );
    for text in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!text.contains("Secret"), "an error shows a value: {text}");
    }
    assert_case_untouched(&repo, &case).await;
}

/// Behaviour: `create_many` stores all in order.
pub async fn create_many_stores_all_in_order(repo: Repo) {
    let case = fresh_case();
    let inputs: Vec<_> =
        (0..25).map(|i| named("Ada").with(ContactField::Relationship, format!("row {i}"))).collect();
    let created = repo.create_many(&case, inputs, &clerk()).await.expect("create_many");
    assert_eq!(created.len(), 25);
    for (i, contact) in created.iter().enumerate() {
        assert_eq!(contact.relationship, Some(format!("row {i}")), "input order is kept");
        assert_eq!(contact.version, 1);
    }
    assert_eq!(repo.list_all(&case).await.expect("list"), created, "listing order is creation order");
    let events = audit_of(&repo, &case).await;
    assert_eq!(events.len(), 25, "one created event per contact");
    assert!(events.iter().all(|e| e.action == AuditAction::Created));
}

/// Behaviour: `create_many` is atomic and names every invalid row.
pub async fn create_many_is_atomic_and_names_every_invalid_row(repo: Repo) {
    let case = fresh_case();
    let inputs = vec![
        named("Ada"),
        named("R2D2"),
        named("Grace"),
        NewContact { title: Some("Herr".into()), ..NewContact::default() },
        named("Alan").with(ContactField::Email, "alan@"),
    ];
    let found = codes(repo.create_many(&case, inputs, &clerk()).await);
    assert_eq!(
        found,
        [
            (Some(1), "first_name", "invalid_name"),
            (Some(3), "contact", "empty_contact"),
            (Some(4), "email", "invalid_email"),
        ]
    );
    assert_case_untouched(&repo, &case).await;
}

/// Behaviour: `create_many` of nothing stores nothing.
pub async fn create_many_of_nothing_stores_nothing(repo: Repo) {
    let case = fresh_case();
    assert!(repo.create_many(&case, Vec::new(), &clerk()).await.expect("empty batch").is_empty());
    assert_case_untouched(&repo, &case).await;
}

/// Backends may store a large batch in several statements; it must stay all or nothing.
pub async fn create_many_of_a_large_batch_is_atomic(repo: Repo) {
    let case = fresh_case();
    let valid = |i: usize| named("Ada").with(ContactField::Relationship, format!("row {i}"));
    let mut inputs: Vec<_> = (0..1_200).map(valid).collect();
    for bad in [7, 640, 1_199] {
        inputs[bad] = named("R2D2");
    }
    let found = codes(repo.create_many(&case, inputs, &clerk()).await);
    assert_eq!(
        found,
        [
            (Some(7), "first_name", "invalid_name"),
            (Some(640), "first_name", "invalid_name"),
            (Some(1_199), "first_name", "invalid_name")
        ]
    );
    assert_case_untouched(&repo, &case).await;

    let created =
        repo.create_many(&case, (0..1_200).map(valid).collect(), &clerk()).await.expect("create_many");
    let relationships: Vec<_> = created.iter().map(|c| c.relationship.clone().expect("set")).collect();
    assert_eq!(relationships, (0..1_200).map(|i| format!("row {i}")).collect::<Vec<_>>(), "input order");
    assert_eq!(repo.list_all(&case).await.expect("list"), created);
    assert_eq!(repo.case(&case).await.expect("case").contact_count, 1_200);
}

// ---------------------------------------------------------------- reading

/// Behaviour: Contacts are invisible through other cases.
pub async fn contacts_are_invisible_through_other_cases(repo: Repo) {
    let (case, other) = (fresh_case(), fresh_case());
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    assert_not_found(repo.get(&other, contact.id).await, "get through another case");
    let patch = ContactPatch::default().set(ContactField::FirstName, "Mallory");
    assert_not_found(repo.update(&other, contact.id, patch.clone(), None, &clerk()).await, "update");
    assert_not_found(repo.update(&other, contact.id, patch, Some(1), &clerk()).await, "update with version");
    assert_not_found(repo.delete(&other, contact.id, None, &clerk()).await, "delete");
    assert_eq!(repo.erase_case(&other, &clerk()).await.expect("erase"), 0);
    assert!(repo.list_all(&other).await.expect("list").is_empty());
    assert_not_found(repo.case(&other).await, "case summary");
    assert!(audit_of(&repo, &other).await.is_empty());
    assert_eq!(repo.get(&case, contact.id).await.expect("still there"), contact, "nothing changed");
}

/// Behaviour: Get of an unknown contact is not found.
pub async fn get_of_an_unknown_contact_is_not_found(repo: Repo) {
    let case = fresh_case();
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    assert_not_found(repo.get(&case, ContactId::new()).await, "unknown id");
}

/// Behaviour: List pages in creation order.
pub async fn list_pages_in_creation_order(repo: Repo) {
    let case = fresh_case();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            repo.create(&case, named("Ada").with(ContactField::Relationship, format!("{i}")), &clerk())
                .await
                .expect("create"),
        );
    }
    repo.create(&fresh_case(), named("Other"), &clerk()).await.expect("other case");
    let pages = walk(async |request| repo.list(&case, request).await.expect("list"), 3).await;
    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(pages.concat(), created, "oldest first, each exactly once");
    let exact = walk(async |request| repo.list(&case, request).await.expect("list"), 7).await;
    assert_eq!(exact.len(), 1, "a full last page has no next cursor");
}

/// Behaviour: List walk sees every contact once during inserts.
pub async fn list_walk_sees_every_contact_once_during_inserts(repo: Repo) {
    let case = fresh_case();
    let inputs = (0..40).map(|i| named("Ada").with(ContactField::Relationship, format!("{i}"))).collect();
    let before: Vec<ContactId> =
        repo.create_many(&case, inputs, &clerk()).await.expect("seed").iter().map(|c| c.id).collect();
    let writer = {
        let (repo, case) = (repo.clone(), case.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                repo.create(
                    &case,
                    named("Grace").with(ContactField::Relationship, format!("new {i}")),
                    &clerk(),
                )
                .await
                .expect("concurrent create");
                tokio::task::yield_now().await;
            }
        })
    };
    let pages = walk(
        async |request| {
            tokio::task::yield_now().await;
            repo.list(&case, request).await.expect("list")
        },
        3,
    )
    .await;
    writer.await.expect("writer");
    let seen: Vec<ContactId> = pages.concat().iter().map(|c| c.id).collect();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no contact twice");
    assert!(before.iter().all(|id| unique.contains(id)), "every contact that existed throughout is seen");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in id order");
}

/// Behaviour: List of an unknown case is empty.
pub async fn list_of_an_unknown_case_is_empty(repo: Repo) {
    let page = repo.list(&fresh_case(), PageRequest::default()).await.expect("list");
    assert!(page.items.is_empty());
    assert_eq!(page.next, None);
}

// ---------------------------------------------------------------- update

/// Behaviour: Update sets and clears fields.
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
    assert_eq!(repo.get(&case, created.id).await.expect("get"), updated);
}

/// Behaviour: Update that changes nothing changes nothing.
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

/// Behaviour: Update with a stale version conflicts.
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
    assert_eq!(repo.get(&case, created.id).await.expect("get"), updated, "nothing is overwritten");
    assert_eq!(audit_of(&repo, &case).await.len(), 2);
    let future = repo.update(&case, created.id, ContactPatch::default(), Some(9), &clerk()).await;
    assert!(matches!(future, Err(Error::Conflict { expected: Some(9), current: 2 })), "{future:?}");
}

/// Behaviour: Update cannot leave no one to contact.
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
    assert_eq!(repo.get(&case, created.id).await.expect("get"), created);
    assert_eq!(audit_of(&repo, &case).await.len(), 1);
}

/// Behaviour: Update validates fields.
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
    assert_eq!(repo.get(&case, created.id).await.expect("get"), created);
}

/// Behaviour: Update of an unknown contact is not found.
pub async fn update_of_an_unknown_contact_is_not_found(repo: Repo) {
    let case = fresh_case();
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    assert_not_found(repo.update(&case, ContactId::new(), patch.clone(), None, &clerk()).await, "no version");
    assert_not_found(repo.update(&case, ContactId::new(), patch, Some(1), &clerk()).await, "with version");
    assert_eq!(audit_of(&repo, &case).await.len(), 1);
}

/// Behaviour: Update recomputes the E.164 phone.
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

// ---------------------------------------------------------------- delete and erase

/// Behaviour: Delete removes the contact and records it.
pub async fn delete_removes_the_contact_and_records_it(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, complete_contact(), &clerk()).await.expect("create");
    let keep = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    repo.delete(&case, contact.id, Some(1), &supervisor()).await.expect("delete");
    assert_not_found(repo.get(&case, contact.id).await, "deleted contact");
    assert_eq!(repo.list_all(&case).await.expect("list"), [keep]);
    let events = audit_of(&repo, &case).await;
    let deleted = events.last().expect("an event");
    assert_eq!(deleted.action, AuditAction::Deleted);
    assert_eq!(deleted.contact_id, Some(contact.id));
    assert_eq!(deleted.actor, supervisor());
    assert_eq!(deleted.changed_fields, ContactField::ALL, "a delete names every field that had a value");
}

/// Behaviour: Delete with a stale version conflicts.
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
    assert_eq!(repo.get(&case, contact.id).await.expect("still there"), updated);
    assert_eq!(audit_of(&repo, &case).await.len(), 2);
}

/// Behaviour: Delete of an unknown contact is not found.
pub async fn delete_of_an_unknown_contact_is_not_found(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    assert_not_found(repo.delete(&case, ContactId::new(), None, &clerk()).await, "unknown id");
    repo.delete(&case, contact.id, None, &clerk()).await.expect("delete");
    assert_not_found(repo.delete(&case, contact.id, None, &clerk()).await, "deleted twice");
    assert_not_found(repo.delete(&case, contact.id, Some(1), &clerk()).await, "deleted twice, with version");
    assert_eq!(audit_of(&repo, &case).await.len(), 2, "one create, one delete");
}

/// Behaviour: `erase_case` removes every contact with one event.
pub async fn erase_case_removes_every_contact_with_one_event(repo: Repo) {
    let (case, other) = (fresh_case(), fresh_case());
    let inputs = vec![complete_contact(), named("Ada"), named("Grace")];
    repo.create_many(&case, inputs, &clerk()).await.expect("create_many");
    let survivor = repo.create(&other, named("Alan"), &clerk()).await.expect("other case");
    assert_eq!(repo.erase_case(&case, &supervisor()).await.expect("erase"), 3);
    assert!(repo.list_all(&case).await.expect("list").is_empty());
    assert_not_found(repo.case(&case).await, "erased case");
    let events = audit_of(&repo, &case).await;
    assert_eq!(events.len(), 4, "three creates and one erasure");
    let erased = &events[3];
    assert_eq!(erased.action, AuditAction::CaseErased);
    assert_eq!((erased.contact_id, erased.changed_fields.is_empty()), (None, true));
    assert_eq!(erased.actor, supervisor());
    assert_eq!(repo.list_all(&other).await.expect("list"), [survivor], "other cases are untouched");
}

/// Behaviour: Erase of a case without contacts records nothing.
pub async fn erase_of_a_case_without_contacts_records_nothing(repo: Repo) {
    let case = fresh_case();
    assert_eq!(repo.erase_case(&case, &clerk()).await.expect("erase"), 0);
    assert_case_untouched(&repo, &case).await;
}

// ---------------------------------------------------------------- case summary

/// Behaviour: Case summary counts and times.
pub async fn case_summary_counts_and_times(repo: Repo) {
    let case = fresh_case();
    let first = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let second = repo.create(&case, named("Grace"), &clerk()).await.expect("create");
    let summary = repo.case(&case).await.expect("case");
    assert_eq!(summary.id, case);
    assert_eq!(summary.contact_count, 2);
    assert_eq!(summary.first_created_at, first.created_at);
    assert_eq!(summary.last_changed_at, second.created_at);
    let patch = ContactPatch::default().set(ContactField::LastName, "Lovelace");
    let updated = repo.update(&case, first.id, patch, None, &clerk()).await.expect("update");
    assert_eq!(repo.case(&case).await.expect("case").last_changed_at, updated.updated_at);
    repo.delete(&case, first.id, None, &clerk()).await.expect("delete");
    let summary = repo.case(&case).await.expect("case");
    let deleted_at = audit_of(&repo, &case).await.last().expect("event").at;
    assert_eq!(summary.contact_count, 1);
    assert_eq!(summary.first_created_at, second.created_at, "the oldest current contact");
    assert_eq!(summary.last_changed_at, deleted_at, "a delete changes the case");
}

/// Behaviour: Case without contacts is not found.
pub async fn case_without_contacts_is_not_found(repo: Repo) {
    let case = fresh_case();
    assert_not_found(repo.case(&case).await, "unknown case");
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    repo.delete(&case, contact.id, None, &clerk()).await.expect("delete");
    assert_not_found(repo.case(&case).await, "case whose last contact was deleted");
}

// ---------------------------------------------------------------- audit

/// Behaviour: Audit trail records each change exactly.
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

/// Behaviour: Audit events hold no values.
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

/// Behaviour: Audit trail pages.
pub async fn audit_trail_pages(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    for name in ["Lovelace", "Byron", "King", "Noel"] {
        let patch = ContactPatch::default().set(ContactField::LastName, name);
        repo.update(&case, contact.id, patch, None, &clerk()).await.expect("update");
    }
    let pages = walk(async |request| repo.audit_trail(&case, request).await.expect("audit"), 2).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let versions: Vec<_> = pages.concat().iter().map(|e| e.action).collect();
    assert_eq!(versions[0], AuditAction::Created);
    assert!(versions[1..].iter().all(|a| *a == AuditAction::Updated));
    let empty = repo.audit_trail(&fresh_case(), PageRequest::default()).await.expect("audit");
    assert_eq!((empty.items.len(), empty.next), (0, None));
}

/// Behaviour: Audit trail survives erasure.
pub async fn audit_trail_survives_erasure(repo: Repo) {
    let case = fresh_case();
    repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    repo.erase_case(&case, &clerk()).await.expect("erase");
    let again = repo.create(&case, named("Grace"), &clerk()).await.expect("a case can start again");
    let actions: Vec<_> = audit_of(&repo, &case).await.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Created, AuditAction::CaseErased, AuditAction::Created]);
    assert_eq!(repo.case(&case).await.expect("case").first_created_at, again.created_at);
}

// ---------------------------------------------------------------- search

async fn find_all(repo: &Repo, query: ContactQuery) -> Vec<Contact> {
    walk(async |request| repo.find(query.clone(), request).await.expect("find"), 2).await.concat()
}

/// Behaviour: `find` by phone matches any formatting.
pub async fn find_by_phone_matches_any_formatting(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let first = repo
        .create(&a, named("Ada").with(ContactField::Phone, "+49 30 1234567"), &clerk())
        .await
        .expect("create");
    let second = repo
        .create(&b, named("Grace").with(ContactField::Phone, "030/1234567"), &clerk())
        .await
        .expect("create");
    repo.create(&b, named("Alan").with(ContactField::Phone, "+49 30 7654321"), &clerk())
        .await
        .expect("create");
    for query in ["+49301234567", "(030) 123-4567", "0049 30 1234567"] {
        let found = find_all(&repo, ContactQuery::Phone(query.into())).await;
        assert_eq!(found, [first.clone(), second.clone()], "{query}");
    }
    assert!(find_all(&repo, ContactQuery::Phone("+49 30 1111111".into())).await.is_empty());
}

/// Behaviour: `find` by email ignores case.
pub async fn find_by_email_ignores_case(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let first = repo
        .create(&a, NewContact::default().with(ContactField::Email, "Ada@Example.org"), &clerk())
        .await
        .expect("create");
    let second = repo
        .create(&b, NewContact::default().with(ContactField::Email, "ada@example.ORG"), &clerk())
        .await
        .expect("create");
    repo.create(&b, NewContact::default().with(ContactField::Email, "ada@example.net"), &clerk())
        .await
        .expect("create");
    let found = find_all(&repo, ContactQuery::Email("  ADA@EXAMPLE.ORG ".into())).await;
    assert_eq!(found, [first, second]);
    assert!(
        find_all(&repo, ContactQuery::Email("ada@example".into())).await.is_empty(),
        "whole addresses only"
    );
}

/// Behaviour: `find` by name prefix ignores case.
pub async fn find_by_name_prefix_ignores_case(repo: Repo) {
    let case = fresh_case();
    let nguyen = repo
        .create(&case, NewContact::default().with(ContactField::LastName, "Nguyễn"), &clerk())
        .await
        .expect("create");
    let ueli = repo
        .create(&case, named("Ülrich").with(ContactField::LastName, "Meier"), &clerk())
        .await
        .expect("create");
    let ma = repo
        .create(&case, named("Ma").with(ContactField::LastName, "Nguyen"), &clerk())
        .await
        .expect("create");
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("NGUY".into())).await, [nguyen.clone(), ma.clone()]);
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("nguyễ".into())).await, [nguyen]);
    assert_eq!(
        find_all(&repo, ContactQuery::NamePrefix("üL".into())).await,
        std::slice::from_ref(&ueli),
        "first names too"
    );
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("mei".into())).await, [ueli]);
    assert!(find_all(&repo, ContactQuery::NamePrefix("guy".into())).await.is_empty(), "prefixes only");
    assert!(find_all(&repo, ContactQuery::NamePrefix("M%".into())).await.is_empty(), "no wildcards");
    assert!(find_all(&repo, ContactQuery::NamePrefix("_a".into())).await.is_empty(), "no wildcards");
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("Ma".into())).await, [ma]);
}

/// Behaviour: Find crosses cases and pages.
pub async fn find_crosses_cases_and_pages(repo: Repo) {
    let mut expected = Vec::new();
    for _ in 0..5 {
        let case = fresh_case();
        repo.create(&case, named("Other").with(ContactField::Email, "other@example.org"), &clerk())
            .await
            .expect("create");
        expected.push(
            repo.create(&case, named("Ada").with(ContactField::Email, "shared@example.org"), &clerk())
                .await
                .expect("create"),
        );
    }
    let pages = walk(
        async |request| {
            repo.find(ContactQuery::Email("shared@example.org".into()), request).await.expect("find")
        },
        2,
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(pages.concat(), expected, "every match once, oldest first");
    let cases: HashSet<_> = expected.iter().map(|c| &c.case_id).collect();
    assert_eq!(cases.len(), 5);
}

/// Behaviour: Find rejects blank and invalid queries.
pub async fn find_rejects_blank_and_invalid_queries(repo: Repo) {
    for query in [
        ContactQuery::Phone("  ".into()),
        ContactQuery::Email(String::new()),
        ContactQuery::NamePrefix(" \t ".into()),
        ContactQuery::Phone("12".into()),
        ContactQuery::NamePrefix("a\u{0}".into()),
    ] {
        let found = codes(repo.find(query.clone(), PageRequest::default()).await);
        assert_eq!(found.len(), 1, "{query:?}");
        assert_eq!(found[0].1, "query");
    }
}

/// Behaviour: Find skips deleted and erased contacts.
pub async fn find_skips_deleted_and_erased_contacts(repo: Repo) {
    let (a, b) = (fresh_case(), fresh_case());
    let deleted = repo
        .create(&a, named("Ada").with(ContactField::Email, "gone@example.org"), &clerk())
        .await
        .expect("create");
    repo.create(&b, named("Ada").with(ContactField::Email, "gone@example.org"), &clerk())
        .await
        .expect("create");
    let kept = repo
        .create(&a, named("Ada").with(ContactField::Email, "kept@example.org"), &clerk())
        .await
        .expect("create");
    repo.delete(&a, deleted.id, None, &clerk()).await.expect("delete");
    repo.erase_case(&b, &clerk()).await.expect("erase");
    assert!(find_all(&repo, ContactQuery::Email("gone@example.org".into())).await.is_empty());
    assert_eq!(find_all(&repo, ContactQuery::NamePrefix("ada".into())).await, [kept]);
}

// ---------------------------------------------------------------- concurrency

const WRITERS: u64 = 16;

/// Behaviour: Concurrent updates with versions have one winner per version.
pub async fn concurrent_updates_with_versions_have_one_winner_per_version(repo: Repo) {
    let case = fresh_case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.expect("create");
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, case) = (repo.clone(), case.clone());
        tasks.spawn(async move {
            let mut losses = 0;
            loop {
                let current = repo.get(&case, contact.id).await.expect("get");
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
    assert_eq!(repo.get(&case, contact.id).await.expect("get").version, WRITERS + 1);
    let updates = audit_of(&repo, &case).await.iter().filter(|e| e.action == AuditAction::Updated).count();
    assert_eq!(updates as u64, WRITERS);
}

/// Behaviour: Concurrent updates without version are all applied.
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
    let last = repo.get(&case, contact.id).await.expect("get");
    assert_eq!(last.version, WRITERS + 1);
    let events = audit_of(&repo, &case).await;
    let updates: Vec<_> = events.iter().filter(|e| e.action == AuditAction::Updated).collect();
    assert_eq!(updates.len() as u64, WRITERS, "one event per update");
    assert!(matches!(last.relationship, Some(ref r) if r.starts_with("writer ")));
}

/// Behaviour: Concurrent creates are all stored.
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
    let listed: HashSet<_> = repo.list_all(&case).await.expect("list").iter().map(|c| c.id).collect();
    assert_eq!(listed, ids);
    assert_eq!(repo.case(&case).await.expect("case").contact_count, WRITERS);
    assert_eq!(audit_of(&repo, &case).await.len() as u64, WRITERS);
}
