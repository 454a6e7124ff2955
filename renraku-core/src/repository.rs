//! [`ContactRepository`]: the one trait every backend implements.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::audit::AuditEvent;
use crate::case::Case;
use crate::contact::{Contact, ContactPatch, NewContact};
use crate::error::Error;
use crate::feed::{FeedCursor, FeedPage};
use crate::id::{CaseId, ContactId};
use crate::page::{Page, PageLimit, PageRequest};
use crate::privacy::{ContactRef, PersonRecord, Purged};
use crate::search::ContactQuery;

/// Stores the contacts of cases, with their audit trail.
///
/// Use it as `Arc<dyn ContactRepository>` to choose a backend at run time; `Arc<T>`,
/// `Box<T>` and `&T` implement it by forwarding, and the `mock` feature adds a mockall
/// `MockContactRepository` for unit tests.
///
/// # Contract
///
/// Every implementation guarantees the following; the conformance suite
/// (`renraku_core::testkit`, feature `testkit`) checks each point by name.
///
/// - **Validation in core.** Inputs are normalized and checked by the
///   [`Rules`](crate::Rules) the backend was built with, through [`plan`](crate::plan):
///   invalid input is an [`Error::Validation`] and stores nothing.
/// - **Case scope.** A contact is visible only through its own case id: through any other
///   case id it is [`Error::NotFound`], for every operation. Only [`find`](Self::find)
///   crosses cases.
/// - **Atomic changes with their audit event.** Every mutation stores its
///   [`AuditEvent`] in the same atomic step as the change; a failed operation leaves
///   nothing behind. [`create_many`](Self::create_many) stores all inputs or none.
/// - **Versions.** A contact starts at version 1; every real change adds one. An update
///   that changes nothing changes nothing: no new version, no event. An `expected` version
///   that is not the current one is an [`Error::Conflict`] carrying the current version.
///   Without an expected version, concurrent updates are all applied, one after the other;
///   none is lost.
/// - **Keyset pages.** Listings are ordered by id (time of creation) and paged with
///   cursors: walking all pages returns every item that existed throughout exactly once,
///   even while items are added.
/// - **Privacy.** Errors, logs and `Debug` output never contain personal values.
/// - **Actors.** Every operation names who acts. Mutations record the actor's id (never
///   its roles). Backends may record reads too (read audit, opt-in in their builders):
///   viewing a contact, listing a case and searching are then audit events
///   ([`AuditAction::Viewed`](crate::AuditAction::Viewed) and the like) that name the
///   kind of search, never the searched value; searches land in the trail of
///   [`CaseId::across_cases`](crate::CaseId::across_cases).
/// - **Access.** A repository does not decide who may do what: wrap it in a
///   [`PolicyRepository`](crate::access::PolicyRepository) with the host's
///   [`AccessPolicy`](crate::access::AccessPolicy), which is asked once before every
///   operation; a denial is [`Error::Denied`] and touches nothing.
/// - **The change feed.** [`feed`](Self::feed) returns every audit event of every case
///   after a [`FeedCursor`], a page at a time, in an order that never changes behind a
///   cursor once handed out: a follower that resumes from its stored cursor sees each event
///   exactly once, even while writers commit concurrently and out of the order they began;
///   events of erased cases stay. [`wait_for_events`](Self::wait_for_events) waits for new
///   ones without polling. See the [`feed`](crate::feed) module.
///
/// # Implementing it
///
/// A backend, or a decorator over another repository, implements every method with the
/// re-exported [`async_trait`](crate::async_trait) attribute (no dependency of its own
/// needed), plans every change with [`plan`](crate::plan), and runs the conformance suite
/// (`renraku_core::conformance_tests!`, feature `testkit`) to show it keeps the contract.
/// A decorator that counts creates:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use renraku_core::{Actor, CaseId, Contact, ContactRepository, Error, NewContact};
/// # use renraku_core::{AuditEvent, Case, ContactId, ContactPatch, ContactQuery, ContactRef, Page};
/// # use renraku_core::{FeedCursor, FeedPage, PageLimit, PageRequest, PersonRecord, Purged};
/// # use chrono::{DateTime, Utc};
/// # use std::time::Duration;
///
/// #[derive(Debug)]
/// struct Counting<R> {
///     inner: R,
///     creates: AtomicU64,
/// }
///
/// #[renraku_core::async_trait]
/// impl<R: ContactRepository> ContactRepository for Counting<R> {
///     async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error> {
///         let created = self.inner.create(case_id, input, actor).await?;
///         self.creates.fetch_add(1, Ordering::Relaxed);
///         Ok(created)
///     }
///
///     // … and the other methods, forwarded as they are:
/// #   async fn create_many(&self, c: &CaseId, i: Vec<NewContact>, a: &Actor) -> Result<Vec<Contact>, Error> { self.inner.create_many(c, i, a).await }
/// #   async fn get(&self, c: &CaseId, id: ContactId, a: &Actor) -> Result<Contact, Error> { self.inner.get(c, id, a).await }
/// #   async fn list(&self, c: &CaseId, p: PageRequest, a: &Actor) -> Result<Page<Contact>, Error> { self.inner.list(c, p, a).await }
/// #   async fn update(&self, c: &CaseId, id: ContactId, p: ContactPatch, e: Option<u64>, a: &Actor) -> Result<Contact, Error> { self.inner.update(c, id, p, e, a).await }
/// #   async fn delete(&self, c: &CaseId, id: ContactId, e: Option<u64>, a: &Actor) -> Result<(), Error> { self.inner.delete(c, id, e, a).await }
/// #   async fn erase_case(&self, c: &CaseId, a: &Actor) -> Result<u64, Error> { self.inner.erase_case(c, a).await }
/// #   async fn case(&self, c: &CaseId, a: &Actor) -> Result<Case, Error> { self.inner.case(c, a).await }
/// #   async fn audit_trail(&self, c: &CaseId, p: PageRequest, a: &Actor) -> Result<Page<AuditEvent>, Error> { self.inner.audit_trail(c, p, a).await }
/// #   async fn find(&self, q: ContactQuery, p: PageRequest, a: &Actor) -> Result<Page<Contact>, Error> { self.inner.find(q, p, a).await }
/// #   async fn purge(&self, b: DateTime<Utc>, l: PageLimit, a: &Actor) -> Result<Purged, Error> { self.inner.purge(b, l, a).await }
/// #   async fn export_person(&self, q: ContactQuery, p: PageRequest, a: &Actor) -> Result<Page<PersonRecord>, Error> { self.inner.export_person(q, p, a).await }
/// #   async fn erase_person(&self, s: Vec<ContactRef>, a: &Actor) -> Result<u64, Error> { self.inner.erase_person(s, a).await }
/// #   async fn feed(&self, f: &FeedCursor, l: PageLimit, a: &Actor) -> Result<FeedPage, Error> { self.inner.feed(f, l, a).await }
/// #   async fn wait_for_events(&self, f: &FeedCursor, t: Duration, a: &Actor) -> Result<bool, Error> { self.inner.wait_for_events(f, t, a).await }
/// }
/// ```
///
/// # Example
///
/// ```
/// use renraku_core::{Actor, CaseId, ContactRepository, NewContact, PageRequest};
///
/// async fn first_contacts(repo: &dyn ContactRepository) -> renraku_core::Result<usize> {
///     let case = CaseId::new("42")?;
///     let clerk = Actor::new("clerk-7")?;
///     let input = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
///     let created = repo.create(&case, input, &clerk).await?;
///     assert_eq!(repo.get(&case, created.id, &clerk).await?, created);
///     Ok(repo.list(&case, PageRequest::default(), &clerk).await?.items.len())
/// }
/// ```
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ContactRepository: Debug + Send + Sync {
    /// Validates `input` and stores it as a new contact of the case, at version 1.
    ///
    /// # Errors
    /// [`Error::Validation`]; [`Error::Backend`].
    async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error>;

    /// Validates and stores many contacts of one case atomically: all of them, or none.
    ///
    /// The contacts are returned in input order.
    ///
    /// # Errors
    /// [`Error::Validation`] listing every invalid input by its index, with nothing stored;
    /// [`Error::Backend`].
    async fn create_many(
        &self,
        case_id: &CaseId,
        inputs: Vec<NewContact>,
        actor: &Actor,
    ) -> Result<Vec<Contact>, Error>;

    /// One contact of a case.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the case has no such contact; [`Error::Backend`].
    async fn get(&self, case_id: &CaseId, id: ContactId, actor: &Actor) -> Result<Contact, Error>;

    /// A page of the contacts of a case, oldest first. An unknown case is an empty page.
    ///
    /// # Errors
    /// [`Error::Backend`].
    async fn list(&self, case_id: &CaseId, page: PageRequest, actor: &Actor) -> Result<Page<Contact>, Error>;

    /// Applies a patch to a contact and returns its new state (its current state if nothing
    /// changed).
    ///
    /// With `expected: Some(v)`, the update applies only if the contact is at version `v`.
    /// With `None`, it applies to whatever version is current, and never overwrites a
    /// concurrent change it has not seen.
    ///
    /// # Errors
    /// [`Error::Validation`] (including a patch that leaves no one to contact);
    /// [`Error::NotFound`]; [`Error::Conflict`]; [`Error::Backend`].
    async fn update(
        &self,
        case_id: &CaseId,
        id: ContactId,
        patch: ContactPatch,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<Contact, Error>;

    /// Deletes a contact, optionally only at the expected version.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`]; [`Error::Backend`].
    async fn delete(
        &self,
        case_id: &CaseId,
        id: ContactId,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<(), Error>;

    /// Erases every contact of a case with one audit event, and returns how many there were.
    /// Erasing a case without contacts returns 0 and records nothing. The audit trail of
    /// the case is kept: it holds no personal values.
    ///
    /// # Errors
    /// [`Error::Backend`].
    async fn erase_case(&self, case_id: &CaseId, actor: &Actor) -> Result<u64, Error>;

    /// The summary of a case.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the case has no contacts; [`Error::Backend`].
    async fn case(&self, case_id: &CaseId, actor: &Actor) -> Result<Case, Error>;

    /// A page of the audit trail of a case, oldest first;
    /// [`CaseId::across_cases`](crate::CaseId::across_cases) for what was done across cases.
    ///
    /// # Errors
    /// [`Error::Backend`].
    async fn audit_trail(
        &self,
        case_id: &CaseId,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<AuditEvent>, Error>;

    /// Finds contacts across all cases by phone, email or name prefix, oldest first.
    ///
    /// This crosses case scopes on purpose. The host must check that its user may search
    /// across cases before calling it.
    ///
    /// # Errors
    /// [`Error::Validation`] for a blank or invalid query; [`Error::Backend`].
    async fn find(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<Contact>, Error>;

    /// Erases up to `limit` contacts that have not changed since `changed_before`, across
    /// cases, each with an [`AuditAction::Purged`](crate::AuditAction::Purged) event: the
    /// retention period, applied. Call it again while [`Purged::more`] says so.
    ///
    /// Safe to run from several processes at once: no contact is purged twice, and a contact
    /// changed after `changed_before` is never touched, even while the call runs.
    ///
    /// # Errors
    /// [`Error::Backend`].
    async fn purge(
        &self,
        changed_before: DateTime<Utc>,
        limit: PageLimit,
        actor: &Actor,
    ) -> Result<Purged, Error>;

    /// A page of the contacts across cases that match `query` (as [`find`](Self::find)),
    /// each with its whole audit trail, for a person's right of access. Every exported
    /// contact gets an [`AuditAction::Exported`](crate::AuditAction::Exported) event.
    ///
    /// # Errors
    /// [`Error::Validation`] for a blank or invalid query; [`Error::Backend`].
    async fn export_person(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<PersonRecord>, Error>;

    /// Erases the selected contacts across cases, each with an
    /// [`AuditAction::Erased`](crate::AuditAction::Erased) event, atomically per case (all
    /// selected contacts of a case, or none of them); contacts that no longer exist are
    /// skipped. Returns how many were erased.
    ///
    /// # Errors
    /// [`Error::Backend`] (cases already done stay done).
    async fn erase_person(&self, selection: Vec<ContactRef>, actor: &Actor) -> Result<u64, Error>;
    /// The change feed: up to `limit` audit events of every case after `after`, in feed
    /// order, with the cursor to continue from (see the [`feed`](crate::feed) module).
    ///
    /// This crosses case scopes on purpose, like [`find`](Self::find).
    ///
    /// # Errors
    /// [`Error::UnknownCursor`] if `after` names no event of this feed; [`Error::Backend`].
    async fn feed(&self, after: &FeedCursor, limit: PageLimit, actor: &Actor) -> Result<FeedPage, Error>;

    /// Waits until the feed may have events after `after`, or `timeout` has passed, without
    /// polling in a tight loop: returns `Ok(true)` at once if events after `after` can be
    /// read now, else as soon as a commit signals new ones (`Ok(true)`), or `Ok(false)` at
    /// the timeout.
    ///
    /// A wake-up is a hint, not a promise: a follower reads the feed after every return,
    /// `true` or `false`, so a lost signal costs at most one `timeout` of delay.
    ///
    /// # Errors
    /// [`Error::Backend`].
    async fn wait_for_events(
        &self,
        after: &FeedCursor,
        timeout: Duration,
        actor: &Actor,
    ) -> Result<bool, Error>;
}

/// Implements [`ContactRepository`] for a pointer type by forwarding every method.
macro_rules! forward_repository {
    ($(#[$meta:meta])* impl<$t:ident> for $ty:ty) => {
        $(#[$meta])*
        #[deny(clippy::missing_trait_methods)]
        #[async_trait]
        impl<$t: ContactRepository + ?Sized> ContactRepository for $ty {
            async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error> {
                (**self).create(case_id, input, actor).await
            }

            async fn create_many(
                &self,
                case_id: &CaseId,
                inputs: Vec<NewContact>,
                actor: &Actor,
            ) -> Result<Vec<Contact>, Error> {
                (**self).create_many(case_id, inputs, actor).await
            }

            async fn get(&self, case_id: &CaseId, id: ContactId, actor: &Actor) -> Result<Contact, Error> {
                (**self).get(case_id, id, actor).await
            }

            async fn list(&self, case_id: &CaseId, page: PageRequest, actor: &Actor) -> Result<Page<Contact>, Error> {
                (**self).list(case_id, page, actor).await
            }

            async fn update(
                &self,
                case_id: &CaseId,
                id: ContactId,
                patch: ContactPatch,
                expected: Option<u64>,
                actor: &Actor,
            ) -> Result<Contact, Error> {
                (**self).update(case_id, id, patch, expected, actor).await
            }

            async fn delete(
                &self,
                case_id: &CaseId,
                id: ContactId,
                expected: Option<u64>,
                actor: &Actor,
            ) -> Result<(), Error> {
                (**self).delete(case_id, id, expected, actor).await
            }

            async fn erase_case(&self, case_id: &CaseId, actor: &Actor) -> Result<u64, Error> {
                (**self).erase_case(case_id, actor).await
            }

            async fn case(&self, case_id: &CaseId, actor: &Actor) -> Result<Case, Error> {
                (**self).case(case_id, actor).await
            }

            async fn audit_trail(
                &self,
                case_id: &CaseId,
                page: PageRequest,
                actor: &Actor,
            ) -> Result<Page<AuditEvent>, Error> {
                (**self).audit_trail(case_id, page, actor).await
            }

            async fn find(&self, query: ContactQuery, page: PageRequest, actor: &Actor) -> Result<Page<Contact>, Error> {
                (**self).find(query, page, actor).await
            }

            async fn purge(&self, changed_before: DateTime<Utc>, limit: PageLimit, actor: &Actor) -> Result<Purged, Error> {
                (**self).purge(changed_before, limit, actor).await
            }

            async fn export_person(
                &self,
                query: ContactQuery,
                page: PageRequest,
                actor: &Actor,
            ) -> Result<Page<PersonRecord>, Error> {
                (**self).export_person(query, page, actor).await
            }

            async fn erase_person(&self, selection: Vec<ContactRef>, actor: &Actor) -> Result<u64, Error> {
                (**self).erase_person(selection, actor).await
    }

    async fn feed(&self, after: &FeedCursor, limit: PageLimit, actor: &Actor) -> Result<FeedPage, Error> {
                (**self).feed(after, limit, actor).await
            }

            async fn wait_for_events(
                &self,
                after: &FeedCursor,
                timeout: Duration,
                actor: &Actor,
            ) -> Result<bool, Error> {
                (**self).wait_for_events(after, timeout, actor).await
            }
        }
    };
}

forward_repository!(
    /// Shares one repository between tasks.
    impl<T> for Arc<T>
);
forward_repository!(
    /// Owns a repository chosen at run time.
    impl<T> for Box<T>
);
forward_repository!(
    /// Lends a repository to code that takes `impl ContactRepository`.
    impl<T> for &T
);

/// Conveniences built on [`ContactRepository`]'s primitives, for every implementation.
///
/// ```
/// use renraku_core::{Actor, CaseId, ContactRepository, ContactRepositoryExt};
///
/// async fn count(repo: &dyn ContactRepository, case: &CaseId, clerk: &Actor) -> renraku_core::Result<usize> {
///     Ok(repo.list_all(case, clerk).await?.len())
/// }
/// ```
#[async_trait]
pub trait ContactRepositoryExt: ContactRepository {
    /// Every contact of a case, walking all pages.
    ///
    /// # Errors
    /// As [`ContactRepository::list`].
    async fn list_all(&self, case_id: &CaseId, actor: &Actor) -> Result<Vec<Contact>, Error> {
        let pages = PageRequest::first(PageLimit::MAX).walk(|page| self.list(case_id, page, actor)).await?;
        Ok(pages.concat())
    }

    /// The whole audit trail of a case, walking all pages.
    ///
    /// # Errors
    /// As [`ContactRepository::audit_trail`].
    async fn audit_trail_all(&self, case_id: &CaseId, actor: &Actor) -> Result<Vec<AuditEvent>, Error> {
        let pages =
            PageRequest::first(PageLimit::MAX).walk(|page| self.audit_trail(case_id, page, actor)).await?;
        Ok(pages.concat())
    }
}

impl<R: ContactRepository + ?Sized> ContactRepositoryExt for R {}
