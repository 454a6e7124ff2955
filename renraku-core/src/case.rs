//! [`Case`]: the summary of a case.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::CaseId;

/// The summary of a case: how many contacts it has and when it changed.
///
/// A case exists while it has contacts; a repository answers
/// [`Error::NotFound`](crate::Error::NotFound) for a case without any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The case's id.
    pub id: CaseId,
    /// How many contacts the case has (at least one).
    pub contact_count: u64,
    /// When the oldest of its current contacts was created.
    pub first_created_at: DateTime<Utc>,
    /// When contact data of the case last changed (created, updated or deleted).
    pub last_changed_at: DateTime<Utc>,
}
