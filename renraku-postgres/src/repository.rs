//! [`PgContactRepository`]: the repository, its shared state, and the trait's entry points.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use renraku_core::{
    Actor, AuditEvent, Case, CaseId, Contact, ContactId, ContactPatch, ContactQuery, ContactRef,
    ContactRepository, Error, FeedCursor, FeedPage, NewContact, Page, PageLimit, PageRequest, PersonRecord,
    Purged, Rules,
};
use sqlx::{PgPool, Postgres, Transaction};
use tracing::instrument;

use crate::error::{PgError, backend};
use crate::sql::Statements;
use crate::{feed, reads, writes};

/// A [`ContactRepository`] on PostgreSQL. Cheap to clone: clones share the pool.
///
/// Build it with [`PgContactRepository::builder`] and create its tables with
/// [`migrate`](Self::migrate). See the [crate docs](crate).
#[derive(Clone)]
pub struct PgContactRepository {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) schema: String,
    pub(crate) statement_timeout: Duration,
    pub(crate) rules: Rules,
    pub(crate) read_audit: bool,
    pub(crate) sql: Statements,
    /// Whether writes store the audit row with a statement of its own, one-phase on a
    /// Citus worker, and the feed reads `_renraku_feed`; set by
    /// [`distribute`](PgContactRepository::distribute).
    pub(crate) two_statements: AtomicBool,
    /// The feed's listener, started by the first wait (see `feed.rs`).
    pub(crate) feed_waker: std::sync::OnceLock<crate::feed::FeedWaker>,
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

impl PgContactRepository {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Self { inner }
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

    /// How long any one wait for the server may take (see the builder).
    #[must_use]
    pub fn statement_timeout(&self) -> Duration {
        self.inner.statement_timeout
    }

    pub(crate) fn rules(&self) -> &Rules {
        &self.inner.rules
    }

    /// Whether reads are recorded as audit events.
    #[must_use]
    pub fn read_audit(&self) -> bool {
        self.inner.read_audit
    }

    pub(crate) fn sql(&self) -> &Statements {
        &self.inner.sql
    }

    /// Whether a write stores its audit row with a second statement instead of a
    /// data-modifying CTE (see `writes.rs`).
    pub(crate) fn writes_in_two_statements(&self) -> bool {
        self.inner.two_statements.load(Ordering::Relaxed)
    }

    /// Whether the tables are distributed with Citus (by this repository's
    /// [`distribute`](Self::distribute)): the feed then lives in `_renraku_feed`.
    pub(crate) fn distributed(&self) -> bool {
        self.writes_in_two_statements()
    }

    pub(crate) fn inner_feed_waker(&self) -> &std::sync::OnceLock<crate::feed::FeedWaker> {
        &self.inner.feed_waker
    }

    pub(crate) fn write_in_two_statements(&self) {
        self.inner.two_statements.store(true, Ordering::Relaxed);
    }

    /// Runs one whole operation within the statement timeout, end to end: a write takes
    /// several round trips (a connection, `BEGIN`, the lock, the write, the commit), and
    /// bounding each one alone would let the call take several times the limit. When time
    /// runs out the operation is dropped: its transaction rolls back and sqlx tests the
    /// connection before pooling it again.
    async fn within<T>(&self, operation: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let limit = self.inner.statement_timeout;
        let operation = UNDER_DEADLINE.scope((), operation);
        tokio::time::timeout(limit, operation).await.unwrap_or(Err(PgError::Timeout(limit).into()))
    }

    /// Waits for the server at most the statement timeout: a slow, frozen or absent server
    /// becomes a [`PgError::Timeout`] instead of an endless wait. Every round trip goes
    /// through here (a connection, each statement, the commit). Inside an operation of the
    /// trait, which `within` bounds as a whole, the round trip needs no timer of its own:
    /// a timer per round trip cost 13% of a `get`'s throughput (BENCHMARKS.md, issue 16).
    pub(crate) async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, Error> {
        if UNDER_DEADLINE.try_with(|()| ()).is_ok() {
            return work.await.map_err(backend);
        }
        let limit = self.inner.statement_timeout;
        match tokio::time::timeout(limit, work).await {
            Ok(result) => result.map_err(backend),
            Err(_) => Err(PgError::Timeout(limit).into()),
        }
    }

    /// A transaction whose statements also stop at the statement timeout on the server.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, Error> {
        // Boxed: sqlx's future is 8 KiB, and every operation that awaits it (and each
        // wrapper around it) would otherwise carry and copy it, reads included.
        self.bounded(Box::pin(self.inner.pool.begin_with(self.inner.sql.begin.clone()))).await
    }
}

tokio::task_local! {
    /// Set while an operation runs under its deadline (`within`).
    static UNDER_DEADLINE: ();
}

#[async_trait]
impl ContactRepository for PgContactRepository {
    #[instrument(level = "debug", name = "renraku.create", skip_all, fields(case_id = %case_id))]
    async fn create(&self, case_id: &CaseId, input: NewContact, actor: &Actor) -> Result<Contact, Error> {
        self.within(writes::create(self, case_id, input, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.create_many", skip_all, fields(case_id = %case_id, count = inputs.len()))]
    async fn create_many(
        &self,
        case_id: &CaseId,
        inputs: Vec<NewContact>,
        actor: &Actor,
    ) -> Result<Vec<Contact>, Error> {
        self.within(writes::create_many(self, case_id, inputs, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.get", skip_all, fields(case_id = %case_id))]
    async fn get(&self, case_id: &CaseId, id: ContactId, actor: &Actor) -> Result<Contact, Error> {
        self.within(reads::get(self, case_id, id, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.list", skip_all, fields(case_id = %case_id))]
    async fn list(&self, case_id: &CaseId, page: PageRequest, actor: &Actor) -> Result<Page<Contact>, Error> {
        self.within(reads::list(self, case_id, page, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.update", skip_all, fields(case_id = %case_id))]
    async fn update(
        &self,
        case_id: &CaseId,
        id: ContactId,
        patch: ContactPatch,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<Contact, Error> {
        self.within(writes::update(self, case_id, id, patch, expected, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.delete", skip_all, fields(case_id = %case_id))]
    async fn delete(
        &self,
        case_id: &CaseId,
        id: ContactId,
        expected: Option<u64>,
        actor: &Actor,
    ) -> Result<(), Error> {
        self.within(writes::delete(self, case_id, id, expected, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.erase_case", skip_all, fields(case_id = %case_id))]
    async fn erase_case(&self, case_id: &CaseId, actor: &Actor) -> Result<u64, Error> {
        self.within(writes::erase_case(self, case_id, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.case", skip_all, fields(case_id = %case_id))]
    async fn case(&self, case_id: &CaseId, _actor: &Actor) -> Result<Case, Error> {
        self.within(reads::case(self, case_id)).await
    }

    #[instrument(level = "debug", name = "renraku.audit_trail", skip_all, fields(case_id = %case_id))]
    async fn audit_trail(
        &self,
        case_id: &CaseId,
        page: PageRequest,
        _actor: &Actor,
    ) -> Result<Page<AuditEvent>, Error> {
        self.within(reads::audit_trail(self, case_id, page)).await
    }

    #[instrument(level = "debug", name = "renraku.find", skip_all)]
    async fn find(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<Contact>, Error> {
        self.within(reads::find(self, query, page, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.purge", skip_all)]
    async fn purge(
        &self,
        changed_before: DateTime<Utc>,
        limit: PageLimit,
        actor: &Actor,
    ) -> Result<Purged, Error> {
        self.within(writes::purge(self, changed_before, limit, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.export_person", skip_all)]
    async fn export_person(
        &self,
        query: ContactQuery,
        page: PageRequest,
        actor: &Actor,
    ) -> Result<Page<PersonRecord>, Error> {
        self.within(reads::export_person(self, query, page, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.erase_person", skip_all, fields(count = selection.len()))]
    async fn erase_person(&self, selection: Vec<ContactRef>, actor: &Actor) -> Result<u64, Error> {
        self.within(writes::erase_person(self, selection, actor)).await
    }

    #[instrument(level = "debug", name = "renraku.feed", skip_all)]
    async fn feed(&self, after: &FeedCursor, limit: PageLimit, _actor: &Actor) -> Result<FeedPage, Error> {
        feed::page(self, after, limit).await
    }

    #[instrument(level = "debug", name = "renraku.wait_for_events", skip_all)]
    async fn wait_for_events(
        &self,
        after: &FeedCursor,
        timeout: Duration,
        _actor: &Actor,
    ) -> Result<bool, Error> {
        feed::wait(self, after, timeout).await
    }
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

/// Every operation's future is moved a few times (into its deadline, into the trait's box)
/// before it runs, and each move copies it whole: sqlx's 8 KiB `begin` future inline made a
/// `get` 18 KiB, a quarter of its CPU time in the web example. Boxed, they stay near 1 KiB.
#[cfg(test)]
mod operations_stay_small {
    use super::*;

    const LIMIT: usize = 4 * 1024;

    #[tokio::test]
    async fn no_operation_future_carries_a_large_sqlx_future() {
        let pool =
            sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let repo = PgContactRepository::builder(pool).build().unwrap();
        let (case, id, actor) =
            (CaseId::new("case").unwrap(), ContactId::new(), Actor::new("actor").unwrap());
        let page = renraku_core::PageRequest::default();
        let query = || renraku_core::ContactQuery::Email("a@example.org".into());
        let sizes = [
            ("get", size_of_val(&reads::get(&repo, &case, id, &actor))),
            ("list", size_of_val(&reads::list(&repo, &case, page, &actor))),
            ("find", size_of_val(&reads::find(&repo, query(), page, &actor))),
            ("create", size_of_val(&writes::create(&repo, &case, NewContact::default(), &actor))),
            ("update", size_of_val(&writes::update(&repo, &case, id, ContactPatch::default(), None, &actor))),
            ("delete", size_of_val(&writes::delete(&repo, &case, id, None, &actor))),
        ];
        for (operation, size) in sizes {
            assert!(size <= LIMIT, "the future of {operation} is {size} bytes (at most {LIMIT})");
        }
    }
}
