//! The SQL of every operation, built once per repository for its schema.

use std::time::Duration;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// The columns of a contact, in the order [`ContactRow`](crate::rows::ContactRow) reads them.
const CONTACT_COLUMNS: &str = "case_id, id, title, first_name, last_name, phone, phone_e164, email, address, \
     relationship, version, created_at, updated_at, created_by, updated_by";

/// The columns of an audit event, in the order [`EventRow`](crate::rows::EventRow) reads them.
const EVENT_COLUMNS: &str = "case_id, id, contact_id, action, actor, changed_fields, at";

/// Statements with the schema written in. Every one filters by `case_id` except the three
/// cross-case searches.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// `BEGIN` with this repository's statement timeout, in one round trip.
    pub(crate) begin: SqlStr,
    pub(crate) insert_contacts: SqlStr,
    pub(crate) select_contact: SqlStr,
    pub(crate) list_contacts: SqlStr,
    pub(crate) update_contact: SqlStr,
    pub(crate) delete_contact: SqlStr,
    pub(crate) erase_case: SqlStr,
    pub(crate) insert_event: SqlStr,
    pub(crate) case_summary: SqlStr,
    pub(crate) list_events: SqlStr,
    pub(crate) find_by_phone: SqlStr,
    pub(crate) find_by_email: SqlStr,
    pub(crate) find_by_name: SqlStr,
}

impl Statements {
    /// `schema` must already be a checked identifier; it is quoted here.
    pub(crate) fn new(schema: &str, statement_timeout: Duration) -> Self {
        let s = format!("\"{schema}\"");
        let sql = |text: String| AssertSqlSafe(text).into_sql_str();
        Self {
            begin: sql(format!(
                "BEGIN; SET LOCAL statement_timeout = {}",
                statement_timeout.as_millis().max(1)
            )),
            // One statement stores a batch of contacts and their `created` events: arrays
            // in, `UNNEST` to rows. A data-modifying CTE always runs to completion.
            insert_contacts: sql(format!(
                "WITH stored AS (
                    INSERT INTO {s}.contacts (case_id, id, title, first_name, last_name, phone, phone_e164,
                        email, address, relationship, email_key, first_name_key, last_name_key, version,
                        created_at, updated_at, created_by, updated_by)
                    SELECT $1::text, c.id, c.title, c.first_name, c.last_name, c.phone, c.phone_e164, c.email,
                        c.address, c.relationship, c.email_key, c.first_name_key, c.last_name_key, 1,
                        c.at, c.at, $2::text, $2::text
                    FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                        $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                        $15::timestamptz[])
                        AS c(id, title, first_name, last_name, phone, phone_e164, email, address,
                            relationship, email_key, first_name_key, last_name_key, at)
                )
                INSERT INTO {s}.audit_events ({EVENT_COLUMNS})
                SELECT $1::text, e.id, e.contact_id, 'created', $2::text, string_to_array(e.fields, ','), e.at
                FROM UNNEST($16::uuid[], $3::uuid[], $17::text[], $15::timestamptz[])
                    AS e(id, contact_id, fields, at)"
            )),
            select_contact: sql(format!(
                "SELECT {CONTACT_COLUMNS} FROM {s}.contacts WHERE case_id = $1 AND id = $2"
            )),
            // The nil UUID sorts first, so `id > $2` with it is the first page.
            list_contacts: sql(format!(
                "SELECT {CONTACT_COLUMNS} FROM {s}.contacts
                WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3"
            )),
            // The version is checked in the statement: a concurrent change makes it match
            // no row, and the event is written only if the row was.
            update_contact: sql(format!(
                "WITH changed AS (
                    UPDATE {s}.contacts SET title = $4, first_name = $5, last_name = $6, phone = $7,
                        phone_e164 = $8, email = $9, address = $10, relationship = $11, email_key = $12,
                        first_name_key = $13, last_name_key = $14, version = $15, updated_at = $16,
                        updated_by = $17
                    WHERE case_id = $1 AND id = $2 AND version = $3
                    RETURNING id
                )
                INSERT INTO {s}.audit_events ({EVENT_COLUMNS})
                SELECT $1, $18, id, 'updated', $17, $19, $16 FROM changed"
            )),
            delete_contact: sql(format!(
                "WITH gone AS (
                    DELETE FROM {s}.contacts WHERE case_id = $1 AND id = $2 AND version = $3 RETURNING id
                )
                INSERT INTO {s}.audit_events ({EVENT_COLUMNS})
                SELECT $1, $4, id, 'deleted', $5, $6, $7 FROM gone"
            )),
            erase_case: sql(format!("DELETE FROM {s}.contacts WHERE case_id = $1")),
            insert_event: sql(format!(
                "INSERT INTO {s}.audit_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )),
            case_summary: sql(format!(
                "SELECT count(*), min(created_at),
                    (SELECT max(at) FROM {s}.audit_events WHERE case_id = $1)
                FROM {s}.contacts WHERE case_id = $1"
            )),
            list_events: sql(format!(
                "SELECT {EVENT_COLUMNS} FROM {s}.audit_events
                WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3"
            )),
            find_by_phone: sql(format!(
                "SELECT {CONTACT_COLUMNS} FROM {s}.contacts
                WHERE phone_e164 = $1 AND id > $2 ORDER BY id LIMIT $3"
            )),
            find_by_email: sql(format!(
                "SELECT {CONTACT_COLUMNS} FROM {s}.contacts
                WHERE email_key = $1 AND id > $2 ORDER BY id LIMIT $3"
            )),
            // A prefix as a range [prefix, successor): both ends are index bounds in "C" order.
            find_by_name: sql(format!(
                "SELECT {CONTACT_COLUMNS} FROM {s}.contacts
                WHERE ((first_name_key >= $1 AND first_name_key < $2)
                    OR (last_name_key >= $1 AND last_name_key < $2))
                    AND id > $3
                ORDER BY id LIMIT $4"
            )),
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`, in code point
/// (= UTF-8 byte = `COLLATE "C"`) order; `None` if there is none.
pub(crate) fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_bounds_exactly_the_strings_with_the_prefix() {
        assert_eq!(prefix_successor("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_successor("a\u{d7ff}").as_deref(), Some("a\u{e000}"), "skips surrogates");
        assert_eq!(prefix_successor("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{10ffff}"), None);
        let upper = prefix_successor("ng").unwrap();
        for inside in ["ng", "nguyễn", "ng\u{10ffff}"] {
            assert!(inside >= "ng" && inside < upper.as_str(), "{inside}");
        }
        for outside in ["nf", "nh", "n"] {
            assert!(!(outside >= "ng" && outside < upper.as_str()), "{outside}");
        }
    }
}
