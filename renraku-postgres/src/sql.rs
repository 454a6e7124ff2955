//! The SQL of every operation, built once per repository for its schema.
//!
//! Column lists come from [`ContactField::ALL`]: a contact field's column is named after
//! the field, so a new field needs a migration and nothing here.

use std::time::Duration;

use renraku_core::{AuditAction, ContactField};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

/// The columns of a contact before its fields, in the order
/// [`ContactRow`](crate::rows::ContactRow) reads them.
pub(crate) const LEADING_COLUMNS: [&str; 2] = ["case_id", "id"];

/// The columns of a contact after its fields.
pub(crate) const TRAILING_COLUMNS: [&str; 6] =
    ["phone_e164", "version", "created_at", "updated_at", "created_by", "updated_by"];

/// The case-folded search keys stored beside a contact (its E.164 phone is the phone key).
const KEY_COLUMNS: [&str; 3] = ["email_key", "first_name_key", "last_name_key"];

/// The columns of an audit event, in the order [`EventRow`](crate::rows::EventRow) reads them.
const EVENT_COLUMNS: &str = "case_id, id, contact_id, action, actor, changed_fields, at";

/// Every column a contact is read from, in [`ContactRow`](crate::rows::ContactRow) order.
fn contact_columns() -> String {
    let fields = ContactField::ALL.map(ContactField::name);
    [&LEADING_COLUMNS[..], &fields[..], &TRAILING_COLUMNS[..]].concat().join(", ")
}

/// `$first, $first+1, …`: `count` parameters.
fn params(first: usize, count: usize) -> Vec<String> {
    (first..first + count).map(|n| format!("${n}")).collect()
}

/// Statements with the schema written in. Every one filters by `case_id` except the three
/// cross-case searches.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// `BEGIN` with this repository's statement timeout, in one round trip.
    pub(crate) begin: SqlStr,
    pub(crate) insert_contacts: SqlStr,
    /// One new contact and its event in one statement: a single create's row as values,
    /// not through the arrays of `insert_contacts`, which cost the server more per row.
    pub(crate) insert_contact: SqlStr,
    /// The writes without their audit row, for a repository whose tables Citus distributes
    /// (see `writes.rs`): each is followed by `insert_event`.
    pub(crate) insert_contact_row: SqlStr,
    pub(crate) update_contact_row: SqlStr,
    pub(crate) delete_contact_row: SqlStr,
    pub(crate) select_contact: Read,
    /// The current state of a contact, locked until the transaction ends.
    pub(crate) lock_contact: SqlStr,
    /// A page of contacts in key order, after `($1, $2)` (from the start when both are
    /// null), for recomputing their search keys.
    pub(crate) rekey_page: SqlStr,
    pub(crate) rekey_contact: SqlStr,
    /// Up to `$2` contacts unchanged since `$1`, oldest first: candidates for a purge.
    pub(crate) purge_candidates: SqlStr,
    /// The contacts `$2` of case `$1` still unchanged since `$3`, locked; rows locked by
    /// another transaction (a concurrent purge or update) are skipped.
    pub(crate) lock_due: SqlStr,
    /// The contacts `$2` of case `$1`, locked.
    pub(crate) lock_selected: SqlStr,
    pub(crate) delete_selected: SqlStr,
    /// Audit events of case `$1`, from arrays: ids, contact ids, actions, actors, changed
    /// fields (comma-separated) and times.
    pub(crate) insert_events: SqlStr,
    /// The audit trails of the contacts `$2` of case `$1`, oldest first.
    pub(crate) trails: SqlStr,
    pub(crate) list_contacts: Read,
    pub(crate) update_contact: SqlStr,
    pub(crate) delete_contact: SqlStr,
    pub(crate) erase_case: SqlStr,
    pub(crate) insert_event: SqlStr,
    pub(crate) case_summary: SqlStr,
    pub(crate) list_events: SqlStr,
    pub(crate) find_by_phone: Read,
    pub(crate) find_by_email: Read,
    pub(crate) find_by_name: Read,
    /// The change feed, read from `audit_events` on one server and from `_renraku_feed` on
    /// Citus (see `feed.rs`): `[one server, distributed]`.
    pub(crate) feed_page: [SqlStr; 2],
    /// Whether events after a position are readable now, and whether there are any (some
    /// behind a transaction still running): `[one server, distributed]`.
    pub(crate) feed_pending: [SqlStr; 2],
    /// An event's row in `_renraku_feed` (Citus), bound like `insert_event`.
    pub(crate) insert_feed_event: SqlStr,
    /// The rows in `_renraku_feed` of a bulk create's events (Citus), from arrays.
    pub(crate) insert_feed_events: SqlStr,
    /// The channel that writes notify and the feed's listener listens on.
    pub(crate) feed_channel: String,
}

/// A read, and the same read that also records its audit event (read audit), in one
/// statement: a data-modifying CTE runs whatever the main query returns.
#[derive(Debug, Clone)]
pub(crate) struct Read {
    plain: SqlStr,
    audited: SqlStr,
    /// The audited read that also notifies the feed's followers (one server only: on Citus
    /// the `RETURNING` runs on a worker, which cannot then prepare its transaction).
    audited_notifying: SqlStr,
}

impl Read {
    /// `sql`, whose audited form inserts the event from the parameters after its own
    /// `params` (the case id, then the event's id, contact id, action, actor, changed
    /// fields and time), if `only_if` holds.
    fn new(s: &str, sql: String, params: usize, only_if: &str, notify: Option<&str>) -> Self {
        let event = (params + 1..=params + 7).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let audited = |returning: &str| {
            let text = format!(
                "WITH logged AS (INSERT INTO {s}.audit_events ({EVENT_COLUMNS}) SELECT {event} WHERE {only_if}{returning}) {sql}"
            );
            AssertSqlSafe(text).into_sql_str()
        };
        let notifying = notify.map(|notify| format!(" RETURNING {notify}")).unwrap_or_default();
        Self {
            audited: audited(""),
            audited_notifying: audited(&notifying),
            plain: AssertSqlSafe(sql).into_sql_str(),
        }
    }

    /// The statement to run, with or without its event; `distributed` for a repository
    /// whose tables Citus distributes.
    pub(crate) fn statement(&self, read_audit: bool, distributed: bool) -> SqlStr {
        match (read_audit, distributed) {
            (false, _) => self.plain.clone(),
            (true, true) => self.audited.clone(),
            (true, false) => self.audited_notifying.clone(),
        }
    }
}

/// The channel of a schema's feed notifications: `<schema>.feed`, or the schema's name
/// alone when that would be longer than PostgreSQL's 63 bytes (a shared channel only wakes
/// followers for nothing).
pub(crate) fn feed_channel(schema: &str) -> String {
    let channel = format!("{schema}.feed");
    if channel.len() <= 63 { channel } else { schema.to_owned() }
}

impl Statements {
    /// `schema` must already be a checked identifier; it is quoted here.
    pub(crate) fn new(schema: &str, statement_timeout: Duration, notify: bool) -> Self {
        let s = format!("\"{schema}\"");
        let feed_channel = feed_channel(schema);
        // The channel is made of a checked schema name: safe in a literal.
        let notify = notify.then(|| format!("pg_notify('{feed_channel}', '')"));
        let notify = notify.as_deref();
        let sql = |text: String| AssertSqlSafe(text).into_sql_str();
        let columns = contact_columns();
        let fields = ContactField::ALL.map(ContactField::name).join(", ");
        let n = ContactField::COUNT;
        let keys = KEY_COLUMNS.join(", ");
        Self {
            // Every writing transaction notifies the feed's followers in the same round trip
            // as its BEGIN: PostgreSQL delivers the notification when it commits, and drops
            // it when it rolls back.
            begin: sql(format!(
                "BEGIN; SET LOCAL statement_timeout = {}{}",
                statement_timeout.as_millis().max(1),
                notify.map(|n| format!("; SELECT {n}")).unwrap_or_default()
            )),
            insert_contacts: sql(insert_contacts(&s, &fields, &keys, n)),
            insert_contact: sql(insert_contact(&s, &fields, &keys, n)),
            insert_contact_row: sql(insert_contact_row(&s, &fields, &keys, n)),
            update_contact_row: sql(update_contact_row(&s, n)),
            delete_contact_row: sql(format!(
                "DELETE FROM {s}.contacts WHERE case_id = $1 AND id = $2 AND version = $3"
            )),
            // A view is recorded only if there was a contact to see.
            select_contact: Read::new(
                &s,
                format!("SELECT {columns} FROM {s}.contacts WHERE case_id = $1 AND id = $2"),
                2,
                &format!("EXISTS (SELECT 1 FROM {s}.contacts WHERE case_id = $1 AND id = $2)"),
                notify,
            ),
            lock_contact: sql(format!(
                "SELECT {columns} FROM {s}.contacts WHERE case_id = $1 AND id = $2 FOR UPDATE"
            )),
            rekey_page: sql(format!(
                "SELECT {columns} FROM {s}.contacts
                WHERE $1::text IS NULL OR (case_id, id) > ($1::text, $2::uuid)
                ORDER BY case_id, id LIMIT 1000"
            )),
            purge_candidates: sql(format!(
                "SELECT case_id, id FROM {s}.contacts WHERE updated_at < $1 ORDER BY updated_at, case_id, id LIMIT $2"
            )),
            lock_due: sql(format!(
                "SELECT {columns} FROM {s}.contacts
                WHERE case_id = $1 AND id = ANY($2) AND updated_at < $3 ORDER BY id FOR UPDATE SKIP LOCKED"
            )),
            lock_selected: sql(format!(
                "SELECT {columns} FROM {s}.contacts WHERE case_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
            )),
            delete_selected: sql(format!("DELETE FROM {s}.contacts WHERE case_id = $1 AND id = ANY($2)")),
            insert_events: sql(format!(
                "INSERT INTO {s}.audit_events ({EVENT_COLUMNS})
                SELECT $1, e.id, e.contact_id, e.action, e.actor, string_to_array(e.fields, ','), e.at
                FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                    AS e(id, contact_id, action, actor, fields, at)"
            )),
            trails: sql(format!(
                "SELECT {EVENT_COLUMNS} FROM {s}.audit_events
                WHERE case_id = $1 AND contact_id = ANY($2) ORDER BY id"
            )),
            rekey_contact: sql(format!(
                "UPDATE {s}.contacts SET email_key = $3, first_name_key = $4, last_name_key = $5
                WHERE case_id = $1 AND id = $2"
            )),
            // The nil UUID sorts first, so `id > $2` with it is the first page.
            list_contacts: Read::new(
                &s,
                format!(
                    "SELECT {columns} FROM {s}.contacts WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                ),
                3,
                "true",
                notify,
            ),
            update_contact: sql(update_contact(&s, n)),
            // The event columns are bound from the planned event: $4 to $9.
            delete_contact: sql(format!(
                "WITH gone AS (
                    DELETE FROM {s}.contacts WHERE case_id = $1 AND id = $2 AND version = $3 RETURNING id
                )
                INSERT INTO {s}.audit_events ({EVENT_COLUMNS})
                SELECT $1, $4, $5, $6, $7, $8, $9 FROM gone"
            )),
            erase_case: sql(format!("DELETE FROM {s}.contacts WHERE case_id = $1")),
            insert_event: sql(format!(
                "INSERT INTO {s}.audit_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )),
            // A case's last change follows the events that change data, not the reads.
            case_summary: sql(format!(
                "SELECT count(*), min(created_at),
                    (SELECT max(at) FROM {s}.audit_events WHERE case_id = $1 AND action IN ({changes}))
                FROM {s}.contacts WHERE case_id = $1",
                changes = AuditAction::ALL
                    .iter()
                    .filter(|action| action.changes_data())
                    .map(|action| format!("'{action}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            list_events: sql(format!(
                "SELECT {EVENT_COLUMNS} FROM {s}.audit_events
                WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3"
            )),
            find_by_phone: Read::new(
                &s,
                format!(
                    "SELECT {columns} FROM {s}.contacts WHERE phone_e164 = $1 AND id > $2 ORDER BY id LIMIT $3"
                ),
                3,
                "true",
                notify,
            ),
            find_by_email: Read::new(
                &s,
                format!(
                    "SELECT {columns} FROM {s}.contacts WHERE email_key = $1 AND id > $2 ORDER BY id LIMIT $3"
                ),
                3,
                "true",
                notify,
            ),
            // A prefix as a range [prefix, successor): both ends are index bounds in "C" order.
            find_by_name: Read::new(
                &s,
                format!(
                    "SELECT {columns} FROM {s}.contacts
                    WHERE ((first_name_key >= $1 AND first_name_key < $2)
                        OR (last_name_key >= $1 AND last_name_key < $2))
                        AND id > $3
                    ORDER BY id LIMIT $4"
                ),
                4,
                "true",
                notify,
            ),
            feed_page: [&format!("{s}.audit_events"), &format!("{s}._renraku_feed")].map(|source| {
                sql(format!(
                    "SELECT {EVENT_COLUMNS}, tx::text::bigint AS position FROM {source}
                    WHERE (tx, id) >= ($1::text::xid8, $2) AND tx < pg_snapshot_xmin(pg_current_snapshot())
                    ORDER BY tx, id LIMIT $3"
                ))
            }),
            feed_pending: [&format!("{s}.audit_events"), &format!("{s}._renraku_feed")].map(|source| {
                sql(format!(
                    "SELECT EXISTS (SELECT 1 FROM {source} WHERE (tx, id) > ($1::text::xid8, $2)
                            AND tx < pg_snapshot_xmin(pg_current_snapshot())),
                        EXISTS (SELECT 1 FROM {source} WHERE (tx, id) > ($1::text::xid8, $2))"
                ))
            }),
            insert_feed_event: sql(format!(
                "INSERT INTO {s}._renraku_feed ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )),
            insert_feed_events: sql(format!(
                "INSERT INTO {s}._renraku_feed ({EVENT_COLUMNS})
                SELECT $1::text, id, contact_id, action, actor, string_to_array(fields, ','), at
                FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                    AS e(id, contact_id, action, actor, fields, at)"
            )),
            feed_channel,
        }
    }
}

/// One statement stores a batch of contacts and their `created` events: arrays in, `UNNEST`
/// to rows. A data-modifying CTE always runs to completion.
///
/// Parameters: `$1` the case id, then one array per column of [`INSERT_ARRAYS`] (the `n`
/// fields after the contact ids).
fn insert_contacts(s: &str, fields: &str, keys: &str, n: usize) -> String {
    let mut arrays: Vec<(&str, &str)> = vec![("id", "uuid")];
    arrays.extend(ContactField::ALL.map(|f| (f.name(), "text")));
    arrays.extend(INSERT_ARRAYS);
    debug_assert_eq!(arrays.len(), n + 1 + INSERT_ARRAYS.len());
    let unnest: Vec<String> =
        arrays.iter().enumerate().map(|(i, (_, t))| format!("${}::{t}[]", i + 2)).collect();
    let names: Vec<&str> = arrays.iter().map(|(name, _)| *name).collect();
    format!(
        "WITH c AS (
            SELECT * FROM UNNEST({unnest}) AS c({names})
        ), stored AS (
            INSERT INTO {s}.contacts (case_id, id, {fields}, phone_e164, {keys}, version,
                created_at, updated_at, created_by, updated_by)
            SELECT $1::text, id, {fields}, phone_e164, {keys}, 1, at, at, actor, actor FROM c
        )
        INSERT INTO {s}.audit_events ({EVENT_COLUMNS})
        SELECT $1::text, event_id, id, event_action, event_actor, string_to_array(event_fields, ','), event_at
        FROM c",
        unnest = unnest.join(", "),
        names = names.join(", "),
    )
}

/// The arrays of a bulk insert after the contact ids and fields, with their element types.
const INSERT_ARRAYS: [(&str, &str); 11] = [
    ("phone_e164", "text"),
    (KEY_COLUMNS[0], "text"),
    (KEY_COLUMNS[1], "text"),
    (KEY_COLUMNS[2], "text"),
    ("at", "timestamptz"),
    ("actor", "text"),
    ("event_id", "uuid"),
    ("event_action", "text"),
    ("event_actor", "text"),
    ("event_fields", "text"),
    ("event_at", "timestamptz"),
];

/// The new state of a contact, if it is still at the version it was planned on (it is: the
/// row is locked).
///
/// Parameters: `$1` case id, `$2` id, `$3` the version planned on; the `n` fields; then E.164
/// phone, the three search keys, version, time and actor of the new state.
fn update_contact_row(s: &str, n: usize) -> String {
    let columns = ContactField::ALL.map(ContactField::name).into_iter().chain(UPDATED_COLUMNS);
    let set: Vec<String> =
        columns.zip(params(4, n + UPDATED_COLUMNS.len())).map(|(c, p)| format!("{c} = {p}")).collect();
    format!("UPDATE {s}.contacts SET {} WHERE case_id = $1 AND id = $2 AND version = $3", set.join(", "))
}

/// The columns an update sets after the fields.
const UPDATED_COLUMNS: [&str; 7] =
    ["phone_e164", KEY_COLUMNS[0], KEY_COLUMNS[1], KEY_COLUMNS[2], "version", "updated_at", "updated_by"];

/// [`update_contact_row`] and its event in one statement: the event is written only if the
/// row was. Parameters: those of the row, then the event's id, contact id, action, actor,
/// changed fields and time.
fn update_contact(s: &str, n: usize) -> String {
    let event = params(4 + n + UPDATED_COLUMNS.len(), 6).join(", ");
    format!(
        "WITH changed AS ({} RETURNING id)
        INSERT INTO {s}.audit_events ({EVENT_COLUMNS}) SELECT $1, {event} FROM changed",
        update_contact_row(s, n)
    )
}

/// One new contact and its `created` event: the parameters of `insert_contact_row`, then
/// the event's columns after the case id.
fn insert_contact(s: &str, fields: &str, keys: &str, n: usize) -> String {
    let event = params(n + 9, 6).join(", ");
    format!(
        "WITH created AS ({} RETURNING id)
        INSERT INTO {s}.audit_events ({EVENT_COLUMNS}) SELECT $1, {event} FROM created",
        insert_contact_row(s, fields, keys, n)
    )
}

/// One new contact, at version 1. Parameters: `$1` case id, `$2` id, the `n` fields, then
/// E.164 phone, the three search keys, creation time and actor.
fn insert_contact_row(s: &str, fields: &str, keys: &str, n: usize) -> String {
    let values = params(3, n + 4).join(", ");
    let (at, actor) = (n + 7, n + 8);
    format!(
        "INSERT INTO {s}.contacts (case_id, id, {fields}, phone_e164, {keys}, version, created_at,
            updated_at, created_by, updated_by)
        VALUES ($1, $2, {values}, 1, ${at}, ${at}, ${actor}, ${actor})"
    )
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
