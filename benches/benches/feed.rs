//! The change feed on PostgreSQL: how many events per second it delivers, how long an event
//! takes from its commit to a follower with 8 concurrent writers, what the notification
//! costs the writers, and what the design that was not chosen (a commit-ordered counter
//! under a lock) would cost them. A measurement program, not criterion: it prints a table.
//!
//! `cargo bench -p renraku-benches --bench feed` (uses `DATABASE_URL`, or starts a throwaway
//! cluster as the tests do); `FEED_BENCH_CITUS=1` runs it on a 3-node Citus cluster instead
//! (`RENRAKU_CITUS_URL`, or one started as the Citus tests do).

#![allow(missing_docs, clippy::print_stdout, clippy::cast_precision_loss)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use renraku_benches::{actor, case, contact, rules};
use renraku_core::{ContactId, ContactRepository, FeedCursor, PageLimit};
use renraku_postgres::PgContactRepository;
use renraku_postgres::testkit::{Builder, fresh_distributed_repository_with, fresh_repository_with};
use tokio::sync::Mutex;

const WRITERS: usize = 8;

async fn repository(notify: bool) -> PgContactRepository {
    let configure = move |b: Builder| b.feed_notifications(notify);
    if std::env::var_os("FEED_BENCH_CITUS").is_some() {
        fresh_distributed_repository_with(rules(), configure).await
    } else {
        fresh_repository_with(rules(), configure).await
    }
}

/// Reads the whole feed from the start; returns events per second.
async fn read_all(repo: &PgContactRepository) -> (usize, f64) {
    let started = Instant::now();
    let (mut cursor, mut events) = (FeedCursor::START, 0);
    loop {
        let page = repo.feed(&cursor, PageLimit::MAX, actor()).await.expect("feed");
        events += page.events.len();
        cursor = page.next;
        if !page.more {
            return (events, events as f64 / started.elapsed().as_secs_f64());
        }
    }
}

/// `WRITERS` writers create contacts for `duration`; returns creates per second, and when
/// each create's commit was acknowledged.
async fn write_for(repo: &PgContactRepository, duration: Duration) -> (f64, HashMap<ContactId, Instant>) {
    let committed = Arc::new(Mutex::new(HashMap::new()));
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (repo, committed) = (repo.clone(), committed.clone());
        writers.spawn(async move {
            let mut i = 0;
            while started.elapsed() < duration {
                let created = repo.create(&case(writer), contact(i), actor()).await.expect("create");
                committed.lock().await.insert(created.id, Instant::now());
                i += 1;
            }
        });
    }
    writers.join_all().await;
    let elapsed = started.elapsed().as_secs_f64();
    let committed = Arc::try_unwrap(committed).expect("writers are done").into_inner();
    (committed.len() as f64 / elapsed, committed)
}

/// The latency from commit to delivery with `WRITERS` writers and one follower.
async fn latency(repo: &PgContactRepository, duration: Duration) -> (f64, Vec<Duration>) {
    let (start, _) = {
        let page = repo.feed(&FeedCursor::START, PageLimit::MAX, actor()).await.expect("feed");
        let mut cursor = page.next;
        let mut more = page.more;
        while more {
            let page = repo.feed(&cursor, PageLimit::MAX, actor()).await.expect("feed");
            (cursor, more) = (page.next, page.more);
        }
        (cursor, ())
    };
    let stop = Arc::new(AtomicBool::new(false));
    let follower = tokio::spawn({
        let (repo, stop) = (repo.clone(), stop.clone());
        async move {
            let (mut cursor, mut delivered) = (start, Vec::new());
            loop {
                let page = repo.feed(&cursor, PageLimit::MAX, actor()).await.expect("feed");
                let now = Instant::now();
                delivered.extend(page.events.iter().filter_map(|e| e.contact_id).map(|id| (id, now)));
                cursor = page.next;
                if !page.more {
                    let stopping = stop.load(Ordering::SeqCst) && page.events.is_empty();
                    let woken = repo
                        .wait_for_events(
                            &cursor,
                            Duration::from_millis(if stopping { 300 } else { 1000 }),
                            actor(),
                        )
                        .await
                        .expect("wait");
                    if stopping && !woken {
                        return delivered;
                    }
                }
            }
        }
    });
    let (per_second, committed) = write_for(repo, duration).await;
    stop.store(true, Ordering::SeqCst);
    let delivered = follower.await.expect("follower");
    assert_eq!(delivered.len(), committed.len(), "every event delivered once");
    let mut latencies: Vec<Duration> =
        delivered.iter().map(|(id, at)| at.saturating_duration_since(committed[id])).collect();
    latencies.sort_unstable();
    (per_second, latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The design not chosen: writers stamp their events from a counter row they update at the
/// end of their transaction, under its row lock until they commit (exact commit order, no
/// horizon). The same hand-written write with and without it, `WRITERS` at once.
async fn counter_cost(repo: &PgContactRepository, duration: Duration, with_counter: bool) -> f64 {
    let s = format!("\"{}\"", repo.schema());
    let sql = |text: &str| sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(text.replace("{s}", &s)));
    sqlx::raw_sql(sql("CREATE TABLE IF NOT EXISTS {s}.bench_counter (n bigint NOT NULL);
         INSERT INTO {s}.bench_counter SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {s}.bench_counter)"))
    .execute(repo.pool())
    .await
    .expect("counter table");
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (pool, insert, bump) = (
            repo.pool().clone(),
            sql("INSERT INTO {s}.audit_events (case_id, id, contact_id, action, actor, changed_fields, at)
                 VALUES ($1, $2, NULL, 'case_erased', 'bench', '{}', now())"),
            sql("UPDATE {s}.bench_counter SET n = n + 1 RETURNING n"),
        );
        writers.spawn(async move {
            let mut writes = 0_u64;
            while started.elapsed() < duration {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query(insert.clone())
                    .bind(format!("counter-{writer}"))
                    .bind(uuid::Uuid::now_v7())
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                if with_counter {
                    let _: i64 = sqlx::query_scalar(bump.clone()).fetch_one(&mut *tx).await.expect("bump");
                }
                tx.commit().await.expect("commit");
                writes += 1;
            }
            writes
        });
    }
    let writes: u64 = writers.join_all().await.into_iter().sum();
    writes as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let store = if std::env::var_os("FEED_BENCH_CITUS").is_some() { "Citus, 3 nodes" } else { "PostgreSQL" };
        let repo = repository(true).await;

        // Throughput: 100,000 events in 100 cases, read from the start in pages of 500.
        for i in 0..100 {
            let inputs = (0..1000).map(|j| contact(i * 1000 + j)).collect();
            repo.create_many(&case(1000 + i), inputs, actor()).await.expect("create_many");
        }
        let mut reads: Vec<(usize, f64)> = Vec::new();
        for _ in 0..3 {
            reads.push(read_all(&repo).await);
        }
        reads.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (events, per_second) = reads[1];

        // Latency with 8 writers, and NOTIFY's cost: interleaved rounds with and without it.
        let quiet = repository(false).await;
        let round = Duration::from_secs(4);
        let (mut on, mut off, mut all, mut followed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            let (writes, latencies) = latency(&repo, round).await;
            followed.push(writes);
            all.extend(latencies);
        }
        // Without a follower, so that only the notification differs.
        for _ in 0..3 {
            on.push(write_for(&repo, round).await.0);
            off.push(write_for(&quiet, round).await.0);
        }
        all.sort_unstable();
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (on, off, followed) = (median(&mut on), median(&mut off), median(&mut followed));

        println!("\n## The change feed on {store}\n");
        println!("| measure | value |\n|---|---|");
        println!("| feed throughput: 100,000 events read from the start, pages of 500 (median of 3) | {per_second:.0} events/s ({events} events) |");
        println!(
            "| commit → delivery, {WRITERS} writers, one follower ({} events in 3 rounds of 4 s) | median {}, p99 {}, max {} |",
            all.len(),
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.99)),
            ms(*all.last().expect("events"))
        );
        println!("| creates/s meanwhile, {WRITERS} writers (median of 3 rounds) | {followed:.0} |");
        println!("| creates/s, {WRITERS} writers, no follower, with notifications (median of 3 interleaved rounds of 4 s) | {on:.0} |");
        println!("| creates/s, {WRITERS} writers, without notifications | {off:.0} ({:.2} of it with) |", on / off);

        if std::env::var_os("FEED_BENCH_CITUS").is_none() {
            let (mut free, mut counted) = (Vec::new(), Vec::new());
            for _ in 0..3 {
                free.push(counter_cost(&quiet, round, false).await);
                counted.push(counter_cost(&quiet, round, true).await);
            }
            let (free, counted) = (median(&mut free), median(&mut counted));
            println!(
                "| hand-written event writes/s, {WRITERS} writers: transaction id (chosen) | {free:.0} |\n\
                 | the same with a commit-ordered counter under a lock (not chosen) | {counted:.0} ({:.2} of it) |",
                counted / free
            );
        }
    });
}
