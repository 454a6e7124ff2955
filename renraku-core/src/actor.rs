//! [`Actor`]: who performs a change.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, IdKind};

/// Who performs a change: the host application's id of its user.
///
/// Every mutation takes an actor, and contacts and audit events record it. An actor id is
/// 1 to 256 characters without control, invisible or text-reordering characters (the text
/// policy of [`validation`](crate::validation)); it should be an opaque user id, not a name
/// or an email address, because audit trails are kept after contact data is erased.
///
/// ```
/// use renraku_core::Actor;
///
/// let actor = Actor::new("user-17")?;
/// assert_eq!(actor.as_str(), "user-17");
/// assert!(Actor::new("").is_err());
/// # Ok::<(), renraku_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Actor(String);

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
        Ok(Self(id))
    }

    /// The actor's id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Actor({:?})", self.0)
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
