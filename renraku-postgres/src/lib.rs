//! The PostgreSQL [`ContactRepository`] of renraku, built on sqlx and safe to embed in a
//! database that a host application already owns.
//!
//! - **Its own schema.** Tables live in one schema (default `renraku`, configurable), and
//!   the migration bookkeeping is `<schema>._renraku_migrations`, so it never meets the
//!   host's own `_sqlx_migrations`. [`PgContactRepository::migrate`] can run beside the
//!   host's migrations, in any order, from several processes at once: sqlx's migrator
//!   serializes them with a PostgreSQL advisory lock.
//! - **Atomic, versioned writes.** Every mutation and its audit event are one transaction;
//!   versions are checked in the statement itself (`... AND version = $3`). A stale
//!   expected version is [`Error::Conflict`]; an update without one retries on a concurrent
//!   change instead of overwriting it.
//! - **Bounded waits.** Every transaction sets the repository's statement timeout, and every
//!   call returns within it when the server is slow or down: [`Error::Backend`] with a
//!   [`PgError`] source. The pool heals when the server comes back.
//! - **Private.** Errors and `tracing` spans (one per operation: its name and case id) hold
//!   no personal data and no SQL parameters.
//!
//! # Usage
//!
//! ```no_run
//! use std::time::Duration;
//! use renraku_core::{Actor, CaseId, ContactRepository, NewContact, Rules};
//! use renraku_postgres::PgContactRepository;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::PgPool::connect("postgres://app@localhost/app").await?;
//! let repo = PgContactRepository::builder(pool)
//!     .schema("renraku")
//!     .statement_timeout(Duration::from_secs(5))
//!     .rules(Rules::default().with_default_region("DE".parse()?))
//!     .build()?;
//! repo.migrate().await?;
//!
//! let case: CaseId = "42".parse()?;
//! let input = NewContact { first_name: Some("Ada".into()), ..NewContact::default() };
//! repo.create(&case, input, &Actor::new("user-17")?).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # TLS to the database
//!
//! The repository runs on the pool the host gives it, so whether that pool's connections are
//! encrypted is the host's choice of a sqlx TLS feature and of the connection URL:
//! renraku-postgres enables no TLS backend of its own. Without one, sqlx refuses
//! `sslmode=require` ("SQLx was built without TLS support enabled") and the default,
//! `sslmode=prefer`, connects in plain text. Enable one in the host's `Cargo.toml`, for
//! example rustls with Mozilla's root certificates compiled in:
//!
//! ```toml
//! [dependencies]
//! sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "postgres", "tls-rustls-ring-webpki"] }
//! ```
//!
//! (or `tls-rustls-ring-native-roots` for the system's roots, `tls-native-tls` for the
//! platform's TLS library), and ask for a verified connection in the URL:
//!
//! ```text
//! postgres://app@db.example.org/app?sslmode=verify-full&sslrootcert=/etc/app/db-ca.pem
//! ```
//!
//! `verify-full` checks the server's certificate chain and that it names the host of the
//! URL; `sslrootcert` adds the CA that issued it (with rustls, to the roots of the feature,
//! where libpq would trust the file alone). `require` encrypts without checking who
//! answers. The web example (`examples/web-server`) does exactly this, and its tests connect
//! to a server that accepts TLS only.
//!
//! # Schema, and distributing it
//!
//! Two tables, `contacts` and `audit_events`, each with primary key `(case_id, id)`. Every
//! statement filters by `case_id`, except the cross-case search of
//! [`ContactRepository::find`], so the tables can be distributed by `case_id` (for
//! example with Citus: `SELECT create_distributed_table('renraku.contacts', 'case_id')`)
//! without changing a query; search then fans out to every shard. Indexes serve listing
//! (the primary key), phone search on the E.164 form, case-insensitive email search and
//! case-insensitive name-prefix search (on keys that renraku-core case-folds, so matching
//! does not depend on the database's collation).
//!
//! # Features
//!
//! - `testkit`: [`testkit`] starts a throwaway PostgreSQL server for tests and builds
//!   fresh repositories on it.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use renraku_core::plan::{self, ContactChange};
use renraku_core::validation::{FieldError, ValidationErrors, code};
use renraku_core::{
    Actor, AuditEvent, Case, CaseId, Contact, ContactId, ContactPatch, ContactQuery, ContactRepository,
    Error, NewContact, Page, PageRequest, Rules, SearchKey,
};
use sqlx::postgres::PgQueryResult;
use sqlx::{PgPool, Postgres, Transaction};
use tracing::instrument;
use uuid::Uuid;

mod error;
mod rows;
mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::PgError;
use error::backend;
use rows::{ContactRow, EventRow, SearchKeys, field_names, version};
use sql::{Statements, prefix_successor};

/// The schema renraku's tables live in unless the builder names another.
pub const DEFAULT_SCHEMA: &str = "renraku";

/// How long a statement may run unless the builder sets another limit.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How often an update or delete without an expected version tries again when concurrent
/// writers keep changing the contact under it, before it gives up with a conflict.
const MAX_ATTEMPTS: usize = 100;

/// How many contacts a bulk create validates, then stores with one statement, at a time.
const CHUNK_ROWS: usize = 250;

/// A [`ContactRepository`] on PostgreSQL. Cheap to clone: clones share the pool.
///
/// Build it with [`PgContactRepository::builder`] and create its tables with
/// [`migrate`](Self::migrate). See the [crate docs](crate).
#[derive(Clone)]
pub struct PgContactRepository {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    schema: String,
    statement_timeout: Duration,
    rules: Rules,
    sql: Statements,
}

impl fmt::Debug for PgContactRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgContactRepository")
            .field("schema", &self.inner.schema)
            .field("statement_timeout", &self.inner.statement_timeout)
            .field("rules", &self.inner.rules)
            .field("pool_size", &self.inner.pool.size())
            .finish_non_exhaustive()
    }
}

/// Options of a [`PgContactRepository`]; see [`PgContactRepository::builder`].
#[derive(Debug)]
#[must_use]
pub struct PgContactRepositoryBuilder {
    pool: PgPool,
    schema: String,
    statement_timeout: Duration,
    rules: Rules,
}

impl PgContactRepositoryBuilder {
    /// The schema for renraku's tables (default [`DEFAULT_SCHEMA`]): 1 to 63 characters,
    /// lowercase ASCII letters, digits and `_`, not starting with a digit or `pg_`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// How long one statement may run, and how long a call may wait for a connection
    /// (default [`DEFAULT_STATEMENT_TIMEOUT`]).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// The validation rules (default: [`Rules::default`]).
    pub fn rules(mut self, rules: Rules) -> Self {
        self.rules = rules;
        self
    }

    /// Checks the options and builds the repository. It does not touch the database; call
    /// [`PgContactRepository::migrate`] before first use.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `schema` or `statement_timeout`.
    pub fn build(self) -> Result<PgContactRepository, Error> {
        check_schema(&self.schema)?;
        if self.statement_timeout.is_zero() {
            return Err(option_error("statement_timeout", "must be longer than zero"));
        }
        let sql = Statements::new(&self.schema, self.statement_timeout);
        Ok(PgContactRepository {
            inner: Arc::new(Inner {
                pool: self.pool,
                schema: self.schema,
                statement_timeout: self.statement_timeout,
                rules: self.rules,
                sql,
            }),
        })
    }
}

fn check_schema(schema: &str) -> Result<(), Error> {
    let valid_chars = schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let starts_well = schema.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if schema.len() > 63 || !valid_chars || !starts_well || schema.starts_with("pg_") {
        return Err(option_error(
            "schema",
            "must be 1 to 63 lowercase ASCII letters, digits or _, not starting with a digit or pg_",
        ));
    }
    Ok(())
}

fn option_error(field: &'static str, message: &'static str) -> Error {
    ValidationErrors::from(FieldError::new(field, code::RANGE, message)).into()
}

impl PgContactRepository {
    /// Starts building a repository on `pool`, which may be the host application's own.
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool) -> renraku_core::Result<()> {
    /// let repo = renraku_postgres::PgContactRepository::builder(pool).schema("contacts").build()?;
    /// repo.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(pool: PgPool) -> PgContactRepositoryBuilder {
        PgContactRepositoryBuilder {
            pool,
            schema: DEFAULT_SCHEMA.to_owned(),
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            rules: Rules::default(),
        }
    }

    /// The schema of renraku's tables.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// The pool the repository uses.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Creates or upgrades renraku's schema and tables; safe to call at every start.
    ///
    /// The bookkeeping table is `<schema>._renraku_migrations`, apart from the host's
    /// `_sqlx_migrations`. Processes that migrate at the same moment take turns on sqlx's
    /// advisory lock, and all succeed. The migration runs on a connection of its own
    /// (with `search_path` set to the schema), which is closed afterwards, so the pool's
    /// connections keep the host's settings and a failed run cannot leave the lock held.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`PgError::Migrate`] or a connection error.
    #[instrument(name = "renraku.migrate", skip_all, fields(schema = %self.inner.schema))]
    pub async fn migrate(&self) -> Result<(), Error> {
        let schema = format!("\"{}\"", self.inner.schema);
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.dangerous_set_table_name(format!("{schema}._renraku_migrations"));
        migrator.create_schema(schema.clone());
        let mut conn = self.inner.pool.acquire().await.map_err(backend)?;
        conn.close_on_drop();
        let set_path = sqlx::AssertSqlSafe(format!("SET search_path TO {schema}"));
        sqlx::Executor::execute(&mut *conn, set_path).await.map_err(backend)?;
        // `run_direct` is what `Migrator::run` calls after acquiring; called directly, its
        // future is `Send` (that of `run(&mut conn)` is not: sqlx's `Acquire` is implemented
        // per lifetime), so hosts can spawn `migrate()`.
        migrator.run_direct(None, &mut *conn, false).await.map_err(|e| Error::from(PgError::Migrate(e)))
    }

    /// Runs `work` within the statement timeout: a slow or absent server becomes a
    /// [`PgError::Timeout`] instead of a wait for the pool's acquire timeout.
    async fn bounded<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let limit = self.inner.statement_timeout;
        tokio::time::timeout(limit, work).await.unwrap_or_else(|_| Err(PgError::Timeout(limit).into()))
    }

    /// A transaction whose statements stop at the statement timeout.
    async fn begin(&self) -> Result<Transaction<'static, Postgres>, Error> {
        self.bounded(async {
            self.inner.pool.begin_with(self.inner.sql.begin.clone()).await.map_err(backend)
        })
        .await
    }

    async fn fetch_contact(&self, case_id: &CaseId, id: ContactId) -> Result<Contact, Error> {
        let row: Option<ContactRow> = self
            .bounded(async {
                sqlx::query_as(self.inner.sql.select_contact.clone())
                    .bind(case_id.as_str())
                    .bind(id.as_uuid())
                    .fetch_optional(&self.inner.pool)
                    .await
                    .map_err(backend)
            })
            .await?;
        let row = row.ok_or_else(|| Error::contact_not_found(case_id, id))?;
        Ok(Contact::try_from(row)?)
    }

    async fn fetch_contacts(
        &self,
        query: sqlx::query::QueryAs<'_, Postgres, ContactRow, sqlx::postgres::PgArguments>,
        page: PageRequest,
    ) -> Result<Page<Contact>, Error> {
        let rows = self.bounded(async { query.fetch_all(&self.inner.pool).await.map_err(backend) }).await?;
        let items = rows.into_iter().map(Contact::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, page.limit, |c| *c.id.as_uuid()))
    }

    /// Stores contacts and their `created` events with one statement.
    async fn insert(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        case_id: &CaseId,
        actor: &Actor,
        rows: &[(ContactChange, SearchKeys)],
    ) -> Result<(), Error> {
        let column = |f: fn(&Contact) -> Option<&str>| -> Vec<Option<&str>> {
            rows.iter().map(|(c, _)| f(&c.contact)).collect()
        };
        let key = |f: fn(&SearchKeys) -> Option<&str>| -> Vec<Option<&str>> {
            rows.iter().map(|(_, k)| f(k)).collect()
        };
        sqlx::query(self.inner.sql.insert_contacts.clone())
            .bind(case_id.as_str())
            .bind(actor.as_str())
            .bind(rows.iter().map(|(c, _)| *c.contact.id.as_uuid()).collect::<Vec<Uuid>>())
            .bind(column(|c| c.title.as_deref()))
            .bind(column(|c| c.first_name.as_deref()))
            .bind(column(|c| c.last_name.as_deref()))
            .bind(column(|c| c.phone.as_deref()))
            .bind(column(|c| c.phone_e164.as_deref()))
            .bind(column(|c| c.email.as_deref()))
            .bind(column(|c| c.address.as_deref()))
            .bind(column(|c| c.relationship.as_deref()))
            .bind(key(|k| k.email.as_deref()))
            .bind(key(|k| k.first_name.as_deref()))
            .bind(key(|k| k.last_name.as_deref()))
            .bind(rows.iter().map(|(c, _)| c.contact.created_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|(c, _)| *c.event.id.as_uuid()).collect::<Vec<Uuid>>())
            .bind(
                rows.iter().map(|(c, _)| field_names(&c.event.changed_fields).join(",")).collect::<Vec<_>>(),
            )
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Runs one versioned write in its own transaction; `false` if the version no longer
    /// matched (a concurrent change won), in which case nothing was written.
    async fn write_if_current(
        &self,
        statement: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<bool, Error> {
        let mut tx = self.begin().await?;
        let result: PgQueryResult = match statement.execute(&mut *tx).await {
            Ok(result) => result,
            Err(e) => {
                let e = PgError::from(e);
                return if e.is_transient_conflict() { Ok(false) } else { Err(e.into()) };
            }
        };
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    fn update_statement<'a>(
        &'a self,
        current: &Contact,
        change: &'a ContactChange,
        keys: &'a SearchKeys,
    ) -> Result<sqlx::query::Query<'a, Postgres, sqlx::postgres::PgArguments>, Error> {
        let (next, event) = (&change.contact, &change.event);
        Ok(sqlx::query(self.inner.sql.update_contact.clone())
            .bind(next.case_id.as_str())
            .bind(next.id.as_uuid())
            .bind(version(current.version)?)
            .bind(next.title.as_deref())
            .bind(next.first_name.as_deref())
            .bind(next.last_name.as_deref())
            .bind(next.phone.as_deref())
            .bind(next.phone_e164.as_deref())
            .bind(next.email.as_deref())
            .bind(next.address.as_deref())
            .bind(next.relationship.as_deref())
            .bind(keys.email.as_deref())
            .bind(keys.first_name.as_deref())
            .bind(keys.last_name.as_deref())
            .bind(version(next.version)?)
            .bind(next.updated_at)
            .bind(next.updated_by.as_str())
            .bind(event.id.as_uuid())
            .bind(field_names(&event.changed_fields)))
    }

    /// The conflict to report when concurrent writers kept winning.
    async fn gave_up(&self, case_id: &CaseId, id: ContactId, expected: Option<u64>) -> Error {
        match self.fetch_contact(case_id, id).await {
            Ok(current) => Error::Conflict { expected, current: current.version },
            Err(e) => e,
        }
    }
}

#[async_trait]
impl ContactRepository for PgContactRepository {
    #[instrument(name = "renraku.create", skip_all, fields(case_id = %case_id))]
    async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error> {
        let change = plan::create(&self.inner.rules, case_id, input, actor)?;
        let keys = SearchKeys::of(&change.contact);
        let mut tx = self.begin().await?;
        let rows = [(change, keys)];
        self.insert(&mut tx, case_id, actor, &rows).await?;
        tx.commit().await.map_err(backend)?;
        let [(change, _)] = rows;
        Ok(change.contact)
    }

    /// Validation is CPU work and storing is waiting for the server, so they overlap: while
    /// one chunk of rows is stored, the next is validated on the blocking pool. Invalid
    /// input anywhere rolls everything back, and the error lists every invalid row.
    #[instrument(name = "renraku.create_many", skip_all, fields(case_id = %case_id, count = inputs.len()))]
    async fn create_many(
        &self,
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
                let (rules, case_id, actor) = (self.inner.rules.clone(), case_id.clone(), actor.clone());
                tokio::task::spawn_blocking(move || plan_rows(&rules, &case_id, chunk, &actor, first))
            })
        };
        let mut planning = plan_next(&mut chunks);
        let mut tx = self.begin().await?;
        let mut contacts = Vec::new();
        let mut invalid = ValidationErrors::default();
        while let Some(task) = planning.take() {
            let planned = task.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            planning = plan_next(&mut chunks);
            match planned {
                Ok(rows) if invalid.is_empty() => {
                    self.insert(&mut tx, case_id, actor, &rows).await?;
                    contacts.extend(rows.into_iter().map(|(change, _)| change.contact));
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
        tx.commit().await.map_err(backend)?;
        Ok(contacts)
    }

    #[instrument(name = "renraku.get", skip_all, fields(case_id = %case_id))]
    async fn get(&self, case_id: &CaseId, id: ContactId) -> Result<Contact, Error> {
        self.fetch_contact(case_id, id).await
    }

    #[instrument(name = "renraku.list", skip_all, fields(case_id = %case_id))]
    async fn list(&self, case_id: &CaseId, page: PageRequest) -> Result<Page<Contact>, Error> {
        let query = sqlx::query_as(self.inner.sql.list_contacts.clone())
            .bind(case_id.as_str())
            .bind(after(page))
            .bind(overfetch(page));
        self.fetch_contacts(query, page).await
    }

    #[instrument(name = "renraku.update", skip_all, fields(case_id = %case_id))]
    async fn update(
        &self,
        case_id: &CaseId,
        id: ContactId,
        patch: ContactPatch,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<Contact, Error> {
        let patch = self.inner.rules.check_patch(patch)?;
        for _ in 0..MAX_ATTEMPTS {
            // After a lost race the next round reads the winner's state: with an expected
            // version `plan::update` then reports the conflict, without one it applies the
            // patch on top of the winner's change.
            let current = self.fetch_contact(case_id, id).await?;
            let Some(change) = plan::update(&current, &patch, expected, actor)? else { return Ok(current) };
            let keys = SearchKeys::of(&change.contact);
            if self.write_if_current(self.update_statement(&current, &change, &keys)?).await? {
                return Ok(change.contact);
            }
        }
        Err(self.gave_up(case_id, id, expected).await)
    }

    #[instrument(name = "renraku.delete", skip_all, fields(case_id = %case_id))]
    async fn delete(
        &self,
        case_id: &CaseId,
        id: ContactId,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<(), Error> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.fetch_contact(case_id, id).await?;
            let event = plan::delete(&current, expected, actor)?;
            let statement = sqlx::query(self.inner.sql.delete_contact.clone())
                .bind(case_id.as_str())
                .bind(id.as_uuid())
                .bind(version(current.version)?)
                .bind(event.id.as_uuid())
                .bind(event.actor.as_str())
                .bind(field_names(&event.changed_fields))
                .bind(event.at);
            if self.write_if_current(statement).await? {
                return Ok(());
            }
        }
        Err(self.gave_up(case_id, id, expected).await)
    }

    #[instrument(name = "renraku.erase_case", skip_all, fields(case_id = %case_id))]
    async fn erase_case(&self, case_id: &CaseId, actor: &Actor) -> Result<u64, Error> {
        let mut tx = self.begin().await?;
        let erased = sqlx::query(self.inner.sql.erase_case.clone())
            .bind(case_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if let Some(event) = plan::erase(case_id, erased, actor) {
            insert_event(&self.inner.sql, &mut tx, &event).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(erased)
    }

    #[instrument(name = "renraku.case", skip_all, fields(case_id = %case_id))]
    async fn case(&self, case_id: &CaseId) -> Result<Case, Error> {
        type Summary = (i64, Option<chrono::DateTime<chrono::Utc>>, Option<chrono::DateTime<chrono::Utc>>);
        let (count, first_created_at, last_changed_at): Summary = self
            .bounded(async {
                sqlx::query_as(self.inner.sql.case_summary.clone())
                    .bind(case_id.as_str())
                    .fetch_one(&self.inner.pool)
                    .await
                    .map_err(backend)
            })
            .await?;
        match (u64::try_from(count), first_created_at, last_changed_at) {
            (Ok(contact_count @ 1..), Some(first_created_at), Some(last_changed_at)) => {
                Ok(Case { id: case_id.clone(), contact_count, first_created_at, last_changed_at })
            }
            _ => Err(Error::case_not_found(case_id)),
        }
    }

    #[instrument(name = "renraku.audit_trail", skip_all, fields(case_id = %case_id))]
    async fn audit_trail(&self, case_id: &CaseId, page: PageRequest) -> Result<Page<AuditEvent>, Error> {
        let rows: Vec<EventRow> = self
            .bounded(async {
                sqlx::query_as(self.inner.sql.list_events.clone())
                    .bind(case_id.as_str())
                    .bind(after(page))
                    .bind(overfetch(page))
                    .fetch_all(&self.inner.pool)
                    .await
                    .map_err(backend)
            })
            .await?;
        let items = rows.into_iter().map(AuditEvent::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, page.limit, |e| *e.id.as_uuid()))
    }

    #[instrument(name = "renraku.find", skip_all)]
    async fn find(&self, query: ContactQuery, page: PageRequest) -> Result<Page<Contact>, Error> {
        let sql = &self.inner.sql;
        let query = match self.inner.rules.check_query(query)? {
            SearchKey::Phone(e164) => sqlx::query_as(sql.find_by_phone.clone()).bind(e164),
            SearchKey::Email(email) => sqlx::query_as(sql.find_by_email.clone()).bind(email),
            SearchKey::NamePrefix(prefix) => {
                // Names hold letters only, so no name can start with a prefix that has no
                // successor (one made of U+10FFFF alone).
                let Some(upper) = prefix_successor(&prefix) else { return Ok(Page::empty()) };
                sqlx::query_as(sql.find_by_name.clone()).bind(prefix).bind(upper)
            }
        };
        self.fetch_contacts(query.bind(after(page)).bind(overfetch(page)), page).await
    }
}

async fn insert_event(
    sql: &Statements,
    tx: &mut Transaction<'static, Postgres>,
    event: &AuditEvent,
) -> Result<(), Error> {
    sqlx::query(sql.insert_event.clone())
        .bind(event.case_id.as_str())
        .bind(event.id.as_uuid())
        .bind(event.contact_id.map(|id| *id.as_uuid()))
        .bind(event.action.as_str())
        .bind(event.actor.as_str())
        .bind(field_names(&event.changed_fields))
        .bind(event.at)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
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

/// Validates and plans one chunk of a bulk create, with its search keys; validation errors
/// carry the inputs' indexes in the whole batch.
fn plan_rows(
    rules: &Rules,
    case_id: &CaseId,
    chunk: Vec<NewContact>,
    actor: &Actor,
    first: usize,
) -> Result<Vec<(ContactChange, SearchKeys)>, Error> {
    let changes = plan::create_many(rules, case_id, chunk, actor).map_err(|error| match error {
        Error::Validation(errors) => Error::Validation(
            errors.into_iter().map(|e| FieldError { index: e.index.map(|i| i + first), ..e }).collect(),
        ),
        other => other,
    })?;
    Ok(changes
        .into_iter()
        .map(|change| {
            let keys = SearchKeys::of(&change.contact);
            (change, keys)
        })
        .collect())
}

/// The position a page starts after; the nil UUID sorts before every id.
fn after(page: PageRequest) -> Uuid {
    page.after.map_or(Uuid::nil(), |cursor| cursor.position())
}

/// One row more than the page holds, to learn whether there is a next page.
fn overfetch(page: PageRequest) -> i64 {
    i64::try_from(page.limit.get()).unwrap_or(i64::MAX) + 1
}

/// Hosts spawn these futures (in servers, in `tokio::spawn`): they must stay `Send`.
#[cfg(test)]
#[allow(dead_code, clippy::let_underscore_future)]
mod futures_are_send {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    fn check(repo: &PgContactRepository, case: &CaseId, actor: &Actor) {
        assert_send(repo.migrate());
        assert_send(repo.create(case, NewContact::default(), actor));
        assert_send(repo.update(case, ContactId::new(), ContactPatch::default(), None, actor));
    }
}
