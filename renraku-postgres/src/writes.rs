//! The writing operations. Core plans every change (`renraku_core::plan`); here it is
//! stored with its search keys and audit event, in one transaction.
//!
//! An update or delete locks the contact's row (`SELECT … FOR UPDATE`), plans on the state
//! it locked, writes and commits: concurrent writers of one contact take turns, so an
//! update without an expected version is never lost and never gives up, and one with a
//! stale version is a conflict decided on the locked state.
//!
//! A write and its audit row are one statement (a data-modifying CTE): one round trip. On
//! tables that Citus distributes, that statement would pull the audit row through the
//! coordinator and commit in two phases, so after
//! [`distribute`](PgContactRepository::distribute) the audit row is a statement of its own
//! in the same transaction: both are router statements on the case's worker, committed in
//! one phase (1.4 to 1.9 times the throughput there, BENCHMARKS.md). Bulk creates keep the
//! CTE: an `INSERT … SELECT` from arrays goes through the coordinator either way.

use chrono::{DateTime, Utc};
use renraku_core::plan::{self, ContactChange};
use renraku_core::validation::ValidationErrors;
use renraku_core::{
    Actor, AuditEvent, CaseId, Contact, ContactField, ContactId, ContactPatch, ContactRef, Error, FieldError,
    NewContact, PageLimit, Purged, Rules,
};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::error::PgError;
use crate::feed;
use crate::repository::PgContactRepository;
use crate::rows::{self, bind_event, bind_events, field_names, version};

/// How many contacts a bulk create validates, then stores with one statement, at a time.
const CHUNK_ROWS: usize = 250;

pub(crate) type Tx = Transaction<'static, Postgres>;

pub(crate) async fn create(
    repo: &PgContactRepository,
    case_id: &CaseId,
    input: NewContact,
    actor: &Actor,
) -> Result<Contact, Error> {
    let change = plan::create(repo.rules(), case_id, input, actor)?;
    let mut tx = repo.begin().await?;
    if repo.writes_in_two_statements() {
        let row = bind_new_row(sqlx::query(repo.sql().insert_contact_row.clone()), &change);
        repo.bounded(row.execute(&mut *tx)).await?;
        insert_event(repo, &mut tx, &change.event).await?;
    } else {
        let row = bind_new_row(sqlx::query(repo.sql().insert_contact.clone()), &change);
        repo.bounded(bind_event(row, &change.event).execute(&mut *tx)).await?;
    }
    repo.bounded(tx.commit()).await?;
    Ok(change.contact)
}

/// Validation is CPU work and storing is waiting for the server, so they overlap: while
/// one chunk of rows is stored, the next is validated on the blocking pool. Invalid input
/// anywhere rolls everything back, and the error lists every invalid row.
pub(crate) async fn create_many(
    repo: &PgContactRepository,
    case_id: &CaseId,
    inputs: Vec<NewContact>,
    actor: &Actor,
) -> Result<Vec<Contact>, Error> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let mut chunks = chunked(inputs, CHUNK_ROWS).into_iter();
    let plan_next = |chunks: &mut std::vec::IntoIter<(usize, Vec<NewContact>)>| {
        chunks.next().map(|(first, chunk)| {
            let (rules, case_id, actor) = (repo.rules().clone(), case_id.clone(), actor.clone());
            tokio::task::spawn_blocking(move || plan_chunk(&rules, &case_id, chunk, &actor, first))
        })
    };
    let mut planning = plan_next(&mut chunks);
    let mut tx = repo.begin().await?;
    let mut contacts = Vec::new();
    let mut invalid = ValidationErrors::default();
    while let Some(task) = planning.take() {
        let planned = task.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        planning = plan_next(&mut chunks);
        match planned {
            Ok(changes) if invalid.is_empty() => {
                insert(repo, &mut tx, case_id, &changes).await?;
                contacts.extend(changes.into_iter().map(|change| change.contact));
            }
            Ok(_) => {}
            Err(Error::Validation(errors)) => invalid.extend(errors),
            Err(other) => return Err(other),
        }
    }
    if !invalid.is_empty() {
        // Dropping the transaction rolls back whatever chunks were stored.
        return Err(invalid.into());
    }
    repo.bounded(tx.commit()).await?;
    Ok(contacts)
}

pub(crate) async fn update(
    repo: &PgContactRepository,
    case_id: &CaseId,
    id: ContactId,
    patch: ContactPatch,
    expected: Option<u64>,
    actor: &Actor,
) -> Result<Contact, Error> {
    let patch = repo.rules().check_patch(patch)?;
    let mut tx = repo.begin().await?;
    let current = lock(repo, &mut tx, case_id, id).await?;
    // Nothing to change, or an error: dropping the transaction releases the lock.
    let Some(change) = plan::update(&current, &patch, expected, actor)? else { return Ok(current) };
    if repo.writes_in_two_statements() {
        let row = bind_update_row(sqlx::query(repo.sql().update_contact_row.clone()), &current, &change)?;
        write_locked(repo, tx, row, Some(&change.event)).await?;
    } else {
        let row = bind_update_row(sqlx::query(repo.sql().update_contact.clone()), &current, &change)?;
        write_locked(repo, tx, bind_event(row, &change.event), None).await?;
    }
    Ok(change.contact)
}

pub(crate) async fn delete(
    repo: &PgContactRepository,
    case_id: &CaseId,
    id: ContactId,
    expected: Option<u64>,
    actor: &Actor,
) -> Result<(), Error> {
    let mut tx = repo.begin().await?;
    let current = lock(repo, &mut tx, case_id, id).await?;
    let event = plan::delete(&current, expected, actor)?;
    let version = version(current.version)?;
    let row = |sql| sqlx::query(sql).bind(case_id.as_str()).bind(id.as_uuid()).bind(version);
    if repo.writes_in_two_statements() {
        write_locked(repo, tx, row(repo.sql().delete_contact_row.clone()), Some(&event)).await
    } else {
        write_locked(repo, tx, bind_event(row(repo.sql().delete_contact.clone()), &event), None).await
    }
}

pub(crate) async fn erase_case(
    repo: &PgContactRepository,
    case_id: &CaseId,
    actor: &Actor,
) -> Result<u64, Error> {
    let mut tx = repo.begin().await?;
    let erase = sqlx::query(repo.sql().erase_case.clone()).bind(case_id.as_str());
    let erased = repo.bounded(erase.execute(&mut *tx)).await?.rows_affected();
    if let Some(event) = plan::erase(case_id, erased, actor) {
        insert_event(repo, &mut tx, &event).await?;
    }
    repo.bounded(tx.commit()).await?;
    Ok(erased)
}

/// Purges up to `limit` contacts unchanged since `changed_before`, oldest first, one
/// transaction per case: the candidates are found without locks (a query across shards on
/// Citus), then each case's are locked with `SKIP LOCKED` and checked again, so a contact
/// that a concurrent purge holds, or that changed since, is left alone.
pub(crate) async fn purge(
    repo: &PgContactRepository,
    changed_before: DateTime<Utc>,
    limit: PageLimit,
    actor: &Actor,
) -> Result<Purged, Error> {
    let wanted = i64::try_from(limit.get()).unwrap_or(i64::MAX);
    let query = sqlx::query_as(repo.sql().purge_candidates.clone()).bind(changed_before).bind(wanted);
    let candidates: Vec<(String, Uuid)> = repo.bounded(query.fetch_all(repo.pool())).await?;
    let more = candidates.len() == limit.get();
    let mut by_case: Vec<(String, Vec<Uuid>)> = Vec::new();
    for (case_id, id) in candidates {
        match by_case.iter_mut().find(|(case, _)| *case == case_id) {
            Some((_, ids)) => ids.push(id),
            None => by_case.push((case_id, vec![id])),
        }
    }
    let mut erased = 0;
    for (case_id, ids) in by_case {
        let lock = sqlx::query(repo.sql().lock_due.clone()).bind(&case_id).bind(ids).bind(changed_before);
        erased += remove_locked(repo, &case_id, lock, |contact| plan::purged(contact, actor)).await?;
    }
    Ok(Purged { erased, more })
}

/// Erases the selected contacts, one transaction per case.
pub(crate) async fn erase_person(
    repo: &PgContactRepository,
    selection: Vec<ContactRef>,
    actor: &Actor,
) -> Result<u64, Error> {
    let mut by_case: Vec<(CaseId, Vec<Uuid>)> = Vec::new();
    for ContactRef { case_id, id } in selection {
        match by_case.iter_mut().find(|(case, _)| *case == case_id) {
            Some((_, ids)) => ids.push(*id.as_uuid()),
            None => by_case.push((case_id, vec![*id.as_uuid()])),
        }
    }
    let mut erased = 0;
    for (case_id, ids) in by_case {
        let lock = sqlx::query(repo.sql().lock_selected.clone()).bind(case_id.as_str().to_owned()).bind(ids);
        erased += remove_locked(repo, case_id.as_str(), lock, |contact| plan::erased(contact, actor)).await?;
    }
    Ok(erased)
}

/// In one transaction: locks the contacts `lock` selects in `case_id`, deletes them and
/// stores the event `event` makes of each. Returns how many there were.
async fn remove_locked(
    repo: &PgContactRepository,
    case_id: &str,
    lock: Query<'_, Postgres, PgArguments>,
    event: impl Fn(&Contact) -> AuditEvent,
) -> Result<u64, Error> {
    let mut tx = repo.begin().await?;
    let locked = repo.bounded(lock.fetch_all(&mut *tx)).await?;
    let contacts = locked.iter().map(rows::contact).collect::<Result<Vec<_>, _>>()?;
    if contacts.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = contacts.iter().map(|c| *c.id.as_uuid()).collect();
    let delete = sqlx::query(repo.sql().delete_selected.clone()).bind(case_id).bind(ids);
    repo.bounded(delete.execute(&mut *tx)).await?;
    let events: Vec<AuditEvent> = contacts.iter().map(event).collect();
    insert_events(repo, &mut tx, &contacts[0].case_id, &events).await?;
    repo.bounded(tx.commit()).await?;
    Ok(contacts.len() as u64)
}

/// Stores audit events of one case with one statement.
pub(crate) async fn insert_events(
    repo: &PgContactRepository,
    tx: &mut Tx,
    case_id: &CaseId,
    events: &[AuditEvent],
) -> Result<(), Error> {
    let query = bind_events(sqlx::query(repo.sql().insert_events.clone()), case_id.as_str(), events.iter());
    repo.bounded(query.execute(&mut **tx)).await?;
    if repo.distributed() {
        feed::insert_feed_events(repo, tx, case_id.as_str(), events.iter()).await?;
    }
    Ok(())
}

/// The current state of a contact, locked for the rest of the transaction.
async fn lock(
    repo: &PgContactRepository,
    tx: &mut Tx,
    case_id: &CaseId,
    id: ContactId,
) -> Result<Contact, Error> {
    let query = sqlx::query(repo.sql().lock_contact.clone()).bind(case_id.as_str()).bind(id.as_uuid());
    let row = repo.bounded(query.fetch_optional(&mut **tx)).await?;
    Ok(rows::contact(&row.ok_or_else(|| Error::contact_not_found(case_id, id))?)?)
}

/// Runs the write of a locked contact, stores `event` after it if the statement does not
/// write it itself, and commits.
async fn write_locked(
    repo: &PgContactRepository,
    mut tx: Tx,
    statement: Query<'_, Postgres, PgArguments>,
    event: Option<&AuditEvent>,
) -> Result<(), Error> {
    let written = repo.bounded(statement.execute(&mut *tx)).await?.rows_affected();
    if written == 0 {
        // The row is locked, so its version cannot have moved: the database broke its word.
        return Err(PgError::Corrupt("version").into());
    }
    if let Some(event) = event {
        insert_event(repo, &mut tx, event).await?;
    }
    repo.bounded(tx.commit()).await
}

/// Stores an audit event of the case (and on Citus its row in the feed, see `feed.rs`).
async fn insert_event(repo: &PgContactRepository, tx: &mut Tx, event: &AuditEvent) -> Result<(), Error> {
    let insert = sqlx::query(repo.sql().insert_event.clone()).bind(event.case_id.as_str());
    repo.bounded(bind_event(insert, event).execute(&mut **tx)).await?;
    if repo.distributed() {
        feed::insert_feed_event(repo, tx, event).await?;
    }
    Ok(())
}

/// Binds a new contact to the single-row insert (see `sql.rs`).
fn bind_new_row<'q>(
    query: Query<'q, Postgres, PgArguments>,
    change: &'q ContactChange,
) -> Query<'q, Postgres, PgArguments> {
    let (contact, keys) = (&change.contact, &change.keys);
    let mut query = query.bind(contact.case_id.as_str()).bind(contact.id.as_uuid());
    for field in ContactField::ALL {
        query = query.bind(contact.field(field));
    }
    query
        .bind(contact.phone_e164.as_deref())
        .bind(keys.email.as_deref())
        .bind(keys.first_name.as_deref())
        .bind(keys.last_name.as_deref())
        .bind(contact.created_at)
        .bind(contact.created_by.as_str())
}

/// Binds a contact's new state to an update of its row (see `sql.rs`); the CTE form takes
/// the event after it.
fn bind_update_row<'q>(
    query: Query<'q, Postgres, PgArguments>,
    current: &Contact,
    change: &'q ContactChange,
) -> Result<Query<'q, Postgres, PgArguments>, Error> {
    let (next, keys) = (&change.contact, &change.keys);
    let mut query = query.bind(next.case_id.as_str()).bind(next.id.as_uuid()).bind(version(current.version)?);
    for field in ContactField::ALL {
        query = query.bind(next.field(field));
    }
    Ok(query
        .bind(next.phone_e164.as_deref())
        .bind(keys.email.as_deref())
        .bind(keys.first_name.as_deref())
        .bind(keys.last_name.as_deref())
        .bind(version(next.version)?)
        .bind(next.updated_at)
        .bind(next.updated_by.as_str()))
}

/// Stores contacts and their `created` events with one statement.
async fn insert(
    repo: &PgContactRepository,
    tx: &mut Tx,
    case_id: &CaseId,
    changes: &[ContactChange],
) -> Result<(), Error> {
    let column =
        |f: &dyn Fn(&ContactChange) -> Option<&str>| -> Vec<Option<&str>> { changes.iter().map(f).collect() };
    let mut query = sqlx::query(repo.sql().insert_contacts.clone())
        .bind(case_id.as_str())
        .bind(changes.iter().map(|c| *c.contact.id.as_uuid()).collect::<Vec<Uuid>>());
    for field in ContactField::ALL {
        query = query.bind(column(&|c| c.contact.field(field)));
    }
    let query = query
        .bind(column(&|c| c.contact.phone_e164.as_deref()))
        .bind(column(&|c| c.keys.email.as_deref()))
        .bind(column(&|c| c.keys.first_name.as_deref()))
        .bind(column(&|c| c.keys.last_name.as_deref()))
        .bind(changes.iter().map(|c| c.contact.created_at).collect::<Vec<_>>())
        .bind(column(&|c| Some(c.contact.created_by.as_str())))
        .bind(changes.iter().map(|c| *c.event.id.as_uuid()).collect::<Vec<Uuid>>())
        .bind(column(&|c| Some(c.event.action.as_str())))
        .bind(column(&|c| Some(c.event.actor.as_str())))
        .bind(changes.iter().map(|c| field_names(&c.event.changed_fields).join(",")).collect::<Vec<_>>())
        .bind(changes.iter().map(|c| c.event.at).collect::<Vec<_>>());
    repo.bounded(query.execute(&mut **tx)).await?;
    if repo.distributed() {
        feed::insert_feed_events(repo, tx, case_id.as_str(), changes.iter().map(|c| &c.event)).await?;
    }
    Ok(())
}

/// Splits `inputs` into chunks of at most `size`, each with the index of its first input.
fn chunked(inputs: Vec<NewContact>, size: usize) -> Vec<(usize, Vec<NewContact>)> {
    let mut chunks = Vec::with_capacity(inputs.len().div_ceil(size));
    let mut inputs = inputs.into_iter();
    let mut first = 0;
    loop {
        let chunk: Vec<NewContact> = inputs.by_ref().take(size).collect();
        if chunk.is_empty() {
            return chunks;
        }
        let len = chunk.len();
        chunks.push((first, chunk));
        first += len;
    }
}

/// Validates and plans one chunk of a bulk create; validation errors carry the inputs'
/// indexes in the whole batch.
fn plan_chunk(
    rules: &Rules,
    case_id: &CaseId,
    chunk: Vec<NewContact>,
    actor: &Actor,
    first: usize,
) -> Result<Vec<ContactChange>, Error> {
    plan::create_many(rules, case_id, chunk, actor).map_err(|error| match error {
        Error::Validation(errors) => Error::Validation(
            errors.into_iter().map(|e| FieldError { index: e.index.map(|i| i + first), ..e }).collect(),
        ),
        other => other,
    })
}
