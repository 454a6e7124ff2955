//! renraku-postgres on a 3-node Citus cluster (a coordinator and two workers, tables
//! distributed by `case_id` with Citus's default 32 shards) beside the same repository on
//! one plain PostgreSQL server, in the same run, with the same data.
//!
//! All four servers share this machine's cores, so the absolute times say little about a
//! real cluster; the ratios say what the extra hop through the coordinator costs.
//!
//! A second table compares renraku's writes with the same writes as two hand-written
//! statements (the row, then its audit row, in one transaction, with the repository's round
//! trips). On plain PostgreSQL renraku writes the audit row with a data-modifying CTE; on
//! Citus, after `distribute()`, with a second statement, because the CTE makes Citus pull the
//! audit row through the coordinator and commit in two phases (BENCHMARKS.md has the
//! measurement that decided it: the CTE against these two statements).

#![allow(missing_docs, clippy::print_stdout)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput};
use renraku_benches::hand_written::{self, HandWritten};
use renraku_benches::{
    actor, alternating_patch, case, contact, criterion, find_phone, median_ns, phone, rules, time,
};
use renraku_core::plan;
use renraku_core::{
    CaseId, Contact, ContactId, ContactPatch, ContactRepository, Cursor, NewContact, PageLimit, PageRequest,
};
use renraku_postgres::PgContactRepository;
use renraku_postgres::testkit::TestServer;
use sqlx::{Postgres, Transaction};

/// One store: the repository, and the same tables written the other way (point 4).
struct Store {
    name: &'static str,
    repo: PgContactRepository,
    hand: HandWritten,
}

impl Store {
    async fn new(name: &'static str, server: &TestServer, distribute: bool) -> Self {
        let (repo, hand) = hand_written::migrated(server).await;
        if distribute {
            repo.distribute().await.expect("distribute");
        }
        Store { name, repo, hand }
    }

    /// `BEGIN` with the statement timeout, in one round trip, as the repository does.
    async fn begin(&self) -> Transaction<'static, Postgres> {
        self.hand.pool.begin_with("BEGIN; SET LOCAL statement_timeout = 5000").await.expect("begin")
    }

    /// Create with two statements: the contact row, then its audit row.
    async fn create_two_statements(&self, case: &CaseId, input: NewContact) -> Contact {
        let change = plan::create(&rules(), case, input, actor()).expect("valid");
        let mut tx = self.begin().await;
        self.hand.insert_contact(&mut tx, &change).await;
        self.hand.insert_event(&mut tx, &change.event).await;
        tx.commit().await.expect("commit");
        change.contact
    }

    /// Update with two statements: the versioned `UPDATE`, then the audit row. Reads the
    /// contact with the repository first, as the repository's update does.
    async fn update_two_statements(&self, case: &CaseId, id: ContactId, patch: ContactPatch, expected: u64) {
        let patch = rules().check_patch(patch).expect("valid");
        let current = self.repo.get(case, id, actor()).await.expect("get");
        let change =
            plan::update(&current, &patch, Some(expected), actor()).expect("current").expect("a change");
        let mut tx = self.begin().await;
        self.hand.update_contact(&mut tx, case, id, expected, &change).await;
        self.hand.insert_event(&mut tx, &change.event).await;
        tx.commit().await.expect("commit");
    }

    /// 110,000 contacts: 10,000 in one case, and 10 in each of 10,000 more; every phone
    /// number belongs to two of them.
    async fn seed(&self) {
        let started = Instant::now();
        self.repo
            .create_many(&case(999_999), (0..10_000).map(contact).collect(), actor())
            .await
            .expect("seed");
        let mut tasks: tokio::task::JoinSet<Result<Vec<Contact>, renraku_core::Error>> =
            tokio::task::JoinSet::new();
        for i in 0..10_000 {
            if tasks.len() == 8 {
                let _ = tasks.join_next().await.expect("a task").expect("joined").expect("seed");
            }
            let repo = self.repo.clone();
            tasks.spawn(async move {
                repo.create_many(&case(i), (i * 10..i * 10 + 10).map(contact).collect(), actor()).await
            });
        }
        while let Some(task) = tasks.join_next().await {
            task.expect("seed").expect("seed");
        }
        println!("{}: seeded 110,000 contacts in {:.1?}", self.name, started.elapsed());
    }
}

/// The operations of the issue, on both stores: criterion group `citus-<op>`, functions
/// `postgres` and `citus`.
fn bench_stores(c: &mut Criterion, rt: &tokio::runtime::Runtime, stores: &[Store]) {
    let counter = AtomicUsize::new(0);
    let next = || counter.fetch_add(1, Ordering::Relaxed);

    let mut group = c.benchmark_group("citus-create_one");
    for store in stores {
        group.bench_function(store.name, |b| {
            b.to_async(rt).iter(|| async {
                store.repo.create(&case(next()), contact(next()), actor()).await.expect("create")
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("citus-create_1000");
    group.sample_size(20).throughput(Throughput::Elements(1000));
    for store in stores {
        group.bench_function(store.name, |b| {
            b.to_async(rt).iter_batched(
                || (0..1000).map(|i| contact(next() + i)).collect::<Vec<_>>(),
                |inputs| async {
                    store.repo.create_many(&case(next()), inputs, actor()).await.expect("bulk")
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group("citus-update");
    for store in stores {
        let case = case(next());
        let ours = rt.block_on(store.repo.create(&case, contact(0), actor())).expect("create");
        let version = AtomicU64::new(1);
        group.bench_function(store.name, |b| {
            b.to_async(rt).iter(|| async {
                let v = version.fetch_add(1, Ordering::Relaxed);
                store
                    .repo
                    .update(&case, ours.id, alternating_patch(v), Some(v), actor())
                    .await
                    .expect("update")
            });
        });
    }
    group.finish();

    let big_case = case(999_999);
    let mut group = c.benchmark_group("citus-get");
    for store in stores {
        let all = rt
            .block_on(store.repo.list(&big_case, PageRequest::first(PageLimit::MAX), actor()))
            .expect("list")
            .items;
        let id = all[123].id;
        group.bench_function(store.name, |b| {
            b.to_async(rt).iter(|| async { store.repo.get(&big_case, id, actor()).await.expect("get") });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("citus-list_50_of_10000");
    for store in stores {
        let all = rt
            .block_on(store.repo.list(&big_case, PageRequest::first(PageLimit::MAX), actor()))
            .expect("list")
            .items;
        let page = PageRequest::after(Cursor::after(*all[250].id.as_uuid()), PageLimit::DEFAULT);
        group.bench_function(store.name, |b| {
            b.to_async(rt).iter(|| async { store.repo.list(&big_case, page, actor()).await.expect("list") });
        });
    }
    group.finish();

    let query = phone(4_242);
    let mut group = c.benchmark_group("citus-find_phone_in_110000");
    for store in stores {
        group.bench_function(store.name, |b| {
            b.to_async(rt).iter(|| async { black_box(find_phone(&store.repo, &query, 2).await) });
        });
    }
    group.finish();
}

/// renraku's writes beside the same writes as two hand-written statements, on each store. The two run interleaved, `ROUNDS` times `OPS` each in
/// alternating order, because this machine's load drifts more between criterion groups than
/// the difference being measured; the ratio is the median of the rounds' ratios.
fn audit_write(rt: &tokio::runtime::Runtime, stores: &[Store]) -> Vec<(String, f64, f64, f64)> {
    const ROUNDS: usize = 15;
    const OPS: usize = 100;
    let counter = AtomicUsize::new(1_000_000);
    let next = || counter.fetch_add(1, Ordering::Relaxed);
    let mut rows = Vec::new();
    for store in stores {
        let updated_case = case(next());
        let ours = rt.block_on(store.repo.create(&updated_case, contact(0), actor())).expect("create");
        let theirs = rt.block_on(store.repo.create(&updated_case, contact(1), actor())).expect("create");
        let (mut our_version, mut their_version) = (1, 1);
        for op in ["create_one", "update"] {
            let (mut times, mut twos, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                let mut run = |two: bool| {
                    let started = Instant::now();
                    rt.block_on(async {
                        for _ in 0..OPS {
                            match (op, two) {
                                ("create_one", false) => {
                                    store
                                        .repo
                                        .create(&case(next()), contact(next()), actor())
                                        .await
                                        .expect("create");
                                }
                                ("create_one", true) => {
                                    store.create_two_statements(&case(next()), contact(next())).await;
                                }
                                (_, false) => {
                                    let patch = alternating_patch(our_version);
                                    let id = ours.id;
                                    store
                                        .repo
                                        .update(&updated_case, id, patch, Some(our_version), actor())
                                        .await
                                        .expect("update");
                                    our_version += 1;
                                }
                                (_, true) => {
                                    let patch = alternating_patch(their_version);
                                    store
                                        .update_two_statements(&updated_case, theirs.id, patch, their_version)
                                        .await;
                                    their_version += 1;
                                }
                            }
                        }
                    });
                    started.elapsed().as_nanos() as f64 / OPS as f64
                };
                let (renraku, two) = if round % 2 == 0 {
                    let renraku = run(false);
                    (renraku, run(true))
                } else {
                    let two = run(true);
                    (run(false), two)
                };
                times.push(renraku);
                twos.push(two);
                ratios.push(renraku / two);
            }
            rows.push((format!("| {op} | {} ", store.name), median(times), median(twos), median(ratios)));
        }
    }
    rows
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Prints (and writes to `target/criterion/citus.md`) both tables.
fn print_report(shards: i64, workers: i64, audit: &[(String, f64, f64, f64)]) {
    let mut out = format!(
        "Citus: {workers} workers, {shards} shards per table. Ratio = PostgreSQL median / Citus median \
         (Citus's throughput as a fraction of one PostgreSQL server's).\n\n\
         | operation | PostgreSQL (median) | Citus, 3 nodes (median) | throughput ratio |\n|---|---|---|---|\n"
    );
    for op in ["create_one", "create_1000", "get", "list_50_of_10000", "update", "find_phone_in_110000"] {
        let group = format!("citus-{op}");
        match (median_ns(&group, "postgres"), median_ns(&group, "citus")) {
            (Some(pg), Some(citus)) => {
                let _ = writeln!(out, "| {op} | {} | {} | {:.2} |", time(pg), time(citus), pg / citus);
            }
            _ => {
                let _ = writeln!(out, "| {op} | not run | not run | |");
            }
        }
    }
    out.push_str(
        "\nrenraku's writes (audit row by CTE on PostgreSQL, by a second statement on Citus) beside \
         two hand-written statements, interleaved (15 rounds of 100 calls each). Ratio = renraku / \
         two statements, median of the rounds (above 1: two statements are faster).\n\n\
         | write | store | renraku (mean per call, median round) | two statements | ratio |\n\
         |---|---|---|---|---|\n",
    );
    for (row, renraku, two, ratio) in audit {
        let _ = writeln!(out, "{row}| {} | {} | {ratio:.2} |", time(*renraku), time(*two));
    }
    println!("\n## citus\n\n{out}");
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let path = dir.join("criterion/citus.md");
    if let Err(e) = std::fs::write(&path, &out) {
        println!("cannot write {}: {e}", path.display());
    }
}

fn main() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let stores = rt.block_on(async {
        let postgres = Store::new("postgres", TestServer::shared(), false).await;
        let citus = Store::new("citus", TestServer::citus(), true).await;
        postgres.seed().await;
        citus.seed().await;
        [postgres, citus]
    });
    let (shards, workers): (i64, i64) = rt
        .block_on(
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = $1::regclass),
                    (SELECT count(*) FROM citus_get_active_worker_nodes())",
            )
            .bind(format!("\"{}\".contacts", stores[1].hand.schema()))
            .fetch_one(&stores[1].hand.pool),
        )
        .expect("layout");
    let mut c = criterion();
    bench_stores(&mut c, &rt, &stores);
    c.final_summary();
    let audit = audit_write(&rt, &stores);
    print_report(shards, workers, &audit);
}
