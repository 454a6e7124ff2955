//! The reading operations: one statement each, bounded by the statement timeout.

use chrono::{DateTime, Utc};
use renraku_core::plan;
use std::collections::HashMap;

use renraku_core::{
    Actor, AuditEvent, Case, CaseId, Contact, ContactId, ContactQuery, Error, Page, PageRequest,
    PersonRecord, SearchKey,
};
use sqlx::Postgres;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use uuid::Uuid;

use crate::feed;
use crate::repository::PgContactRepository;
use crate::rows::{self, bind_event};
use crate::sql::prefix_successor;

pub(crate) async fn get(
    repo: &PgContactRepository,
    case_id: &CaseId,
    id: ContactId,
    actor: &Actor,
) -> Result<Contact, Error> {
    let sql = repo.sql().select_contact.statement(repo.read_audit(), repo.distributed());
    let query = sqlx::query(sql).bind(case_id.as_str()).bind(id.as_uuid());
    let (query, event) = audited(repo, query, || plan::viewed(case_id, id, actor));
    let row = if in_transaction(repo, event.as_ref()) {
        // A view is recorded only if there was a contact to see.
        fetch(repo, query, event, |rows| !rows.is_empty()).await?.into_iter().next()
    } else {
        // At most one row: `fetch_optional` makes one row stream where `fetch_all` makes
        // two, 4 allocations less per call (BENCHMARKS.md, issue 16).
        repo.bounded(query.fetch_optional(repo.pool())).await?
    };
    let row = row.ok_or_else(|| Error::contact_not_found(case_id, id))?;
    Ok(rows::contact(&row)?)
}

pub(crate) async fn list(
    repo: &PgContactRepository,
    case_id: &CaseId,
    page: PageRequest,
    actor: &Actor,
) -> Result<Page<Contact>, Error> {
    let sql = repo.sql().list_contacts.statement(repo.read_audit(), repo.distributed());
    let query = sqlx::query(sql).bind(case_id.as_str()).bind(after(page)).bind(overfetch(page));
    let (query, event) = audited(repo, query, || plan::listed(case_id, actor));
    contacts(repo, query, event, page).await
}

pub(crate) async fn case(repo: &PgContactRepository, case_id: &CaseId) -> Result<Case, Error> {
    type Summary = (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let query = sqlx::query_as(repo.sql().case_summary.clone()).bind(case_id.as_str());
    let (count, first_created_at, last_changed_at): Summary =
        repo.bounded(query.fetch_one(repo.pool())).await?;
    match (u64::try_from(count), first_created_at, last_changed_at) {
        (Ok(contact_count @ 1..), Some(first_created_at), Some(last_changed_at)) => {
            Ok(Case { id: case_id.clone(), contact_count, first_created_at, last_changed_at })
        }
        _ => Err(Error::case_not_found(case_id)),
    }
}

pub(crate) async fn audit_trail(
    repo: &PgContactRepository,
    case_id: &CaseId,
    page: PageRequest,
) -> Result<Page<AuditEvent>, Error> {
    let query = sqlx::query(repo.sql().list_events.clone()).bind(case_id.as_str());
    let found = repo.bounded(query.bind(after(page)).bind(overfetch(page)).fetch_all(repo.pool())).await?;
    let items = found.iter().map(rows::event).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit, |e| *e.id.as_uuid()))
}

pub(crate) async fn find(
    repo: &PgContactRepository,
    query: ContactQuery,
    page: PageRequest,
    actor: &Actor,
) -> Result<Page<Contact>, Error> {
    let key = repo.rules().check_query(query)?;
    matching(repo, &key, page, repo.read_audit().then(|| plan::searched(&key, actor))).await
}

/// A page of every contact, with its trail, that matches `query`; each gets an `exported`
/// event in its case.
pub(crate) async fn export_person(
    repo: &PgContactRepository,
    query: ContactQuery,
    page: PageRequest,
    actor: &Actor,
) -> Result<Page<PersonRecord>, Error> {
    let key = repo.rules().check_query(query)?;
    let found = matching(repo, &key, page, None).await?;
    let mut trails: HashMap<ContactId, Vec<AuditEvent>> = HashMap::new();
    let mut exported = Vec::with_capacity(found.items.len());
    for (case_id, contacts) in by_case(&found.items) {
        let ids: Vec<Uuid> = contacts.iter().map(|c| *c.id.as_uuid()).collect();
        let query = sqlx::query(repo.sql().trails.clone()).bind(case_id.as_str()).bind(ids);
        for row in repo.bounded(query.fetch_all(repo.pool())).await? {
            let event = rows::event(&row)?;
            trails.entry(event.contact_id.unwrap_or_default()).or_default().push(event);
        }
        exported.push((case_id, contacts.iter().map(|c| plan::exported(c, actor)).collect::<Vec<_>>()));
    }
    for (case_id, events) in &exported {
        let mut tx = repo.begin().await?;
        crate::writes::insert_events(repo, &mut tx, case_id, events).await?;
        repo.bounded(tx.commit()).await?;
    }
    let Page { items, next } = found;
    let items = items
        .into_iter()
        .map(|contact| PersonRecord { trail: trails.remove(&contact.id).unwrap_or_default(), contact })
        .collect();
    Ok(Page { items, next })
}

/// The contacts of `contacts` grouped by case, in the order their cases first appear.
pub(crate) fn by_case<T: std::borrow::Borrow<Contact>>(contacts: &[T]) -> Vec<(CaseId, Vec<&Contact>)> {
    let mut groups: Vec<(CaseId, Vec<&Contact>)> = Vec::new();
    for contact in contacts {
        let contact = contact.borrow();
        match groups.iter_mut().find(|(case, _)| *case == contact.case_id) {
            Some((_, group)) => group.push(contact),
            None => groups.push((contact.case_id.clone(), vec![contact])),
        }
    }
    groups
}

/// A page of the contacts that match `key`, recording `event` with the read if given.
async fn matching(
    repo: &PgContactRepository,
    key: &SearchKey,
    page: PageRequest,
    event: Option<AuditEvent>,
) -> Result<Page<Contact>, Error> {
    let (sql, audit, distributed) = (repo.sql(), event.is_some(), repo.distributed());
    let query = match key {
        SearchKey::Phone(e164) => {
            sqlx::query(sql.find_by_phone.statement(audit, distributed)).bind(e164.as_str())
        }
        SearchKey::Email(email) => {
            sqlx::query(sql.find_by_email.statement(audit, distributed)).bind(email.as_str())
        }
        SearchKey::NamePrefix(prefix) => {
            // Names hold letters only, so no name can start with a prefix that has no
            // successor (one made of U+10FFFF alone): nothing to find, nothing to record.
            let Some(upper) = prefix_successor(prefix) else { return Ok(Page::empty()) };
            sqlx::query(sql.find_by_name.statement(audit, distributed)).bind(prefix.as_str()).bind(upper)
        }
    };
    let query = query.bind(after(page)).bind(overfetch(page));
    let query = match &event {
        Some(event) => bind_event(query.bind(event.case_id.as_str().to_owned()), event),
        None => query,
    };
    contacts(repo, query, event, page).await
}

/// With read audit on, binds the event of the read after the read's own parameters (its
/// case, then the event's columns; see `sql::Read`), and returns it.
fn audited<'q>(
    repo: &PgContactRepository,
    query: Query<'q, Postgres, PgArguments>,
    event: impl FnOnce() -> AuditEvent,
) -> (Query<'q, Postgres, PgArguments>, Option<AuditEvent>) {
    if !repo.read_audit() {
        return (query, None);
    }
    let event = event();
    (bind_event(query.bind(event.case_id.as_str().to_owned()), &event), Some(event))
}

/// Whether a read with `event` needs a transaction: an audited read on a distributed
/// repository stores its event's row in the feed in the same transaction (see `feed.rs`).
fn in_transaction(repo: &PgContactRepository, event: Option<&AuditEvent>) -> bool {
    event.is_some() && repo.distributed()
}

/// Runs a read. An audited read on a distributed repository runs in a transaction that
/// also stores the event's row in the feed if the read `recorded` it (see `feed.rs`).
async fn fetch(
    repo: &PgContactRepository,
    query: Query<'_, Postgres, PgArguments>,
    event: Option<AuditEvent>,
    recorded: impl FnOnce(&[PgRow]) -> bool,
) -> Result<Vec<PgRow>, Error> {
    let Some(event) = event.filter(|event| in_transaction(repo, Some(event))) else {
        return repo.bounded(query.fetch_all(repo.pool())).await;
    };
    let mut tx = repo.begin().await?;
    let found: Vec<PgRow> = repo.bounded(query.fetch_all(&mut *tx)).await?;
    if recorded(&found) {
        feed::insert_feed_event(repo, &mut tx, &event).await?;
    }
    repo.bounded(tx.commit()).await?;
    Ok(found)
}

/// The contacts a query selects (one more than the page holds), as a page.
async fn contacts(
    repo: &PgContactRepository,
    query: Query<'_, Postgres, PgArguments>,
    event: Option<AuditEvent>,
    page: PageRequest,
) -> Result<Page<Contact>, Error> {
    let found = fetch(repo, query, event, |_| true).await?;
    let items = found.iter().map(rows::contact).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit, |c| *c.id.as_uuid()))
}

/// The position a page starts after; the nil UUID sorts before every id.
fn after(page: PageRequest) -> Uuid {
    page.after.map_or(Uuid::nil(), |cursor| cursor.position())
}

/// One row more than the page holds, to learn whether there is a next page.
fn overfetch(page: PageRequest) -> i64 {
    i64::try_from(page.limit.get()).unwrap_or(i64::MAX) + 1
}
