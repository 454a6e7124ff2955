//! Privacy over time: what [`purge`](crate::ContactRepository::purge),
//! [`export_person`](crate::ContactRepository::export_person) and
//! [`erase_person`](crate::ContactRepository::erase_person) take and return.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::contact::Contact;
use crate::id::{CaseId, ContactId};

/// What one call of [`purge`](crate::ContactRepository::purge) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    /// How many contacts it erased.
    pub erased: u64,
    /// Whether more contacts may be due: call again until this is `false`.
    pub more: bool,
}

/// One of a person's contacts, with its audit trail: what a person's right of access gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// The contact as stored.
    pub contact: Contact,
    /// Every audit event of the contact, oldest first.
    pub trail: Vec<AuditEvent>,
}

/// A contact, named by its case and id: a selection for
/// [`erase_person`](crate::ContactRepository::erase_person).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContactRef {
    /// The contact's case.
    pub case_id: CaseId,
    /// The contact's id.
    pub id: ContactId,
}

impl ContactRef {
    /// The reference of `contact`.
    #[must_use]
    pub fn of(contact: &Contact) -> Self {
        Self { case_id: contact.case_id.clone(), id: contact.id }
    }
}

impl fmt::Debug for ContactRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactRef({}/{})", self.case_id, self.id)
    }
}
