//! Behaviour that only the PostgreSQL backend has: living beside a host's own migrations,
//! concurrent migration, faults of a real server (stopped, frozen), and hostile strings.

use std::time::{Duration, Instant};

use renraku_core::{
    CaseId, Contact, ContactField, ContactPatch, ContactQuery, ContactRef, ContactRepository,
    ContactRepositoryExt, Error, NewContact, PageLimit, PageRequest, Rules,
};
use renraku_postgres::testkit::{TestServer, fresh_repository};
use renraku_postgres::{PgContactRepository, PgError};
use sqlx::{Executor, PgPool, Row};

#[path = "common/feed.rs"]
mod feed;

/// The feed when the transaction that began first commits last (see `common/feed.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_feed_holds_back_events_until_earlier_transactions_commit() {
    let repo = fresh_repository(Rules::default()).await;
    feed::transactions_that_commit_out_of_order_are_delivered_once(&repo, "audit_events").await;
}

#[path = "common/shared.rs"]
mod shared;
use shared::{case, clerk, named};

/// A database of its own on the shared server, for tests that use the `public` schema.
async fn fresh_database() -> PgPool {
    let server = TestServer::shared();
    let admin = server.pool(2).await;
    let name = format!("host_{}", uuid::Uuid::now_v7().simple());
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create database");
    let url = format!("{}/{name}", server.url().rsplit_once('/').expect("url with a database").0);
    sqlx::postgres::PgPoolOptions::new().max_connections(8).connect(&url).await.expect("connect")
}

async fn host_migrate(pool: &PgPool) {
    sqlx::migrate!("./tests/host_migrations").run(pool).await.expect("host migrations");
}

async fn renraku_migrate(pool: &PgPool) {
    PgContactRepository::builder(pool.clone())
        .build()
        .expect("options")
        .migrate()
        .await
        .expect("renraku migrations");
}

async fn versions(pool: &PgPool, table: &str) -> Vec<i64> {
    let sql = format!("SELECT version FROM {table} WHERE success ORDER BY version");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await.expect("bookkeeping")
}

/// The versions of renraku's migrations: one per file in `migrations/`.
fn renraku_migrations() -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let count = std::fs::read_dir(dir).expect("migrations").count();
    (1..=i64::try_from(count).expect("a few")).collect()
}

async fn assert_both_migrated(pool: &PgPool) {
    assert_eq!(
        versions(pool, "public._sqlx_migrations").await,
        [1, 2],
        "the host's bookkeeping holds only its own"
    );
    assert_eq!(
        versions(pool, "renraku._renraku_migrations").await,
        renraku_migrations(),
        "renraku's bookkeeping is its own"
    );
    for table in ["public.host_cases", "public.host_notes", "renraku.contacts", "renraku.audit_events"] {
        let sql = format!("SELECT count(*) FROM {table}");
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.expect(table);
        assert_eq!(count, 0, "{table} exists");
    }
    let path: String = sqlx::query_scalar("SHOW search_path").fetch_one(pool).await.expect("search_path");
    assert_eq!(path, "\"$user\", public", "the pool's connections keep the host's search_path");
}

#[tokio::test]
async fn migrations_coexist_with_the_hosts_host_first() {
    let pool = fresh_database().await;
    host_migrate(&pool).await;
    renraku_migrate(&pool).await;
    assert_both_migrated(&pool).await;
    // A restart runs both again, in the other order: nothing to do, nothing fails.
    renraku_migrate(&pool).await;
    host_migrate(&pool).await;
    assert_both_migrated(&pool).await;
}

#[tokio::test]
async fn migrations_coexist_with_the_hosts_renraku_first() {
    let pool = fresh_database().await;
    renraku_migrate(&pool).await;
    host_migrate(&pool).await;
    assert_both_migrated(&pool).await;
    host_migrate(&pool).await;
    renraku_migrate(&pool).await;
    assert_both_migrated(&pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_all_succeed() {
    let pool = fresh_database().await;
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..6 {
        // Each run has its own pool, as separate processes would.
        let options = (*pool.connect_options()).clone();
        runs.spawn(async move {
            let own =
                sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_with(options).await.unwrap();
            renraku_migrate(&own).await;
        });
    }
    // The host migrates at the same moment.
    host_migrate(&pool).await;
    while let Some(run) = runs.join_next().await {
        run.expect("every migration run succeeds");
    }
    assert_both_migrated(&pool).await;
}

#[tokio::test]
async fn schemas_are_configurable_and_checked() {
    for bad in ["", "Renraku", "1abc", "pg_catalog", "a;b", "a\"b", "ä", &"a".repeat(64)] {
        let err =
            PgContactRepository::builder(TestServer::shared().pool(1).await).schema(bad).build().unwrap_err();
        let field = err.validation_errors().and_then(|e| e.iter().next()).map(|e| e.field);
        assert_eq!(field, Some("schema"), "{bad:?}");
    }
    let zero =
        PgContactRepository::builder(TestServer::shared().pool(1).await).statement_timeout(Duration::ZERO);
    assert!(zero.build().is_err());

    let (one, two) = (fresh_repository(Rules::default()).await, fresh_repository(Rules::default()).await);
    let case = case();
    let contact = one.create(&case, named("Ada"), &clerk()).await.unwrap();
    assert!(
        matches!(two.get(&case, contact.id, &clerk()).await, Err(Error::NotFound { .. })),
        "schemas are separate stores"
    );
    assert_ne!(one.schema(), two.schema());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_create_killed_in_flight_stores_nothing() {
    let admin = TestServer::shared().pool(2).await;
    shared::a_bulk_create_killed_in_flight_stores_nothing(fresh_repository(Rules::default()).await, admin)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_fails_calls_within_the_timeout_then_heals() {
    let server = TestServer::start();
    let timeout = Duration::from_secs(1);
    let repo = PgContactRepository::builder(server.pool(4).await)
        .statement_timeout(timeout)
        .schema("restart")
        .build()
        .unwrap();
    repo.migrate().await.unwrap();
    let case = case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.unwrap();

    server.stop();
    for call in 0..3 {
        let started = Instant::now();
        let result = match call {
            0 => repo.get(&case, contact.id, &clerk()).await.map(drop),
            1 => repo.create(&case, named("Grace"), &clerk()).await.map(drop),
            _ => repo.list(&case, PageRequest::default(), &clerk()).await.map(drop),
        };
        let waited = started.elapsed();
        let Err(Error::Backend { source, .. }) = &result else { panic!("call {call}: {result:?}") };
        assert!(source.downcast_ref::<PgError>().is_some(), "the source is the backend's error");
        // The pool would wait 30 s for a connection; the repository gives up at its timeout.
        assert!(waited < timeout + Duration::from_secs(2), "call {call} took {waited:?}");
    }

    server.restart();
    assert_eq!(
        repo.get(&case, contact.id, &clerk()).await.unwrap(),
        contact,
        "the same repository works again"
    );
    repo.create(&case, named("Grace"), &clerk()).await.unwrap();
    assert_eq!(repo.list_all(&case, &clerk()).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_options_replace_a_connection_that_broke_while_idle() {
    let server = TestServer::start();
    let connect = |options: sqlx::postgres::PgPoolOptions| options.max_connections(1).connect(server.url());
    let recommended = connect(renraku_postgres::pool_options()).await.unwrap();
    let unchecked = connect(sqlx::postgres::PgPoolOptions::new().test_before_acquire(false)).await.unwrap();
    for pool in [&recommended, &unchecked] {
        sqlx::query("SELECT 1").execute(pool).await.unwrap();
    }

    server.stop();
    server.restart();
    tokio::time::sleep(renraku_postgres::RECENTLY_USED + Duration::from_millis(100)).await;
    // Each pool's one connection broke while it was idle: without a ping, the next call
    // gets it and fails; the recommended options ping it, and replace it.
    assert!(sqlx::query("SELECT 1").execute(&unchecked).await.is_err(), "a broken connection was used");
    sqlx::query("SELECT 1").execute(&recommended).await.expect("the broken connection was replaced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_options_skip_the_ping_only_for_a_connection_used_within_half_a_second() {
    let server = TestServer::shared();
    let admin = server.pool(1).await;
    let pool = renraku_postgres::pool_options().max_connections(1).connect(server.url()).await.unwrap();
    let backend = || sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(&pool);
    // Ends the pool's one connection on the server once it is back in the pool (its return
    // ping done), and waits until the server no longer lists it.
    let break_idle_connection = async |pid: i32| {
        while pool.num_idle() < 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&admin).await.unwrap();
        let gone = "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)";
        while !sqlx::query_scalar::<_, bool>(gone).bind(pid).fetch_one(&admin).await.unwrap() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };

    // Back in the pool just now: handed out without a ping (the round trip saved), so the
    // broken connection fails the call, as documented...
    let pid = backend().await.unwrap();
    let returned = Instant::now();
    break_idle_connection(pid).await;
    let within = returned.elapsed();
    assert!(within < renraku_postgres::RECENTLY_USED, "too slow to test the window: {within:?}");
    assert!(backend().await.is_err(), "a connection used {within:?} ago was pinged");
    // ...and is not handed out again.
    let pid = backend().await.expect("the broken connection was replaced");

    // Idle for longer: pinged before it is handed out, found broken and replaced.
    break_idle_connection(pid).await;
    tokio::time::sleep(renraku_postgres::RECENTLY_USED + Duration::from_millis(100)).await;
    assert_ne!(backend().await.expect("the broken connection was replaced"), pid);
}

/// One call of each operation of the trait, its result without the value.
type Call<'a> = (&'static str, std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>);

fn every_operation<'a>(repo: &'a PgContactRepository, case: &'a CaseId, contact: &Contact) -> Vec<Call<'a>> {
    let (id, reference) = (contact.id, ContactRef::of(contact));
    let patch = || ContactPatch::default().set(ContactField::Title, "Dr.");
    let year_ago = chrono::Utc::now() - chrono::Duration::days(365);
    vec![
        ("create", Box::pin(async move { repo.create(case, named("Grace"), &clerk()).await.map(drop) })),
        (
            "create_many",
            Box::pin(async move { repo.create_many(case, vec![named("Lin")], &clerk()).await.map(drop) }),
        ),
        ("get", Box::pin(async move { repo.get(case, id, &clerk()).await.map(drop) })),
        ("list", Box::pin(async move { repo.list(case, PageRequest::default(), &clerk()).await.map(drop) })),
        ("update", Box::pin(async move { repo.update(case, id, patch(), None, &clerk()).await.map(drop) })),
        ("delete", Box::pin(async move { repo.delete(case, id, None, &clerk()).await })),
        ("erase_case", Box::pin(async move { repo.erase_case(case, &clerk()).await.map(drop) })),
        ("case", Box::pin(async move { repo.case(case, &clerk()).await.map(drop) })),
        (
            "audit_trail",
            Box::pin(async move { repo.audit_trail(case, PageRequest::default(), &clerk()).await.map(drop) }),
        ),
        (
            "find",
            Box::pin(async move {
                repo.find(ContactQuery::NamePrefix("Ada".into()), PageRequest::default(), &clerk())
                    .await
                    .map(drop)
            }),
        ),
        (
            "purge",
            Box::pin(async move { repo.purge(year_ago, PageLimit::DEFAULT, &clerk()).await.map(drop) }),
        ),
        (
            "export_person",
            Box::pin(async move {
                let query = ContactQuery::NamePrefix("Ada".into());
                repo.export_person(query, PageRequest::default(), &clerk()).await.map(drop)
            }),
        ),
        (
            "erase_person",
            Box::pin(async move { repo.erase_person(vec![reference], &clerk()).await.map(drop) }),
        ),
    ]
}

/// A hung server (every PostgreSQL process stopped with SIGSTOP: connections stay open,
/// nothing answers) fails each operation at the timeout, end to end, with a typed timeout;
/// after SIGCONT the same repository works and nothing of the failed calls was stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_fails_every_operation_within_the_timeout_then_works_again() {
    let server = TestServer::start();
    let timeout = Duration::from_secs(1);
    let margin = Duration::from_millis(500);
    let repo = PgContactRepository::builder(server.pool(4).await)
        .statement_timeout(timeout)
        .schema("frozen")
        .build()
        .unwrap();
    repo.migrate().await.unwrap();
    let case = case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.unwrap();

    let frozen = server.freeze();
    assert!(frozen.pids().len() > 1, "the postmaster and its backends: {:?}", frozen.pids());
    for (name, call) in every_operation(&repo, &case, &contact) {
        let started = Instant::now();
        let result = call.await;
        let waited = started.elapsed();
        eprintln!("frozen server: {name} failed after {} ms", waited.as_millis());
        let Err(Error::Backend { source, .. }) = &result else { panic!("{name}: {result:?}") };
        let pg = source.downcast_ref::<PgError>().unwrap_or_else(|| panic!("{name}: {source:?}"));
        assert!(pg.is_timeout(), "{name}: {pg:?}");
        assert!(waited < timeout + margin, "{name} took {waited:?}");
    }
    frozen.thaw();

    assert_eq!(
        repo.get(&case, contact.id, &clerk()).await.unwrap(),
        contact,
        "the same repository works again"
    );
    repo.create(&case, named("Grace"), &clerk()).await.unwrap();
    assert_eq!(repo.list_all(&case, &clerk()).await.unwrap().len(), 2, "no failed call stored anything");
    let events = repo.audit_trail(&case, PageRequest::default(), &clerk()).await.unwrap();
    assert_eq!(events.items.len(), 2, "two creates, no event of a failed call");
}

/// The timeout bounds a whole write, not each of its round trips: here the lock waits
/// 0.6 s and the update 0.6 s, each within the 1 s timeout, and the call still ends at 1 s,
/// before its commit, storing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_of_slow_round_trips_ends_at_the_timeout_as_a_whole() {
    let timeout = Duration::from_secs(1);
    let schema = format!("slow_{}", uuid::Uuid::now_v7().simple());
    let repo = PgContactRepository::builder(TestServer::shared().pool(2).await)
        .statement_timeout(timeout)
        .schema(schema.as_str())
        .build()
        .unwrap();
    repo.migrate().await.unwrap();
    let case = case();
    let contact = repo.create(&case, named("Ada"), &clerk()).await.unwrap();
    let admin = TestServer::shared().pool(2).await;
    let slow = format!(
        "CREATE FUNCTION \"{schema}\".slow() RETURNS trigger LANGUAGE plpgsql AS
            'BEGIN PERFORM pg_sleep(0.6); RETURN NEW; END';
        CREATE TRIGGER slow BEFORE UPDATE ON \"{schema}\".contacts
            FOR EACH ROW EXECUTE FUNCTION \"{schema}\".slow()"
    );
    admin.execute(sqlx::AssertSqlSafe(slow)).await.unwrap();
    let mut holder = admin.begin().await.unwrap();
    let hold = format!("SELECT 1 FROM \"{schema}\".contacts WHERE id = $1 FOR UPDATE");
    sqlx::query(sqlx::AssertSqlSafe(hold)).bind(contact.id.as_uuid()).execute(&mut *holder).await.unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(600)).await;
        holder.rollback().await.unwrap();
    });

    let started = Instant::now();
    let patch = ContactPatch::default().set(ContactField::Title, "Dr.");
    let result = repo.update(&case, contact.id, patch, None, &clerk()).await;
    let waited = started.elapsed();
    release.await.unwrap();
    eprintln!("slow round trips: update failed after {} ms", waited.as_millis());
    let Err(Error::Backend { source, .. }) = &result else { panic!("{result:?} after {waited:?}") };
    assert!(source.downcast_ref::<PgError>().is_some_and(PgError::is_timeout), "{source:?}");
    assert!(waited < timeout + Duration::from_millis(300), "took {waited:?}");
    assert_eq!(repo.get(&case, contact.id, &clerk()).await.unwrap(), contact, "cut off before its commit");
    assert_eq!(repo.audit_trail(&case, PageRequest::default(), &clerk()).await.unwrap().items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_updaters_lose_nothing() {
    shared::thirty_two_concurrent_updaters_lose_nothing(fresh_repository(Rules::default()).await).await;
}

#[tokio::test]
async fn hostile_strings_are_stored_verbatim() {
    let repo = fresh_repository(Rules::default()).await;
    shared::hostile_strings_are_stored_verbatim(&repo).await;
    let tables: i64 = sqlx::query("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1")
        .bind(repo.schema())
        .fetch_one(repo.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        tables, 5,
        "contacts, audit_events, the key version, the feed and the migration bookkeeping are all still there"
    );
}

/// Search keys stored by an older derivation (lowercase: `ς` at the end of a word, `ß`
/// kept) are recomputed by the next `migrate()`, once, by however many processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_recomputes_search_keys_of_an_older_derivation() {
    let repo = fresh_repository(Rules::default()).await;
    let case = case();
    let names = ["Οδυσσέας", "Straße", "ΣΊΣΥΦΟΣ"];
    for name in names {
        repo.create(&case, NewContact::default().with(ContactField::LastName, name), &clerk()).await.unwrap();
    }
    let s = repo.schema().to_owned();
    let old_keys = format!("UPDATE \"{s}\".contacts SET last_name_key = lower(last_name)");
    repo.pool().execute(sqlx::AssertSqlSafe(old_keys)).await.unwrap();
    let old_version = format!("UPDATE \"{s}\"._renraku_search_keys SET version = 1");
    repo.pool().execute(sqlx::AssertSqlSafe(old_version)).await.unwrap();
    let find = |query: &'static str| {
        let repo = repo.clone();
        async move {
            repo.find(ContactQuery::NamePrefix(query.into()), PageRequest::default(), &clerk())
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(find("STRASS").await, 0, "the old keys miss it");

    let mut migrators = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let repo = repo.clone();
        migrators.spawn(async move { repo.migrate().await });
    }
    while let Some(done) = migrators.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(find("STRASS").await, 1);
    assert_eq!(find("ΟΔΥΣ").await, 1);
    assert_eq!(find("σίσυφ").await, 1);
    let version: i32 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT version FROM \"{s}\"._renraku_search_keys")))
            .fetch_one(repo.pool())
            .await
            .unwrap();
    assert_eq!(version as u32, renraku_core::SearchKeys::VERSION);
}
