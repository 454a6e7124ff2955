//! [`Role`]s, and the [`Roles`] an [`Actor`](crate::Actor) carries.

use std::fmt;
use std::str::FromStr;

use super::Action;
use crate::contact::UnknownName;

/// What an actor may do under [`RoleBasedPolicy`](super::RoleBasedPolicy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Reads contacts and case summaries.
    Reader,
    /// Creates, updates and deletes contacts.
    Editor,
    /// Erases whole cases.
    Eraser,
    /// Reads audit trails and follows the change feed.
    Auditor,
    /// Searches across cases.
    Searcher,
    /// Exports and erases a person across cases.
    Privacy,
    /// Purges contacts after the retention period.
    Retention,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 7] = [
        Self::Reader,
        Self::Editor,
        Self::Eraser,
        Self::Auditor,
        Self::Searcher,
        Self::Privacy,
        Self::Retention,
    ];

    /// The role's name: `reader`, `editor`, `eraser`, `auditor`, `searcher`, `privacy` or
    /// `retention`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Editor => "editor",
            Self::Eraser => "eraser",
            Self::Auditor => "auditor",
            Self::Searcher => "searcher",
            Self::Privacy => "privacy",
            Self::Retention => "retention",
        }
    }

    /// Whether the role grants `action`.
    #[must_use]
    pub const fn grants(self, action: Action) -> bool {
        matches!(
            (self, action),
            (Self::Reader, Action::Read)
                | (Self::Editor, Action::Create | Action::Update | Action::Delete)
                | (Self::Eraser, Action::EraseCase)
                | (Self::Auditor, Action::ReadAudit | Action::ReadFeed)
                | (Self::Searcher, Action::Search)
                | (Self::Privacy, Action::ExportPerson | Action::ErasePerson)
                | (Self::Retention, Action::Purge)
        )
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(UnknownName)
    }
}

/// A set of [`Role`]s.
///
/// ```
/// use renraku_core::access::{Role, Roles};
///
/// let roles: Roles = [Role::Reader, Role::Editor].into_iter().collect();
/// assert!(roles.contains(Role::Editor) && !roles.contains(Role::Eraser));
/// assert_eq!(roles.iter().collect::<Vec<_>>(), [Role::Reader, Role::Editor]);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u16);

impl Roles {
    /// No role.
    pub const NONE: Self = Self(0);

    /// Whether the set holds `role`.
    #[must_use]
    pub const fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The set with `role` added.
    #[must_use]
    pub const fn with(self, role: Role) -> Self {
        Self(self.0 | role.bit())
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a role of the set grants `action`.
    ///
    /// ```
    /// use renraku_core::access::{Action, Role, Roles};
    ///
    /// let roles: Roles = [Role::Reader, Role::Searcher].into_iter().collect();
    /// assert!(roles.grants(Action::Search) && !roles.grants(Action::Update));
    /// ```
    #[must_use]
    pub fn grants(self, action: Action) -> bool {
        self.iter().any(|role| role.grants(action))
    }

    /// The roles, in [`Role::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |role| self.contains(*role))
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(roles: I) -> Self {
        roles.into_iter().fold(Self::NONE, Self::with)
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}
