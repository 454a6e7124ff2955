//! Identifiers: the host's [`CaseId`], and renraku's own time-ordered ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::error::{Error, IdKind};

/// The host application's identifier of a case.
///
/// A case id is a string of 1 to 64 characters drawn from ASCII letters, digits and
/// `-`, `_`, `.`, `:`. Integers such as `42` are valid case ids, so ids from a host that
/// numbers its cases work unchanged.
///
/// ```
/// use renraku_core::CaseId;
///
/// let id: CaseId = "42".parse()?;
/// assert_eq!(id.as_str(), "42");
/// assert!("case 42".parse::<CaseId>().is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CaseId(String);

impl CaseId {
    /// The longest case id accepted, in characters.
    pub const MAX_LEN: usize = 64;

    /// Checks `id` and wraps it.
    ///
    /// # Errors
    /// [`Error::InvalidId`] if `id` is empty, longer than [`CaseId::MAX_LEN`], or contains a
    /// character other than ASCII letters, digits, `-`, `_`, `.` and `:`.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
        if id.is_empty() || id.len() > Self::MAX_LEN || !id.chars().all(allowed) {
            return Err(Error::InvalidId { kind: IdKind::Case });
        }
        Ok(Self(id))
    }

    /// The id as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pseudo-case of what is done across cases (searches, with read audit on): its
    /// audit trail holds them. It is `*`, which no case id can be, so it never meets a
    /// host's case; it parses only from serde (audit events carry it), not from text.
    ///
    /// ```
    /// use renraku_core::CaseId;
    ///
    /// assert!(CaseId::across_cases().is_across_cases());
    /// assert!("*".parse::<CaseId>().is_err());
    /// ```
    #[must_use]
    pub fn across_cases() -> Self {
        Self(ACROSS_CASES.to_owned())
    }

    /// Whether this is [`CaseId::across_cases`].
    #[must_use]
    pub fn is_across_cases(&self) -> bool {
        self.0 == ACROSS_CASES
    }
}

/// The text of [`CaseId::across_cases`].
const ACROSS_CASES: &str = "*";

impl FromStr for CaseId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for CaseId {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for CaseId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({:?})", self.0)
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        if id == ACROSS_CASES {
            return Ok(Self::across_cases());
        }
        Self::new(id).map_err(serde::de::Error::custom)
    }
}

/// Defines a newtype over a UUID v7: time-ordered, so ids sort by creation time.
macro_rules! uuid_v7_id {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id for the current time (UUID v7, monotonic within this process).
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, for backends that load ids from storage.
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s).map(Self).map_err(|_| Error::InvalidId { kind: $kind })
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    };
}

uuid_v7_id!(
    /// The identifier of a contact: a UUID v7, so ids sort by creation time.
    ///
    /// ```
    /// use renraku_core::ContactId;
    ///
    /// let id = ContactId::new();
    /// let parsed: ContactId = id.to_string().parse()?;
    /// assert_eq!(id, parsed);
    /// assert!(ContactId::new() > id);
    /// # Ok::<(), renraku_core::Error>(())
    /// ```
    ContactId,
    IdKind::Contact
);

uuid_v7_id!(
    /// The identifier of an [`AuditEvent`](crate::AuditEvent): a UUID v7, so events sort by time.
    ///
    /// ```
    /// use renraku_core::AuditEventId;
    ///
    /// let id = AuditEventId::new();
    /// assert_eq!(id.to_string().parse::<AuditEventId>()?, id);
    /// # Ok::<(), renraku_core::Error>(())
    /// ```
    AuditEventId,
    IdKind::AuditEvent
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_accept_the_documented_alphabet() {
        for ok in ["42", "a", "CASE-2024_07.x:9", &"9".repeat(64)] {
            assert_eq!(CaseId::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn case_ids_reject_everything_else() {
        for bad in ["", " 42", "42 ", "a/b", "ä", "a;b", "<x>", &"9".repeat(65)] {
            let err = CaseId::new(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidId { kind: IdKind::Case }), "{bad:?}");
        }
    }

    #[test]
    fn case_ids_are_plain_strings_in_serde() {
        let id = CaseId::new("42").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""42""#);
        assert_eq!(serde_json::from_str::<CaseId>(r#""42""#).unwrap(), id);
        assert!(serde_json::from_str::<CaseId>(r#""4 2""#).is_err());
    }

    #[test]
    fn contact_ids_round_trip_and_reject_garbage() {
        let id = ContactId::new();
        assert_eq!(id.to_string().parse::<ContactId>().unwrap(), id);
        assert_eq!(id.as_uuid().get_version_num(), 7);
        let err = "not-a-uuid".parse::<ContactId>().unwrap_err();
        assert!(matches!(err, Error::InvalidId { kind: IdKind::Contact }));
    }

    #[test]
    fn contact_ids_are_time_ordered() {
        let ids: Vec<_> = (0..1000).map(|_| ContactId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
