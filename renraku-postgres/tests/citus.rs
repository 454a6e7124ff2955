//! renraku-postgres on a real Citus cluster (a coordinator and two workers; see
//! `TestServer::citus`): the conformance suite on distributed tables, the distribute step
//! (twice, concurrently, on existing rows and later tables, and what it refuses), and the
//! backend's fault tests that make sense there. Every test name contains `citus`: leave them
//! out with `cargo test -- --skip citus` on a machine without Citus.

use renraku_core::{
    ContactField, ContactPatch, ContactQuery, ContactRepository, ContactRepositoryExt, Error, PageRequest,
    Rules,
};
use renraku_postgres::testkit::{
    TestServer, fresh_distributed_repository, fresh_distributed_repository_with, fresh_repository_on,
};
use renraku_postgres::{PgContactRepository, PgError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool};

async fn fresh(setup: renraku_core::testkit::Setup) -> PgContactRepository {
    fresh_distributed_repository_with(setup.rules, |b| b.read_audit(setup.read_audit)).await
}

/// The conformance suite on distributed tables: `citus::conformance::...`.
mod citus {
    use super::fresh;

    renraku_core::conformance_tests!(fresh);
}

#[path = "common/feed.rs"]
mod feed;

/// The feed on Citus when the transaction that began first commits last: the feed is the
/// coordinator's `_renraku_feed` (see `common/feed.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citus_feed_holds_back_events_until_earlier_transactions_commit() {
    let repo = fresh_distributed_repository(Rules::default()).await;
    feed::transactions_that_commit_out_of_order_are_delivered_once(&repo, "_renraku_feed").await;
}

#[path = "common/shared.rs"]
mod shared;
use shared::{case, clerk, named};

fn pg_error(error: &Error) -> Option<&PgError> {
    std::error::Error::source(error).and_then(|source| source.downcast_ref::<PgError>())
}

/// A repository in a new schema on the cluster, migrated but not distributed.
async fn migrated() -> PgContactRepository {
    fresh_repository_on(TestServer::citus(), Rules::default(), renraku_postgres::testkit::identity).await
}

/// How Citus holds each table of `schema`: name, method, column, colocation group, shards.
async fn layout(pool: &PgPool, schema: &str) -> Vec<(String, String, String, i32, i64)> {
    sqlx::query_as(
        "SELECT c.relname::text, p.partmethod::text, column_to_column_name(p.logicalrelid, p.partkey),
            p.colocationid, (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid)
        FROM pg_dist_partition p
        JOIN pg_class c ON c.oid = p.logicalrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn assert_distributed_by_case(layout: &[(String, String, String, i32, i64)], tables: &[&str]) {
    let names: Vec<&str> = layout.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(names, tables, "these tables and only these are distributed");
    let group = layout[0].3;
    for (name, method, column, colocation, shards) in layout {
        assert_eq!(
            (method.as_str(), column.as_str()),
            ("h", "case_id"),
            "{name} is hash-distributed by case_id"
        );
        assert_eq!(*colocation, group, "{name} is colocated with the others");
        assert!(*shards > 1, "{name} has shards");
    }
}

#[tokio::test]
async fn citus_distribute_twice_changes_nothing_the_second_time() {
    let repo = migrated().await;
    repo.distribute().await.expect("first distribute");
    let first = layout(repo.pool(), repo.schema()).await;
    assert_distributed_by_case(&first, &["audit_events", "contacts"]);
    let shards: i64 = sqlx::query_scalar("SELECT current_setting('citus.shard_count')::bigint")
        .fetch_one(repo.pool())
        .await
        .unwrap();
    assert_eq!(first[0].4, shards, "Citus's shard count");

    repo.distribute().await.expect("second distribute");
    repo.migrate().await.expect("a restart migrates again: nothing to do");
    repo.distribute().await.expect("and distributes again: nothing to do");
    assert_eq!(layout(repo.pool(), repo.schema()).await, first, "unchanged");
    let contact = repo.create(&case(), named("Ada"), &clerk()).await.unwrap();
    assert_eq!(repo.get(&contact.case_id, contact.id, &clerk()).await.unwrap(), contact);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citus_concurrent_starts_all_migrate_and_distribute() {
    let schema = format!("renraku_test_{}", uuid::Uuid::now_v7().simple());
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        // Each start has its own pool, as separate processes would.
        let schema = schema.clone();
        starts.spawn(async move {
            let pool = TestServer::citus().pool(2).await;
            let repo = PgContactRepository::builder(pool).schema(schema).build().unwrap();
            repo.migrate().await?;
            repo.distribute().await?;
            Ok::<_, Error>(repo)
        });
    }
    let mut repos = Vec::new();
    while let Some(start) = starts.join_next().await {
        repos.push(start.unwrap().expect("every start succeeds"));
    }
    let repo = &repos[0];
    assert_distributed_by_case(&layout(repo.pool(), &schema).await, &["audit_events", "contacts"]);
    let case = case();
    for (i, repo) in repos.iter().enumerate() {
        repo.create(&case, named("Ada").with(ContactField::Relationship, format!("{i}")), &clerk())
            .await
            .unwrap();
    }
    assert_eq!(repo.list_all(&case, &clerk()).await.unwrap().len(), repos.len());
}

#[tokio::test]
async fn citus_distribute_moves_existing_rows_and_takes_later_tables() {
    let repo = migrated().await;
    let case = case();
    let inputs: Vec<_> =
        (0..300).map(|i| named("Ada").with(ContactField::Relationship, format!("{i}"))).collect();
    let before = repo.create_many(&case, inputs, &clerk()).await.unwrap();
    repo.distribute().await.expect("distribute a table with rows");
    assert_eq!(repo.list_all(&case, &clerk()).await.unwrap(), before, "every row is in the shards");
    let events =
        repo.audit_trail(&case, PageRequest::first(renraku_core::PageLimit::MAX), &clerk()).await.unwrap();
    assert_eq!(events.items.len(), 300, "and every event");
    let local: i64 = sqlx::query_scalar(
        "SELECT sum(pg_relation_size(c.oid))::bigint FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname IN ('contacts', 'audit_events')",
    )
    .bind(repo.schema())
    .fetch_one(repo.pool())
    .await
    .unwrap();
    assert_eq!(local, 0, "the coordinator keeps no local copy");

    // A later migration adds a table: the next start distributes it beside the others.
    let notes = format!(
        "CREATE TABLE \"{}\".notes (case_id text COLLATE \"C\" NOT NULL, id uuid NOT NULL, \
         PRIMARY KEY (case_id, id))",
        repo.schema()
    );
    repo.pool().execute(sqlx::AssertSqlSafe(notes)).await.unwrap();
    repo.distribute().await.expect("distribute the new table");
    assert_distributed_by_case(
        &layout(repo.pool(), repo.schema()).await,
        &["audit_events", "contacts", "notes"],
    );
}

#[tokio::test]
async fn citus_distribute_refuses_a_table_that_citus_holds_otherwise() {
    let repo = fresh_distributed_repository(Rules::default()).await;
    let lookup = format!("\"{}\".lookup", repo.schema());
    repo.pool()
        .execute(sqlx::AssertSqlSafe(format!("CREATE TABLE {lookup} (case_id text PRIMARY KEY)")))
        .await
        .unwrap();
    sqlx::query("SELECT create_reference_table($1::regclass)")
        .bind(&lookup)
        .execute(repo.pool())
        .await
        .unwrap();
    let err = repo.distribute().await.unwrap_err();
    assert!(
        matches!(pg_error(&err), Some(PgError::DistributedOtherwise(table)) if table == "lookup"),
        "{err:?}"
    );
    assert!(pg_error(&err).unwrap().to_string().contains("lookup"), "the error names the table");
}

#[tokio::test]
async fn citus_distribute_without_the_extension_is_a_typed_error() {
    // A database of the coordinator without `CREATE EXTENSION citus`.
    let server = TestServer::citus();
    let name = format!("plain_{}", uuid::Uuid::now_v7().simple());
    server.pool(1).await.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    let options: PgConnectOptions = server.url().parse::<PgConnectOptions>().unwrap().database(&name);
    let pool = PgPoolOptions::new().max_connections(2).connect_with(options).await.unwrap();
    let repo = PgContactRepository::builder(pool).build().unwrap();
    repo.migrate().await.unwrap();
    let err = repo.distribute().await.unwrap_err();
    assert!(matches!(pg_error(&err), Some(PgError::CitusMissing)), "{err:?}");
    assert!(format!("{err} {}", pg_error(&err).unwrap()).contains("citus extension"));
    // The repository still works, on the plain tables.
    repo.create(&case(), named("Ada"), &clerk()).await.unwrap();
}

/// With `plan_cache_mode = force_generic_plan`, Citus cannot plan 7 of the 12 statements:
/// `distribute()` refuses such a connection.
#[tokio::test]
async fn citus_force_generic_plan_breaks_seven_statements_and_distribute_refuses_it() {
    let good = fresh_distributed_repository(Rules::default()).await;
    let case = case();
    let ada = good
        .create(&case, named("Ada").with(ContactField::Email, "ada@example.org"), &clerk())
        .await
        .unwrap();
    let grace = good.create(&case, named("Grace"), &clerk()).await.unwrap();

    let generic = |mode: &str| {
        let options = TestServer::citus().url().parse::<PgConnectOptions>().unwrap();
        let options = options.options([("plan_cache_mode", mode)]);
        let pool = PgPoolOptions::new().max_connections(2).connect_lazy_with(options);
        PgContactRepository::builder(pool).schema(good.schema()).build().unwrap()
    };
    let repo = generic("force_generic_plan");
    let err = repo.distribute().await.unwrap_err();
    assert!(matches!(pg_error(&err), Some(PgError::GenericPlansForced)), "{err:?}");

    let broken = |result: Result<(), Error>, what: &str| {
        let err = result.expect_err(what);
        assert!(matches!(pg_error(&err), Some(PgError::Database { .. })), "{what}: {err:?}");
    };
    let page = PageRequest::default;
    // Fast-path statements (one table, `case_id = $1`) work.
    assert_eq!(repo.get(&case, ada.id, &clerk()).await.unwrap(), ada, "select_contact");
    assert_eq!(repo.list(&case, page(), &clerk()).await.unwrap().items.len(), 2, "list_contacts");
    assert_eq!(repo.audit_trail(&case, page(), &clerk()).await.unwrap().items.len(), 2, "list_events");
    // The other seven fail.
    broken(repo.create(&case, named("Alan"), &clerk()).await.map(drop), "insert_contacts");
    let patch = ContactPatch::default().set(ContactField::Title, "Dr");
    broken(repo.update(&case, ada.id, patch.clone(), None, &clerk()).await.map(drop), "update_contact");
    broken(repo.delete(&case, grace.id, None, &clerk()).await, "delete_contact");
    broken(repo.case(&case, &clerk()).await.map(drop), "case_summary");
    broken(
        repo.find(ContactQuery::Phone("+49 30 1234567".into()), page(), &clerk()).await.map(drop),
        "find_by_phone",
    );
    broken(
        repo.find(ContactQuery::Email("ada@example.org".into()), page(), &clerk()).await.map(drop),
        "find_by_email",
    );
    broken(
        repo.find(ContactQuery::NamePrefix("ad".into()), page(), &clerk()).await.map(drop),
        "find_by_name",
    );
    // erase_case and insert_event are fast-path too.
    assert_eq!(repo.erase_case(&case, &clerk()).await.unwrap(), 2, "erase_case, insert_event");

    // `force_custom_plan` is fine.
    let repo = generic("force_custom_plan");
    repo.distribute().await.expect("force_custom_plan is accepted");
    let alan = repo.create(&case, named("Alan"), &clerk()).await.unwrap();
    repo.update(&case, alan.id, patch, None, &clerk()).await.unwrap();
    assert_eq!(
        repo.find(ContactQuery::NamePrefix("al".into()), page(), &clerk()).await.unwrap().items.len(),
        1
    );
    assert_eq!(repo.case(&case, &clerk()).await.unwrap().contact_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citus_thirty_two_concurrent_updaters_lose_nothing() {
    shared::thirty_two_concurrent_updaters_lose_nothing(fresh_distributed_repository(Rules::default()).await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citus_a_bulk_create_killed_in_flight_stores_nothing() {
    // The lock is taken on the coordinator, where the insert waits for it.
    let admin = TestServer::citus().pool(2).await;
    shared::a_bulk_create_killed_in_flight_stores_nothing(
        fresh_distributed_repository(Rules::default()).await,
        admin,
    )
    .await;
}

#[tokio::test]
async fn citus_hostile_strings_are_stored_verbatim() {
    let repo = fresh_distributed_repository(Rules::default()).await;
    shared::hostile_strings_are_stored_verbatim(&repo).await;
    assert_distributed_by_case(&layout(repo.pool(), repo.schema()).await, &["audit_events", "contacts"]);
}

/// After `distribute()`, a write is two router statements on one worker: Citus commits it in
/// one phase and records no two-phase transaction (`pg_dist_transaction`). A repository that
/// has not called `distribute()` writes the audit row with a CTE, which Citus commits in two.
#[tokio::test]
async fn citus_writes_after_distribute_commit_in_one_phase() {
    let schema = fresh_distributed_repository(Rules::default()).await.schema().to_owned();
    // One connection each, to find their transactions by the coordinator's backend pid.
    let on_one_connection = || async {
        let repo =
            PgContactRepository::builder(TestServer::citus().pool(1).await).schema(&schema).build().unwrap();
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(repo.pool()).await.unwrap();
        (repo, pid)
    };
    let two_phase = |pid: i32| async move {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_dist_transaction WHERE gid LIKE $1")
            .bind(format!("citus\\_%\\_{pid}\\_%"))
            .fetch_one(&TestServer::citus().pool(1).await)
            .await
            .unwrap();
        count
    };
    let writes = |repo: PgContactRepository| async move {
        let case = case();
        let ada = repo.create(&case, named("Ada"), &clerk()).await.unwrap();
        let patch = ContactPatch::default().set(ContactField::Title, "Dr");
        let ada = repo.update(&case, ada.id, patch, Some(1), &clerk()).await.unwrap();
        repo.delete(&case, ada.id, Some(2), &clerk()).await.unwrap();
        repo.create(&case, named("Grace"), &clerk()).await.unwrap();
        repo.erase_case(&case, &clerk()).await.unwrap();
        let events = repo.audit_trail(&case, PageRequest::default(), &clerk()).await.unwrap().items;
        let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["created", "updated", "deleted", "created", "case_erased"]);
    };

    // Counted before and after: another test's connection may have had the same pid.
    let (routed, pid) = on_one_connection().await;
    routed.distribute().await.unwrap();
    let before = two_phase(pid).await;
    writes(routed).await;
    // (At most as many: Citus's maintenance daemon may recover old ones meanwhile.)
    assert!(two_phase(pid).await <= before, "one-phase commits only");

    // Citus's maintenance daemon forgets committed two-phase transactions once a minute:
    // switched off here, so that the CTE's two-phase commits stay visible.
    let admin = TestServer::citus().pool(1).await;
    sqlx::query("ALTER SYSTEM SET citus.recover_2pc_interval = -1").execute(&admin).await.unwrap();
    sqlx::query("SELECT pg_reload_conf()").execute(&admin).await.unwrap();
    let (cte, pid) = on_one_connection().await;
    let before = two_phase(pid).await;
    writes(cte).await;
    assert!(two_phase(pid).await > before, "the CTE's writes commit in two phases");
}
