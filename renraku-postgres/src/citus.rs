//! Distributing renraku's tables with Citus: [`PgContactRepository::distribute`].

use renraku_core::Error;
use sqlx::postgres::types::Oid;
use tracing::instrument;

use crate::error::backend;
use crate::{PgContactRepository, PgError};

/// The first key of the advisory lock that serializes `distribute()` (ASCII `rnrk`); the
/// second is the hash of the schema's name, so repositories in other schemas do not wait.
const LOCK_CLASS: i32 = 0x726e_726b;

/// The tables of the schema, with how Citus holds each one now (`NULL`s if it does not).
/// renraku's own bookkeeping (`_renraku_migrations`, `_renraku_search_keys`) stays in
/// ordinary tables on the coordinator; partitions follow their parent.
const TABLES: &str = "SELECT c.oid, c.relname::text, p.partmethod::text,
        CASE WHEN p.partmethod = 'h' THEN column_to_column_name(p.logicalrelid, p.partkey) END,
        p.colocationid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND left(c.relname, 9) <> '_renraku_'
    ORDER BY c.relname";

/// One table of the schema: oid, name, Citus's partition method, distribution column and
/// colocation group.
type Table = (Oid, String, Option<String>, Option<String>, Option<i32>);

impl PgContactRepository {
    /// Distributes renraku's tables over a [Citus](https://www.citusdata.com/) cluster by
    /// `case_id`; safe to call at every start, after [`migrate`](Self::migrate), and from
    /// several processes at once.
    ///
    /// Call it on a pool connected to the **coordinator**, where the host's application
    /// connects anyway. In one transaction it
    ///
    /// 1. checks that the database has the `citus` extension ([`PgError::CitusMissing`] if
    ///    not) and that the connection does not force generic plans
    ///    ([`PgError::GenericPlansForced`], see below);
    /// 2. takes a transaction-level advisory lock for the schema, so that processes starting
    ///    at the same moment take turns, and each sees what the one before it did;
    /// 3. distributes `contacts` by `case_id` (`create_distributed_table`), and every other
    ///    table of the schema (`audit_events`, and any table a later migration adds: each
    ///    needs a `case_id` column) by `case_id`, colocated with `contacts`, so that a case's
    ///    contacts and events live in shards on the same worker. Tables that already are
    ///    distributed that way are skipped, so a second call does nothing; a table that Citus
    ///    holds in another way is [`PgError::DistributedOtherwise`]. Rows already in a table
    ///    are moved into its shards (and the coordinator's local copy is truncated), which
    ///    takes as long as copying them: no statement timeout applies here.
    ///
    /// From then on this repository (and its clones) writes each audit row with a second
    /// statement in the write's transaction rather than a data-modifying CTE, so that a write
    /// is two router statements on one worker with a one-phase commit (1.4 to 1.9 times the
    /// throughput of the CTE on Citus in BENCHMARKS.md; a repository that has not called
    /// `distribute()` still works on distributed tables, with two-phase commits).
    ///
    /// The number of shards is Citus's (`citus.shard_count`, 32 unless the database, the
    /// role or the connection sets another) when a table is first distributed.
    ///
    /// # What runs where
    ///
    /// - **Migrations always run on the coordinator**, through the same pool. Once the
    ///   tables are distributed, Citus applies a later migration's `ALTER TABLE` and
    ///   `CREATE INDEX` to every shard; a table that a later migration creates is local to
    ///   the coordinator until the next `distribute()`, so run `migrate()` then
    ///   `distribute()` at every start, before serving. renraku's bookkeeping tables
    ///   (`_renraku_…`) stay on the coordinator.
    /// - **Every operation scoped to one case** (create, bulk create, get, list, update,
    ///   delete, erase, case summary, audit trail) is a router query: the coordinator sends
    ///   it to the one worker that holds the case's shards.
    /// - **Search across cases** ([`find`](renraku_core::ContactRepository::find)) fans out
    ///   to every shard, each using its own search indexes, and the coordinator merges the
    ///   pages.
    ///
    /// # `plan_cache_mode`
    ///
    /// With `plan_cache_mode = force_generic_plan`, Citus cannot run the 7 of renraku's
    /// 12 statements that are not single-table lookups by `case_id` (its "fast path"): the
    /// inserts and the versioned update and delete with their audit row, the case summary
    /// and the three searches fail with "could not create distributed plan". The default
    /// `auto` (and `force_custom_plan`) work. So `distribute()` refuses a connection that
    /// forces generic plans, at every start; a host that wants them elsewhere sets
    /// `plan_cache_mode = auto` for renraku's pool (for example in the connection options).
    ///
    /// # Errors
    /// [`Error::Backend`] with [`PgError::CitusMissing`], [`PgError::GenericPlansForced`],
    /// [`PgError::DistributedOtherwise`], or a failed statement (SQLSTATE `42P01` if
    /// `migrate()` has not created the tables yet).
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool) -> renraku_core::Result<()> {
    /// let repo = renraku_postgres::PgContactRepository::builder(pool).build()?;
    /// repo.migrate().await?;
    /// repo.distribute().await?;
    /// # Ok(())
    /// # }
    /// ```
    #[instrument(name = "renraku.distribute", skip_all, fields(schema = %self.schema()))]
    pub async fn distribute(&self) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(backend)?;
        let citus: Option<String> =
            sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if citus.is_none() {
            return Err(PgError::CitusMissing.into());
        }
        let plans: String = sqlx::query_scalar("SELECT current_setting('plan_cache_mode')")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        if plans == "force_generic_plan" {
            return Err(PgError::GenericPlansForced.into());
        }
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(self.schema())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;

        // Fails with 42P01 (undefined table) before the first migration.
        let contacts: Oid = sqlx::query_scalar("SELECT $1::regclass::oid")
            .bind(format!("\"{}\".contacts", self.schema()))
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        let tables: Vec<Table> =
            sqlx::query_as(TABLES).bind(self.schema()).fetch_all(&mut *tx).await.map_err(backend)?;
        let (first, rest): (Vec<Table>, Vec<Table>) = tables.into_iter().partition(|t| t.0 == contacts);
        let mut distributed = Vec::new();
        let mut group = None;
        for (oid, name, method, column, colocation) in first.into_iter().chain(rest) {
            let is_contacts = oid == contacts;
            if method.is_none() {
                if name == "audit_events" {
                    // The feed of a distributed repository is `_renraku_feed` (see `feed.rs`):
                    // the events stored before start it, at the positions they had.
                    let copy = format!(
                        "INSERT INTO \"{s}\"._renraku_feed (tx, case_id, id, contact_id, action, actor,
                            changed_fields, at)
                        SELECT tx, case_id, id, contact_id, action, actor, changed_fields, at
                        FROM \"{s}\".audit_events ON CONFLICT DO NOTHING",
                        s = self.schema()
                    );
                    sqlx::query(sqlx::AssertSqlSafe(copy)).execute(&mut *tx).await.map_err(backend)?;
                }
                let sql = if is_contacts {
                    "SELECT create_distributed_table($1::oid::regclass, 'case_id')"
                } else {
                    "SELECT create_distributed_table($1::oid::regclass, 'case_id',
                        colocate_with => $2::oid::regclass::text)"
                };
                sqlx::query(sql).bind(oid).bind(contacts).execute(&mut *tx).await.map_err(backend)?;
                distributed.push(oid);
            } else {
                let by_case = method.as_deref() == Some("h") && column.as_deref() == Some("case_id");
                let colocated = is_contacts || (colocation.is_some() && colocation == group);
                if !(by_case && colocated) {
                    return Err(PgError::DistributedOtherwise(name).into());
                }
            }
            if is_contacts {
                group = sqlx::query_scalar(
                    "SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $1::oid::regclass",
                )
                .bind(oid)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            }
        }
        for oid in distributed {
            // The rows now live in the shards; the coordinator's local copy is dead weight.
            sqlx::query("SELECT truncate_local_data_after_distributing_table($1::oid::regclass)")
                .bind(oid)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        self.write_in_two_statements();
        Ok(())
    }
}
