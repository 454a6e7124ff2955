//! Rows as they come from the database, and their conversion to the core's types.

use chrono::{DateTime, Utc};
use renraku_core::{Actor, AuditEvent, AuditEventId, CaseId, Contact, ContactField, ContactId};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};
use uuid::Uuid;

use crate::error::PgError;

/// A contact row, in the column order of `CONTACT_COLUMNS`.
pub(crate) struct ContactRow {
    case_id: String,
    id: Uuid,
    title: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    phone_e164: Option<String>,
    email: Option<String>,
    address: Option<String>,
    relationship: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    created_by: String,
    updated_by: String,
}

// Rows are read by position, in the order the statements select them: looking columns up
// by name costs a search per column and row, and listing pages read many rows.
impl<'r> FromRow<'r, PgRow> for ContactRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            case_id: row.try_get(0)?,
            id: row.try_get(1)?,
            title: row.try_get(2)?,
            first_name: row.try_get(3)?,
            last_name: row.try_get(4)?,
            phone: row.try_get(5)?,
            phone_e164: row.try_get(6)?,
            email: row.try_get(7)?,
            address: row.try_get(8)?,
            relationship: row.try_get(9)?,
            version: row.try_get(10)?,
            created_at: row.try_get(11)?,
            updated_at: row.try_get(12)?,
            created_by: row.try_get(13)?,
            updated_by: row.try_get(14)?,
        })
    }
}

impl<'r> FromRow<'r, PgRow> for EventRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            case_id: row.try_get(0)?,
            id: row.try_get(1)?,
            contact_id: row.try_get(2)?,
            action: row.try_get(3)?,
            actor: row.try_get(4)?,
            changed_fields: row.try_get(5)?,
            at: row.try_get(6)?,
        })
    }
}

impl TryFrom<ContactRow> for Contact {
    type Error = PgError;

    fn try_from(row: ContactRow) -> Result<Self, PgError> {
        Ok(Contact {
            id: ContactId::from_uuid(row.id),
            case_id: CaseId::new(row.case_id).map_err(|_| PgError::Corrupt("case_id"))?,
            title: row.title,
            first_name: row.first_name,
            last_name: row.last_name,
            phone: row.phone,
            phone_e164: row.phone_e164,
            email: row.email,
            address: row.address,
            relationship: row.relationship,
            version: u64::try_from(row.version).map_err(|_| PgError::Corrupt("version"))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            created_by: Actor::new(row.created_by).map_err(|_| PgError::Corrupt("created_by"))?,
            updated_by: Actor::new(row.updated_by).map_err(|_| PgError::Corrupt("updated_by"))?,
        })
    }
}

/// An audit event row, in the column order of `EVENT_COLUMNS`.
pub(crate) struct EventRow {
    case_id: String,
    id: Uuid,
    contact_id: Option<Uuid>,
    action: String,
    actor: String,
    changed_fields: Vec<String>,
    at: DateTime<Utc>,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = PgError;

    fn try_from(row: EventRow) -> Result<Self, PgError> {
        let changed_fields = row
            .changed_fields
            .iter()
            .map(|name| name.parse::<ContactField>())
            .collect::<Result<_, _>>()
            .map_err(|_| PgError::Corrupt("changed_fields"))?;
        Ok(AuditEvent {
            id: AuditEventId::from_uuid(row.id),
            case_id: CaseId::new(row.case_id).map_err(|_| PgError::Corrupt("case_id"))?,
            contact_id: row.contact_id.map(ContactId::from_uuid),
            action: row.action.parse().map_err(|_| PgError::Corrupt("action"))?,
            actor: Actor::new(row.actor).map_err(|_| PgError::Corrupt("actor"))?,
            changed_fields,
            at: row.at,
        })
    }
}

/// The names of changed fields, as stored in `changed_fields text[]`.
pub(crate) fn field_names(fields: &[ContactField]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name()).collect()
}

/// The case-folded search keys stored beside a contact.
pub(crate) struct SearchKeys {
    pub(crate) email: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
}

impl SearchKeys {
    pub(crate) fn of(contact: &Contact) -> Self {
        use renraku_core::validation::fold_case;
        Self {
            email: contact.email.as_deref().map(fold_case),
            first_name: contact.first_name.as_deref().map(fold_case),
            last_name: contact.last_name.as_deref().map(fold_case),
        }
    }
}

/// A version as stored (`bigint`).
pub(crate) fn version(v: u64) -> Result<i64, PgError> {
    i64::try_from(v).map_err(|_| PgError::Corrupt("version"))
}
