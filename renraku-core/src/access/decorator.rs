//! [`PolicyRepository`]: any repository, behind an access policy.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{AccessPolicy, Action, Scope};
use crate::{
    Actor, AuditEvent, Case, CaseId, Contact, ContactId, ContactPatch, ContactQuery, ContactRef,
    ContactRepository, Error, FeedCursor, FeedPage, NewContact, Page, PageLimit, PageRequest, PersonRecord,
    Purged,
};

/// A [`ContactRepository`] that asks an [`AccessPolicy`] before every operation, then
/// forwards it to the repository it wraps: the policy is asked exactly once, before
/// anything is read or stored, and a denial is [`Error::Denied`].
///
/// | operation | action | scope |
/// |---|---|---|
/// | `create`, `create_many` | [`Action::Create`] | the case |
/// | `get`, `list`, `case` | [`Action::Read`] | the case |
/// | `update` | [`Action::Update`] | the case |
/// | `delete` | [`Action::Delete`] | the case |
/// | `erase_case` | [`Action::EraseCase`] | the case |
/// | `audit_trail` | [`Action::ReadAudit`] | the case, or across cases for [`CaseId::across_cases`] |
/// | `find` | [`Action::Search`] | across cases |
/// | `purge` | [`Action::Purge`] | across cases |
/// | `export_person` | [`Action::ExportPerson`] | across cases |
/// | `erase_person` | [`Action::ErasePerson`] | across cases |
/// | `purge` | [`Action::Purge`] | across cases |
/// | `export_person` | [`Action::ExportPerson`] | across cases |
/// | `erase_person` | [`Action::ErasePerson`] | across cases |
/// | `feed`, `wait_for_events` | [`Action::ReadFeed`] | across cases |
///
/// It is cheap to build around a borrowed repository, so a host can make one per request
/// with that request's policy (the cases a token may see, say). See the
/// [module docs](super) for an example.
#[derive(Debug, Clone)]
pub struct PolicyRepository<R, P> {
    inner: R,
    policy: P,
}

impl<R: ContactRepository, P: AccessPolicy> PolicyRepository<R, P> {
    /// `inner`, asking `policy` before every operation.
    pub fn new(inner: R, policy: P) -> Self {
        Self { inner, policy }
    }

    /// The repository behind the policy.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    async fn check(&self, actor: &Actor, scope: Scope<'_>, action: Action) -> Result<(), Error> {
        if self.policy.allows(actor, scope, action).await {
            Ok(())
        } else {
            Err(Error::denied(action, scope))
        }
    }
}

#[deny(clippy::missing_trait_methods)]
#[async_trait]
impl<R: ContactRepository, P: AccessPolicy> ContactRepository for PolicyRepository<R, P> {
    async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error> {
        self.check(actor, Scope::Case(case_id), Action::Create).await?;
        self.inner.create(case_id, input, actor).await
    }

    async fn create_many(
        &self,
        case_id: &CaseId,
        inputs: Vec<NewContact>,
        actor: &Actor,
    ) -> Result<Vec<Contact>, Error> {
        self.check(actor, Scope::Case(case_id), Action::Create).await?;
        self.inner.create_many(case_id, inputs, actor).await
    }

    async fn get(&self, case_id: &CaseId, id: ContactId, actor: &Actor) -> Result<Contact, Error> {
        self.check(actor, Scope::Case(case_id), Action::Read).await?;
        self.inner.get(case_id, id, actor).await
    }

    async fn list(&self, case_id: &CaseId, page: PageRequest, actor: &Actor) -> Result<Page<Contact>, Error> {
        self.check(actor, Scope::Case(case_id), Action::Read).await?;
        self.inner.list(case_id, page, actor).await
    }

    async fn update(
        &self,
        case_id: &CaseId,
        id: ContactId,
        patch: ContactPatch,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<Contact, Error> {
        self.check(actor, Scope::Case(case_id), Action::Update).await?;
        self.inner.update(case_id, id, patch, expected, actor).await
    }

    async fn delete(
        &self,
        case_id: &CaseId,
        id: ContactId,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<(), Error> {
        self.check(actor, Scope::Case(case_id), Action::Delete).await?;
        self.inner.delete(case_id, id, expected, actor).await
    }

    async fn erase_case(&self, case_id: &CaseId, actor: &Actor) -> Result<u64, Error> {
        self.check(actor, Scope::Case(case_id), Action::EraseCase).await?;
        self.inner.erase_case(case_id, actor).await
    }

    async fn case(&self, case_id: &CaseId, actor: &Actor) -> Result<Case, Error> {
        self.check(actor, Scope::Case(case_id), Action::Read).await?;
        self.inner.case(case_id, actor).await
    }

    async fn audit_trail(
        &self,
        case_id: &CaseId,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<AuditEvent>, Error> {
        self.check(actor, Scope::of(case_id), Action::ReadAudit).await?;
        self.inner.audit_trail(case_id, page, actor).await
    }

    async fn find(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<Contact>, Error> {
        self.check(actor, Scope::AcrossCases, Action::Search).await?;
        self.inner.find(query, page, actor).await
    }

    async fn purge(
        &self,
        changed_before: DateTime<Utc>,
        limit: PageLimit,
        actor: &Actor,
    ) -> Result<Purged, Error> {
        self.check(actor, Scope::AcrossCases, Action::Purge).await?;
        self.inner.purge(changed_before, limit, actor).await
    }

    async fn export_person(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<PersonRecord>, Error> {
        self.check(actor, Scope::AcrossCases, Action::ExportPerson).await?;
        self.inner.export_person(query, page, actor).await
    }

    async fn erase_person(&self, selection: Vec<ContactRef>, actor: &Actor) -> Result<u64, Error> {
        self.check(actor, Scope::AcrossCases, Action::ErasePerson).await?;
        self.inner.erase_person(selection, actor).await
    }

    async fn feed(&self, after: &FeedCursor, limit: PageLimit, actor: &Actor) -> Result<FeedPage, Error> {
        self.check(actor, Scope::AcrossCases, Action::ReadFeed).await?;
        self.inner.feed(after, limit, actor).await
    }

    async fn wait_for_events(
        &self,
        after: &FeedCursor,
        timeout: Duration,
        actor: &Actor,
    ) -> Result<bool, Error> {
        self.check(actor, Scope::AcrossCases, Action::ReadFeed).await?;
        self.inner.wait_for_events(after, timeout, actor).await
    }
}
