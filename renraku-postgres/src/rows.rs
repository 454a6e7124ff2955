//! Rows as they come from the database, and their conversion to the core's types.
//!
//! Columns are read by position, in the order the statements select them (see `sql.rs`):
//! looking columns up by name costs a search per column and row, and pages read many rows.

use renraku_core::{Actor, AuditEvent, AuditEventId, CaseId, Contact, ContactField, ContactId};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row};

use crate::error::PgError;
use crate::sql::LEADING_COLUMNS;

/// A stored value that breaks renraku's rules, named by its column.
fn corrupt<T>(column: &'static str) -> impl FnOnce(T) -> PgError {
    move |_| PgError::Corrupt(column)
}

/// A contact from a row of the contact columns.
pub(crate) fn contact(row: &PgRow) -> Result<Contact, PgError> {
    let first_field = LEADING_COLUMNS.len();
    let after = first_field + ContactField::COUNT;
    let mut values: [Option<String>; ContactField::COUNT] = Default::default();
    for (i, value) in values.iter_mut().enumerate() {
        *value = row.try_get(first_field + i)?;
    }
    let version: i64 = row.try_get(after + 1)?;
    Ok(Contact::from_stored(
        ContactId::from_uuid(row.try_get(1)?),
        CaseId::new(row.try_get::<String, _>(0)?).map_err(corrupt("case_id"))?,
        values,
        row.try_get(after)?,
        u64::try_from(version).map_err(corrupt("version"))?,
        (row.try_get(after + 2)?, row.try_get(after + 3)?),
        (
            Actor::new(row.try_get::<String, _>(after + 4)?).map_err(corrupt("created_by"))?,
            Actor::new(row.try_get::<String, _>(after + 5)?).map_err(corrupt("updated_by"))?,
        ),
    ))
}

/// An audit event from a row of the event columns.
pub(crate) fn event(row: &PgRow) -> Result<AuditEvent, PgError> {
    let changed_fields: Vec<String> = row.try_get(5)?;
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(row.try_get(1)?),
        case_id: event_case(row.try_get::<String, _>(0)?)?,
        contact_id: row.try_get::<Option<uuid::Uuid>, _>(2)?.map(ContactId::from_uuid),
        action: row.try_get::<String, _>(3)?.parse().map_err(corrupt("action"))?,
        actor: Actor::new(row.try_get::<String, _>(4)?).map_err(corrupt("actor"))?,
        changed_fields: changed_fields
            .iter()
            .map(|name| name.parse::<ContactField>())
            .collect::<Result<_, _>>()
            .map_err(corrupt("changed_fields"))?,
        at: row.try_get(6)?,
    })
}

/// The case of an event: a case id, or the pseudo-case of what was done across cases.
fn event_case(stored: String) -> Result<CaseId, PgError> {
    let across = CaseId::across_cases();
    if stored == across.as_str() { Ok(across) } else { CaseId::new(stored).map_err(corrupt("case_id")) }
}

/// The names of changed fields, as stored in `changed_fields text[]`.
pub(crate) fn field_names(fields: &[ContactField]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name()).collect()
}

/// A version as stored (`bigint`).
pub(crate) fn version(v: u64) -> Result<i64, PgError> {
    i64::try_from(v).map_err(|_| PgError::Corrupt("version"))
}

/// Binds the event's id, contact id, action, actor, changed fields and time, in that order.
pub(crate) fn bind_event<'q>(
    query: Query<'q, Postgres, PgArguments>,
    event: &AuditEvent,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(event.id.as_uuid())
        .bind(event.contact_id.map(|id| *id.as_uuid()))
        .bind(event.action.as_str())
        .bind(event.actor.as_str())
        .bind(field_names(&event.changed_fields))
        .bind(event.at)
}

/// Binds events of case `case_id` as arrays, for `UNNEST`: the case, then the ids, contact
/// ids, actions, actors, changed fields (comma-separated) and times.
pub(crate) fn bind_events<'q, 'e>(
    query: Query<'q, Postgres, PgArguments>,
    case_id: &str,
    events: impl Iterator<Item = &'e AuditEvent> + Clone,
) -> Query<'q, Postgres, PgArguments> {
    let column = |f: fn(&AuditEvent) -> String| events.clone().map(f).collect::<Vec<String>>();
    query
        .bind(case_id.to_owned())
        .bind(events.clone().map(|e| *e.id.as_uuid()).collect::<Vec<uuid::Uuid>>())
        .bind(
            events.clone().map(|e| e.contact_id.map(|id| *id.as_uuid())).collect::<Vec<Option<uuid::Uuid>>>(),
        )
        .bind(column(|e| e.action.as_str().to_owned()))
        .bind(column(|e| e.actor.as_str().to_owned()))
        .bind(column(|e| field_names(&e.changed_fields).join(",")))
        .bind(events.map(|e| e.at).collect::<Vec<_>>())
}
