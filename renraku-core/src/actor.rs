//! [`Actor`]: who performs a change.

use std::fmt;

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::access::{Role, Roles};
use crate::error::{Error, IdKind};

/// Who acts: the host application's id of its user, and the [`Role`]s the host grants it.
///
/// Every operation takes an actor; contacts and audit events record its id. The roles are
/// for an [`AccessPolicy`](crate::access::AccessPolicy) such as
/// [`RoleBasedPolicy`](crate::access::RoleBasedPolicy): they are never stored, and two
/// actors with the same id are equal whatever their roles. An actor id is
/// 1 to 256 characters without control, invisible or text-reordering characters (the text
/// policy of [`validation`](crate::validation)); it should be an opaque user id, not a name
/// or an email address, because audit trails are kept after contact data is erased.
///
/// ```
/// use renraku_core::Actor;
///
/// use renraku_core::access::Role;
///
/// let actor = Actor::new("user-17")?.with_roles([Role::Reader, Role::Editor]);
/// assert_eq!(actor.as_str(), "user-17");
/// assert!(actor.roles().contains(Role::Editor));
/// assert_eq!(actor, Actor::new("user-17")?, "the same person");
/// assert!(Actor::new("").is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Actor {
    id: String,
    roles: Roles,
}

impl Actor {
    /// The longest actor id accepted, in characters.
    pub const MAX_LEN: usize = 256;

    /// Checks `id` and wraps it.
    ///
    /// # Errors
    /// [`Error::InvalidId`] if `id` is blank, longer than [`Actor::MAX_LEN`] characters, or
    /// contains a control character.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let blank = id.trim().is_empty();
        let policy = crate::validation::check_text(&id);
        if blank || id.chars().count() > Self::MAX_LEN || policy.is_err() {
            return Err(Error::InvalidId { kind: IdKind::Actor });
        }
        Ok(Self { id, roles: Roles::NONE })
    }

    /// The actor with `roles` (replacing any it had).
    #[must_use]
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// The actor's id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The roles the host granted the actor.
    #[must_use]
    pub fn roles(&self) -> Roles {
        self.roles
    }

    /// The actor as records keep it: the id, without roles.
    #[must_use]
    pub fn as_recorded(&self) -> Self {
        Self { id: self.id.clone(), roles: Roles::NONE }
    }
}

impl PartialEq for Actor {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Actor {}

impl PartialOrd for Actor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Actor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id.cmp(&other.id)
    }
}

impl Hash for Actor {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.roles.is_empty() {
            write!(f, "Actor({:?})", self.id)
        } else {
            write!(f, "Actor({:?}, {:?})", self.id, self.roles)
        }
    }
}

/// The id only: roles are never stored.
impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_checked() {
        assert!(Actor::new("42").is_ok());
        assert!(Actor::new("a".repeat(256)).is_ok());
        for bad in [
            String::new(),
            "  ".into(),
            "a\nb".into(),
            "a".repeat(257),
            "a\u{202E}b".into(),
            "\u{200B}".into(),
        ] {
            assert!(matches!(Actor::new(bad), Err(Error::InvalidId { kind: IdKind::Actor })));
        }
        assert!(serde_json::from_str::<Actor>(r#""""#).is_err());
    }
}
