//! Who may do what: an [`AccessPolicy`] the host implements, asked by [`PolicyRepository`]
//! before any storage is touched.
//!
//! Every operation of a [`ContactRepository`](crate::ContactRepository) names its
//! [`Actor`], and maps to one [`Action`] in one [`Scope`] (a case, or across cases for
//! search). A policy allows or denies it; a denial is [`Error::Denied`](crate::Error::Denied),
//! which names the action and the case, never the actor or any personal data, and stores
//! nothing.
//!
//! Two policies are built in: [`AllowAll`], and [`RoleBasedPolicy`], which allows an action
//! when the actor has a [`Role`] that grants it:
//!
//! | role | actions |
//! |---|---|
//! | [`Role::Reader`] | read contacts and case summaries of a case |
//! | [`Role::Editor`] | create, update and delete contacts |
//! | [`Role::Eraser`] | erase a whole case |
//! | [`Role::Auditor`] | read the audit trail (and follow the change feed) |
//! | [`Role::Searcher`] | search across cases |
//! | [`Role::Privacy`] | export and erase a person across cases (the rights of access and erasure) |
//! | [`Role::Retention`] | purge contacts after the retention period |
//!
//! ```
//! use renraku_core::access::{PolicyRepository, Role, RoleBasedPolicy};
//! use renraku_core::{Actor, CaseId, ContactRepository, Error, NewContact};
//!
//! async fn only_readers_read(store: impl ContactRepository) -> renraku_core::Result<()> {
//!     let repo = PolicyRepository::new(store, RoleBasedPolicy);
//!     let case = CaseId::new("42")?;
//!     let editor = Actor::new("user-1")?.with_roles([Role::Editor]);
//!     let reader = Actor::new("user-2")?.with_roles([Role::Reader]);
//!     let input = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
//!     let contact = repo.create(&case, input, &editor).await?;
//!     assert!(matches!(repo.get(&case, contact.id, &editor).await, Err(Error::Denied { .. })));
//!     assert_eq!(repo.get(&case, contact.id, &reader).await?, contact);
//!     Ok(())
//! }
//! ```

use std::fmt;

use async_trait::async_trait;

use crate::actor::Actor;
use crate::id::CaseId;

mod decorator;
mod role;

pub use decorator::PolicyRepository;
pub use role::{Role, Roles};

/// What an operation does, as a policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Read contacts or the summary of a case (`get`, `list`, `case`).
    Read,
    /// Create contacts (`create`, `create_many`).
    Create,
    /// Update a contact.
    Update,
    /// Delete a contact.
    Delete,
    /// Erase every contact of a case.
    EraseCase,
    /// Read the audit trail of a case, or across cases.
    ReadAudit,
    /// Search across cases.
    Search,
    /// Purge contacts not changed within the retention period, across cases.
    Purge,
    /// Export a person's contacts, with their audit trails, across cases.
    ExportPerson,
    /// Erase a person's contacts across cases.
    ErasePerson,
    /// Follow the change feed: every audit event across cases (`feed`, `wait_for_events`).
    ReadFeed,
}

impl Action {
    /// The action's name: `read`, `create`, `update`, `delete`, `erase_case`,
    /// `read_audit`, `search`, `purge`, `export_person`, `erase_person` or `read_feed`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::EraseCase => "erase_case",
            Self::ReadAudit => "read_audit",
            Self::Search => "search",
            Self::Purge => "purge",
            Self::ExportPerson => "export_person",
            Self::ErasePerson => "erase_person",
            Self::ReadFeed => "read_feed",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action applies: one case, or across cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope<'a> {
    /// The contact data of one case.
    Case(&'a CaseId),
    /// Every case: search, the audit trail of what was done across cases, and the change
    /// feed.
    AcrossCases,
}

impl<'a> Scope<'a> {
    /// The scope of an operation on `case_id`: [`Scope::AcrossCases`] for
    /// [`CaseId::across_cases`], else the case.
    #[must_use]
    pub fn of(case_id: &'a CaseId) -> Self {
        if case_id.is_across_cases() { Self::AcrossCases } else { Self::Case(case_id) }
    }

    /// The case, if the scope is one.
    #[must_use]
    pub const fn case(self) -> Option<&'a CaseId> {
        match self {
            Self::Case(case) => Some(case),
            Self::AcrossCases => None,
        }
    }
}

/// Decides whether an actor may do an action in a scope. The host implements it (from its
/// own roles, assignments of users to cases, …); [`PolicyRepository`] asks it once before
/// every operation, before anything is read or stored.
///
/// A policy answers yes or no; it should not return errors of its own (an unreachable
/// directory is a denial, or the host's to retry). It is `async`, so it may look things up.
///
/// ```
/// use renraku_core::access::{AccessPolicy, Action, Scope};
/// use renraku_core::{Actor, CaseId};
///
/// /// Users may work on the cases assigned to them, and nobody searches.
/// #[derive(Debug)]
/// struct Assigned(std::collections::HashMap<String, Vec<CaseId>>);
///
/// #[renraku_core::async_trait]
/// impl AccessPolicy for Assigned {
///     async fn allows(&self, actor: &Actor, scope: Scope<'_>, _action: Action) -> bool {
///         match scope {
///             Scope::Case(case) => self.0.get(actor.as_str()).is_some_and(|cases| cases.contains(case)),
///             Scope::AcrossCases => false,
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait AccessPolicy: fmt::Debug + Send + Sync {
    /// Whether `actor` may do `action` in `scope`.
    async fn allows(&self, actor: &Actor, scope: Scope<'_>, action: Action) -> bool;
}

/// Allows everything: the behaviour of a repository without a policy, for hosts that
/// decide access elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl AccessPolicy for AllowAll {
    async fn allows(&self, _: &Actor, _: Scope<'_>, _: Action) -> bool {
        true
    }
}

/// Allows an action when the actor has a role that grants it (see the [module
/// docs](self) for the table): the same in every scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleBasedPolicy;

#[async_trait]
impl AccessPolicy for RoleBasedPolicy {
    async fn allows(&self, actor: &Actor, _: Scope<'_>, action: Action) -> bool {
        actor.roles().grants(action)
    }
}

#[async_trait]
impl<P: AccessPolicy + ?Sized> AccessPolicy for std::sync::Arc<P> {
    async fn allows(&self, actor: &Actor, scope: Scope<'_>, action: Action) -> bool {
        (**self).allows(actor, scope, action).await
    }
}

#[async_trait]
impl<P: AccessPolicy + ?Sized> AccessPolicy for &P {
    async fn allows(&self, actor: &Actor, scope: Scope<'_>, action: Action) -> bool {
        (**self).allows(actor, scope, action).await
    }
}
