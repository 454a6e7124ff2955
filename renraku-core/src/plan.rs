//! The domain logic of every mutation, as plain functions that backends call.
//!
//! A backend validates and plans with these functions, then stores what they return: the
//! new state of the contact and its [`AuditEvent`], atomically. It never decides versions,
//! timestamps, changed fields or audit contents itself, so every backend behaves the same.
//!
//! ```
//! use renraku_core::{plan, Actor, CaseId, ContactField, ContactPatch, NewContact, Rules};
//!
//! let rules = Rules::default();
//! let case = CaseId::new("42")?;
//! let clerk = Actor::new("clerk-7")?;
//!
//! let created = plan::create(&rules, &case, NewContact {
//!     first_name: Some("Ada".into()),
//!     ..NewContact::default()
//! }, &clerk)?;
//! assert_eq!(created.contact.version, 1);
//!
//! let patch = rules.check_patch(ContactPatch::default().set(ContactField::LastName, "Lovelace"))?;
//! let updated = plan::update(&created.contact, &patch, Some(1), &clerk)?.expect("a real change");
//! assert_eq!(updated.contact.version, 2);
//! assert_eq!(updated.event.changed_fields, [ContactField::LastName]);
//!
//! // The same patch again changes nothing: no new version, no audit event.
//! assert!(plan::update(&updated.contact, &patch, None, &clerk)?.is_none());
//! # Ok::<(), renraku_core::Error>(())
//! ```

use chrono::{DateTime, SubsecRound, Utc};

use crate::actor::Actor;
use crate::audit::{AuditAction, AuditEvent};
use crate::contact::{Contact, ContactField, FieldPatch, NewContact};
use crate::error::Error;
use crate::id::{AuditEventId, CaseId, ContactId};
use crate::search::{SearchKey, SearchKeys};
use crate::validation::{
    CheckedPatch, ContactDraft, FieldError, Rules, ValidationErrors, code, empty_contact,
};

/// A contact's new state, the keys it is found by, and the audit event that records the
/// change: store all three, in one atomic step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChange {
    /// The contact as it must be stored.
    pub contact: Contact,
    /// The search keys of the new state, to store beside it.
    pub keys: SearchKeys,
    /// The event to store with it.
    pub event: AuditEvent,
}

impl ContactChange {
    fn new(contact: Contact, event: AuditEvent) -> Self {
        Self { keys: SearchKeys::of(&contact), contact, event }
    }
}

/// The current time, truncated to microseconds: the precision every backend can store, so
/// that a contact reads back exactly as it was written.
#[must_use]
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Validates `input` and builds the contact to store in `case_id`, at version 1.
///
/// # Errors
/// [`Error::Validation`] listing every broken rule.
pub fn create(
    rules: &Rules,
    case_id: &CaseId,
    input: NewContact,
    actor: &Actor,
) -> Result<ContactChange, Error> {
    let draft = rules.check_new(input)?;
    Ok(create_from_draft(case_id, draft, actor, now()))
}

/// Validates every input and builds the contacts to store in `case_id`; one invalid input
/// fails the whole batch, and the error lists every invalid input by its index.
///
/// # Errors
/// [`Error::Validation`] with [`FieldError::index`](crate::FieldError::index) set.
pub fn create_many(
    rules: &Rules,
    case_id: &CaseId,
    inputs: Vec<NewContact>,
    actor: &Actor,
) -> Result<Vec<ContactChange>, Error> {
    let at = now();
    let mut changes = Vec::with_capacity(inputs.len());
    let mut errors = ValidationErrors::default();
    for (index, input) in inputs.into_iter().enumerate() {
        match rules.check_new(input) {
            Ok(draft) => changes.push(create_from_draft(case_id, draft, actor, at)),
            Err(Error::Validation(row)) => errors.extend_at(index, row),
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() { Ok(changes) } else { Err(errors.into()) }
}

fn create_from_draft(
    case_id: &CaseId,
    draft: ContactDraft,
    actor: &Actor,
    at: DateTime<Utc>,
) -> ContactChange {
    let ContactDraft { values, phone_e164 } = draft;
    let contact = Contact::first_version(ContactId::new(), case_id.clone(), values, phone_e164, at, actor);
    let changed = contact.present_fields().collect();
    let event = event(&contact.case_id, Some(contact.id), AuditAction::Created, actor, changed, at);
    ContactChange::new(contact, event)
}

/// Fails with [`Error::Conflict`] unless `expected` is `None` or the current version.
///
/// # Errors
/// [`Error::Conflict`] with both versions.
pub fn check_version(current: &Contact, expected: Option<u64>) -> Result<(), Error> {
    match expected {
        Some(v) if v != current.version => Err(Error::Conflict { expected, current: current.version }),
        _ => Ok(()),
    }
}

/// Applies a checked patch to the current state of a contact.
///
/// Returns `None` when nothing would change (no new version, no audit event). The version
/// grows by one for a real change.
///
/// # Errors
/// [`Error::Conflict`] if `expected` is stale; [`Error::Validation`] if the result would have
/// no one to contact, or if the contact is at version `u64::MAX` (field `version`, code
/// `range`).
pub fn update(
    current: &Contact,
    patch: &CheckedPatch,
    expected: Option<u64>,
    actor: &Actor,
) -> Result<Option<ContactChange>, Error> {
    check_version(current, expected)?;
    let mut next = current.clone();
    let mut changed = Vec::new();
    for field in ContactField::ALL {
        let value = match patch.field(field) {
            FieldPatch::Keep => continue,
            FieldPatch::Set(value) => Some(value.clone()),
            FieldPatch::Clear => None,
        };
        if current.field(field) != value.as_deref() {
            changed.push(field);
            *next.field_mut(field) = value;
        }
    }
    if changed.is_empty() {
        return Ok(None);
    }
    if changed.contains(&ContactField::Phone) {
        next.phone_e164 = next.phone.as_ref().and(patch.phone_e164.clone());
    }
    if !ContactField::REACHABLE.into_iter().any(|f| next.field(f).is_some()) {
        return Err(ValidationErrors::from(empty_contact()).into());
    }
    let at = now();
    // Only a contact built or deserialized by hand can be at the last version; a checked
    // increment keeps it from wrapping to 0 (or panicking in a debug build).
    next.version = current.version.checked_add(1).ok_or_else(|| {
        Error::from(ValidationErrors::from(FieldError::new(
            "version",
            code::RANGE,
            "the contact is at the last version there is and cannot change",
        )))
    })?;
    next.updated_at = at;
    next.updated_by = actor.as_recorded();
    let event = event(&next.case_id, Some(next.id), AuditAction::Updated, actor, changed, at);
    Ok(Some(ContactChange::new(next, event)))
}

/// Checks a delete of the current state of a contact and builds its audit event, which
/// names the fields that had a value.
///
/// # Errors
/// [`Error::Conflict`] if `expected` is stale.
pub fn delete(current: &Contact, expected: Option<u64>, actor: &Actor) -> Result<AuditEvent, Error> {
    check_version(current, expected)?;
    Ok(removal(current, AuditAction::Deleted, actor))
}

/// The audit event of purging a contact after the retention period: like a delete, it
/// names the fields that had a value.
#[must_use]
pub fn purged(current: &Contact, actor: &Actor) -> AuditEvent {
    removal(current, AuditAction::Purged, actor)
}

/// The audit event of erasing a contact on request (the right to erasure).
#[must_use]
pub fn erased(current: &Contact, actor: &Actor) -> AuditEvent {
    removal(current, AuditAction::Erased, actor)
}

/// The audit event of exporting a contact with its trail (the right of access).
#[must_use]
pub fn exported(contact: &Contact, actor: &Actor) -> AuditEvent {
    removal(contact, AuditAction::Exported, actor)
}

fn removal(current: &Contact, action: AuditAction, actor: &Actor) -> AuditEvent {
    let fields = current.present_fields().collect();
    event(&current.case_id, Some(current.id), action, actor, fields, now())
}

/// The audit event of erasing `erased` contacts of a case; `None` when there was nothing to
/// erase, because a change that changes nothing is not recorded.
#[must_use]
pub fn erase(case_id: &CaseId, erased: u64, actor: &Actor) -> Option<AuditEvent> {
    (erased > 0).then(|| event(case_id, None, AuditAction::CaseErased, actor, Vec::new(), now()))
}

/// The read-audit event of viewing a contact.
#[must_use]
pub fn viewed(case_id: &CaseId, id: ContactId, actor: &Actor) -> AuditEvent {
    event(case_id, Some(id), AuditAction::Viewed, actor, Vec::new(), now())
}

/// The read-audit event of listing the contacts of a case.
#[must_use]
pub fn listed(case_id: &CaseId, actor: &Actor) -> AuditEvent {
    event(case_id, None, AuditAction::Listed, actor, Vec::new(), now())
}

/// The read-audit event of a search across cases: in the trail of
/// [`CaseId::across_cases`], naming the fields searched by, never the searched value.
#[must_use]
pub fn searched(key: &SearchKey, actor: &Actor) -> AuditEvent {
    let fields = match key {
        SearchKey::Phone(_) => vec![ContactField::Phone],
        SearchKey::Email(_) => vec![ContactField::Email],
        SearchKey::NamePrefix(_) => vec![ContactField::FirstName, ContactField::LastName],
    };
    event(&CaseId::across_cases(), None, AuditAction::Searched, actor, fields, now())
}

fn event(
    case_id: &CaseId,
    contact_id: Option<ContactId>,
    action: AuditAction,
    actor: &Actor,
    changed_fields: Vec<ContactField>,
    at: DateTime<Utc>,
) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        case_id: case_id.clone(),
        contact_id,
        action,
        actor: actor.as_recorded(),
        changed_fields,
        at,
    }
}
