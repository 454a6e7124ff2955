//! The one error type of renraku.

use std::fmt;

use crate::id::{CaseId, ContactId};
use crate::validation::ValidationErrors;

/// A boxed error from a storage backend, kept as the source of [`Error::Backend`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A `Result` with renraku's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in renraku.
///
/// The variants are semantic, so a host can map them to its own answers (a web server to
/// 422, 404, 409, 400 and 503) without looking at backend details. Messages never contain
/// personal data: they name fields, ids and versions, never the values that were entered.
///
/// ```
/// use renraku_core::{Error, NewContact, Rules};
///
/// let err = Rules::default().check_new(NewContact::default()).unwrap_err();
/// assert!(matches!(err, Error::Validation(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input broke one or more validation rules; every broken rule is listed.
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),

    /// The case has no contacts, or the contact is not in that case.
    #[error("{}", not_found_message(case_id, contact_id.as_ref()))]
    NotFound {
        /// The case that was asked for.
        case_id: CaseId,
        /// The contact that was asked for, if the request named one.
        contact_id: Option<ContactId>,
    },

    /// The contact changed since the caller read it: the expected version is stale, or
    /// concurrent writers kept winning until the backend gave up.
    #[error("version conflict: the contact is at version {current}{}", expected_suffix(*expected))]
    Conflict {
        /// The version the caller expected, if it gave one.
        expected: Option<u64>,
        /// The version the contact has now.
        current: u64,
    },

    /// The repository's [`AccessPolicy`](crate::access::AccessPolicy) does not allow the
    /// actor this action here. Nothing was read or stored.
    #[error("{action} is not allowed {}", scope_phrase(case_id.as_ref()))]
    Denied {
        /// What the actor tried to do.
        action: crate::access::Action,
        /// The case, or `None` for an action across cases.
        case_id: Option<CaseId>,
    },

    /// A string that should have been an identifier (or a page cursor) is not one.
    #[error("invalid {kind}")]
    InvalidId {
        /// What kind of identifier was malformed.
        kind: IdKind,
    },

    /// A well-formed [`FeedCursor`](crate::FeedCursor) that this repository's feed did not
    /// hand out: it names no event of the feed (a cursor of another repository, schema or
    /// backend, or a made-up one). [`FeedCursor::START`](crate::FeedCursor::START) is never
    /// unknown.
    #[error("the feed cursor names no event of this feed")]
    UnknownCursor,

    /// The storage backend failed: the database is unreachable, timed out, or broke.
    ///
    /// The source error is kept for logging and debugging; it is the backend's own error.
    #[error("the {backend} backend failed")]
    Backend {
        /// The name of the backend, such as `"postgres"`.
        backend: &'static str,
        /// What went wrong, as the backend reported it.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// Wraps a backend's own error.
    pub fn backend(backend: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Backend { backend, source: source.into() }
    }

    /// The [`Error::NotFound`] for a contact in a case.
    #[must_use]
    pub fn contact_not_found(case_id: &CaseId, contact_id: ContactId) -> Self {
        Self::NotFound { case_id: case_id.clone(), contact_id: Some(contact_id) }
    }

    /// The [`Error::Denied`] for `action` in `scope`.
    #[must_use]
    pub fn denied(action: crate::access::Action, scope: crate::access::Scope<'_>) -> Self {
        Self::Denied { action, case_id: scope.case().cloned() }
    }

    /// The [`Error::NotFound`] for a case without contacts.
    #[must_use]
    pub fn case_not_found(case_id: &CaseId) -> Self {
        Self::NotFound { case_id: case_id.clone(), contact_id: None }
    }

    /// The validation errors, if this is an [`Error::Validation`].
    #[must_use]
    pub fn validation_errors(&self) -> Option<&ValidationErrors> {
        match self {
            Self::Validation(errors) => Some(errors),
            _ => None,
        }
    }
}

impl From<ValidationErrors> for Error {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

fn not_found_message(case_id: &CaseId, contact_id: Option<&ContactId>) -> String {
    match contact_id {
        Some(id) => format!("contact {id} not found in case {case_id}"),
        None => format!("no contact data found for case {case_id}"),
    }
}

fn scope_phrase(case_id: Option<&CaseId>) -> String {
    match case_id {
        Some(case) => format!("in case {case}"),
        None => "across cases".to_owned(),
    }
}

fn expected_suffix(expected: Option<u64>) -> String {
    expected.map(|v| format!(", not {v}")).unwrap_or_default()
}

/// The kinds of identifier that [`Error::InvalidId`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdKind {
    /// A [`CaseId`].
    Case,
    /// A [`ContactId`].
    Contact,
    /// An [`AuditEventId`](crate::AuditEventId).
    AuditEvent,
    /// A page [`Cursor`](crate::Cursor).
    Cursor,
    /// An [`Actor`](crate::Actor).
    Actor,
    /// A change feed [`FeedCursor`](crate::FeedCursor).
    FeedCursor,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Case => "case id",
            Self::Contact => "contact id",
            Self::AuditEvent => "audit event id",
            Self::Cursor => "page cursor",
            Self::Actor => "actor id",
            Self::FeedCursor => "feed cursor",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_ids_and_versions() {
        let case = CaseId::new("42").unwrap();
        let id = ContactId::new();
        assert_eq!(
            Error::contact_not_found(&case, id).to_string(),
            format!("contact {id} not found in case 42")
        );
        assert_eq!(Error::case_not_found(&case).to_string(), "no contact data found for case 42");
        let conflict = Error::Conflict { expected: Some(2), current: 3 };
        assert_eq!(conflict.to_string(), "version conflict: the contact is at version 3, not 2");
        let conflict = Error::Conflict { expected: None, current: 3 };
        assert_eq!(conflict.to_string(), "version conflict: the contact is at version 3");
        assert_eq!(Error::InvalidId { kind: IdKind::Cursor }.to_string(), "invalid page cursor");
    }

    #[test]
    fn backend_errors_keep_their_source() {
        let err = Error::backend("test", std::io::Error::other("disk on fire"));
        assert_eq!(err.to_string(), "the test backend failed");
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), "disk on fire");
    }
}
