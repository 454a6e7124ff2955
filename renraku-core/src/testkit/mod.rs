//! The conformance suite: every behaviour a [`ContactRepository`] must have, one function
//! each, grouped by area in the submodules.
//!
//! **The suite writes and erases data; run it only against a store made for the test.** It
//! is a testing aid, outside renraku's semver guarantees: behaviours are added as the
//! contract grows.
//!
//! A backend runs the whole suite with [`conformance_tests!`](crate::conformance_tests),
//! given an `async fn(Setup) -> impl ContactRepository` that builds a fresh, empty store
//! with the [`Setup`] it is given (the rules, and whether read audit is on). The macro
//! generates one `#[tokio::test]` per behaviour, four times: on the repository itself,
//! through `Box<dyn ContactRepository>`, through `Arc<dyn ContactRepository>` and through a
//! [`PolicyRepository`](crate::access::PolicyRepository) that allows all, so a failure
//! names the behaviour and the path. The crate that calls it needs `tokio` (features
//! `macros`, `rt-multi-thread`) as a dev-dependency.
//!
//! This is the whole of `renraku-memory/tests/conformance.rs` (compiled and run there; it
//! cannot be a doctest here, because the store lives in a crate that depends on this one):
//!
//! ```text
//! use renraku_core::testkit::Setup;
//! use renraku_memory::MemoryContactRepository;
//!
//! async fn fresh(setup: Setup) -> MemoryContactRepository {
//!     MemoryContactRepository::with_rules(setup.rules).with_read_audit(setup.read_audit)
//! }
//!
//! renraku_core::conformance_tests!(fresh);
//! ```
//!
//! Two suites in one file need modules of different names:
//! `conformance_tests!(through_my_decorator, fresh_decorated)` puts the second one in
//! `mod through_my_decorator`.
//!
//! Each behaviour is a function named for what it checks (the names are listed in
//! [`BEHAVIOURS`]); it takes an `Arc<dyn ContactRepository>` and panics with a message
//! naming the broken rule.

#![allow(clippy::missing_panics_doc)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::{
    Actor, AuditAction, AuditEvent, CaseId, Contact, ContactField, ContactId, ContactPatch, ContactQuery,
    ContactRepository, ContactRepositoryExt, Error, FieldKind, NewContact, Page, PageLimit, PageRequest,
    Rules,
};

// The behaviours document themselves by their names.
#[allow(missing_docs)]
mod access;
#[allow(missing_docs)]
mod audit;
#[allow(missing_docs)]
mod case;
#[allow(missing_docs)]
mod concurrency;
#[allow(missing_docs)]
mod create;
#[allow(missing_docs)]
mod delete;
#[allow(missing_docs)]
mod feed;
#[allow(missing_docs)]
mod privacy;
#[allow(missing_docs)]
mod read;
#[allow(missing_docs)]
mod read_audit;
#[allow(missing_docs)]
mod search;
#[allow(missing_docs)]
mod update;

pub use access::*;
pub use audit::*;
pub use case::*;
pub use concurrency::*;
pub use create::*;
pub use delete::*;
pub use feed::*;
pub use privacy::*;
pub use read::*;
pub use read_audit::*;
pub use search::*;
pub use update::*;

/// Calls `$callback!` with the name of every behaviour, once: the one list that the
/// generated tests and [`BEHAVIOURS`] are made from.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_behaviours {
    ($callback:path { $($args:tt)* }) => {
        $callback! { $($args)*
            create_round_trips_every_field,
            create_normalizes_text,
            create_rejects_an_empty_contact,
            create_rejects_control_characters,
            create_rejects_invisible_characters,
            address_keeps_its_lines,
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
            find_by_name_prefix_folds_case_fully,
            find_crosses_cases_and_pages,
            find_rejects_blank_and_invalid_queries,
            find_skips_deleted_and_erased_contacts,
            concurrent_updates_with_versions_have_one_winner_per_version,
            concurrent_updates_without_version_are_all_applied,
            an_update_storm_applies_every_update_once,
            concurrent_creates_are_all_stored,
            every_operation_asks_the_policy_once,
            a_denied_operation_touches_nothing,
            roles_grant_what_the_table_says,
            reads_record_nothing_without_read_audit,
            read_audit_records_views_lists_and_searches,
            read_audit_reads_do_not_change_the_case,
            purge_erases_what_did_not_change_since_the_cutoff,
            purge_from_two_callers_erases_each_contact_once,
            purge_never_touches_a_contact_changed_while_it_runs,
            export_person_returns_every_match_with_its_trail,
            erase_person_erases_the_selection_with_one_event_each,
            feed_of_an_empty_store_is_an_empty_page,
            feed_delivers_every_event_once_in_a_stable_order,
            feed_follower_sees_every_event_once_while_16_writers_commit,
            feed_keeps_the_events_of_erased_cases,
            feed_cursors_that_are_malformed_or_unknown_have_typed_errors,
            feed_waits_without_polling_and_wakes_on_a_commit,
            feed_asks_the_policy_for_read_feed,
        }
    };
}

macro_rules! behaviour_names {
    ($($behaviour:ident,)*) => {
        /// The name of every behaviour of the suite, in the order the tests are generated.
        pub const BEHAVIOURS: &[&str] = &[$(stringify!($behaviour)),*];
    };
}
__conformance_behaviours!(behaviour_names {});

/// Generates the conformance suite for a backend: one `#[tokio::test]` per behaviour, on
/// the repository, through `Box<dyn ContactRepository>` and through
/// `Arc<dyn ContactRepository>`, in a module named `conformance` (or the name given first).
///
/// `$fresh` is the path of an `async fn(Setup) -> R` (with `R: ContactRepository +
/// 'static`) that returns a fresh, empty store set up as [`Setup`] says. See
/// [`testkit`](self).
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $fresh:path) => {
        /// The renraku conformance suite.
        mod $module {
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
            $crate::__conformance_module!(through_allow_all_policy, $fresh, |repo| {
                ::std::sync::Arc::new($crate::access::PolicyRepository::new(repo, $crate::access::AllowAll))
            });
        }
    };
    ($fresh:path) => {
        $crate::conformance_tests!(conformance, $fresh);
    };
}

/// One module of the suite: a test per behaviour.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_module {
    ($module:ident, $fresh:path, $wrap:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_behaviours!($crate::__conformance_module { @tests $fresh, $wrap; });
        }
    };
    (@tests $fresh:path, $wrap:expr; $($behaviour:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $behaviour() {
                let repo = $fresh($crate::testkit::setup(stringify!($behaviour))).await;
                $crate::testkit::$behaviour(($wrap)(repo)).await;
            }
        )*
    };
}

/// The repository type every behaviour takes.
pub type Repo = Arc<dyn ContactRepository>;

/// How the suite wants a fresh store built for one behaviour.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Setup {
    /// The validation rules: default phone region `DE`.
    pub rules: Rules,
    /// Whether reads are recorded as audit events (for behaviours named `read_audit_*`).
    pub read_audit: bool,
}

/// The setup of the behaviour named `behaviour`.
#[must_use]
pub fn setup(behaviour: &str) -> Setup {
    Setup { rules: rules(), read_audit: behaviour.starts_with("read_audit_") }
}

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

/// A contact with every field given: each field's [example](ContactField::example).
#[must_use]
pub fn complete_contact() -> NewContact {
    ContactField::ALL.into_iter().fold(NewContact::default(), |input, f| input.with(f, f.example()))
}

fn limit(n: u32) -> PageLimit {
    PageLimit::new(n).expect("valid limit")
}

async fn audit_of(repo: &Repo, case: &CaseId) -> Vec<AuditEvent> {
    repo.audit_trail_all(case, &clerk()).await.expect("audit trail")
}

/// Every page of a listing, `page_limit` items at a time.
async fn walk<T, F>(fetch: impl FnMut(PageRequest) -> F, page_limit: u32) -> Vec<Vec<T>>
where
    F: Future<Output = Result<Page<T>, Error>>,
{
    PageRequest::first(limit(page_limit)).walk(fetch).await.expect("every page")
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
    assert!(repo.list_all(case, &clerk()).await.expect("list").is_empty(), "nothing may be stored");
    assert!(audit_of(repo, case).await.is_empty(), "no audit event may be written");
}

#[cfg(test)]
mod tests {
    /// Every public behaviour function of the submodules is in the list the macro runs.
    #[test]
    fn every_behaviour_is_run() {
        let sources = [
            include_str!("access.rs"),
            include_str!("audit.rs"),
            include_str!("case.rs"),
            include_str!("concurrency.rs"),
            include_str!("create.rs"),
            include_str!("delete.rs"),
            include_str!("privacy.rs"),
            include_str!("feed.rs"),
            include_str!("read.rs"),
            include_str!("read_audit.rs"),
            include_str!("search.rs"),
            include_str!("update.rs"),
        ];
        let mut defined: Vec<&str> = sources
            .iter()
            .flat_map(|source| source.lines())
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.split('(').next())
            .collect();
        let mut listed = super::BEHAVIOURS.to_vec();
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(defined, listed);
    }
}
