//! [`AuditEvent`]: who changed what, without the values.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::contact::{ContactField, UnknownName};
use crate::id::{AuditEventId, CaseId, ContactId};

/// A record of one change to the contact data of a case (or, with read audit, of one look
/// at it).
///
/// It names the fields that changed, never their values, so it can be kept, logged or sent
/// to an audit sink after the contact data itself is erased. Every mutation of a
/// repository writes its event atomically with the change; a change that changes nothing
/// writes none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The event's id; ids sort by time.
    pub id: AuditEventId,
    /// The case that changed.
    pub case_id: CaseId,
    /// The contact that changed (or was viewed); `None` for an action on a whole case or
    /// across cases.
    pub contact_id: Option<ContactId>,
    /// What happened.
    pub action: AuditAction,
    /// Who did it.
    pub actor: Actor,
    /// The names of the fields that changed, in [`ContactField::ALL`] order: for a create the
    /// fields that were given, for a delete the fields that had a value, for a search the
    /// fields searched by.
    pub changed_fields: Vec<ContactField>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// What an [`AuditEvent`] records.
///
/// ```
/// use renraku_core::AuditAction;
///
/// assert_eq!(AuditAction::CaseErased.as_str(), "case_erased");
/// assert_eq!("updated".parse::<AuditAction>(), Ok(AuditAction::Updated));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A contact was created.
    Created,
    /// A contact was updated.
    Updated,
    /// A contact was deleted.
    Deleted,
    /// All contacts of a case were erased.
    CaseErased,
    /// A contact was read (read audit).
    Viewed,
    /// The contacts of a case were listed (read audit).
    Listed,
    /// Contacts were searched across cases (read audit): the event's case is
    /// [`CaseId::across_cases`](crate::CaseId::across_cases) and its fields name what was
    /// searched by, never the searched value.
    Searched,
    /// A contact was erased because it was not changed within the retention period.
    Purged,
    /// A contact was exported with its audit trail (a person's right of access).
    Exported,
    /// A contact was erased on request, with the other records of the same person (the
    /// right to erasure).
    Erased,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 10] = [
        Self::Created,
        Self::Updated,
        Self::Deleted,
        Self::CaseErased,
        Self::Viewed,
        Self::Listed,
        Self::Searched,
        Self::Purged,
        Self::Exported,
        Self::Erased,
    ];

    /// Whether the action changed contact data (a read, an export, is recorded but changes
    /// nothing): what a [`Case`](crate::Case)'s `last_changed_at` follows.
    ///
    /// ```
    /// use renraku_core::AuditAction;
    ///
    /// assert!(AuditAction::Purged.changes_data());
    /// assert!(!AuditAction::Viewed.changes_data());
    /// ```
    #[must_use]
    pub const fn changes_data(self) -> bool {
        match self {
            Self::Created
            | Self::Updated
            | Self::Deleted
            | Self::CaseErased
            | Self::Purged
            | Self::Erased => true,
            Self::Viewed | Self::Listed | Self::Searched | Self::Exported => false,
        }
    }

    /// The action's name: `created`, `updated`, `deleted`, `case_erased`, `viewed`,
    /// `listed`, `searched`, `purged`, `exported` or `erased`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::CaseErased => "case_erased",
            Self::Viewed => "viewed",
            Self::Listed => "listed",
            Self::Searched => "searched",
            Self::Purged => "purged",
            Self::Exported => "exported",
            Self::Erased => "erased",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or(UnknownName)
    }
}
