//! Shared parts of renraku's benchmarks: fixture data, criterion settings, and the report
//! that prints each operation's throughput as a ratio of its baseline in the same run.
//!
//! Run them with `cargo bench -p renraku-benches` (every backend), or one with `--bench
//! memory` / `--bench postgres` / `--bench citus`. The PostgreSQL benchmarks use
//! `DATABASE_URL`, or start a throwaway server as the tests do; the Citus one also uses
//! `RENRAKU_CITUS_URL`, or starts a 3-node cluster as the Citus tests do.
//!
//! The binary `web_baseline` is the baseline server of the web example's load test
//! (`scripts/loadtest.sh`): hand-written sqlx and plain HTML on the same database.

#![forbid(unsafe_code)]
#![allow(clippy::missing_panics_doc, clippy::print_stdout)]

pub mod hand_written;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use criterion::measurement::WallTime;
use renraku_core::{
    Actor, CaseId, Contact, ContactField, ContactPatch, ContactQuery, ContactRepository, NewContact, Page,
    PageRequest, Rules,
};

/// The rules every benchmark validates with.
#[must_use]
pub fn rules() -> Rules {
    Rules::default().with_default_region("DE".parse().expect("DE"))
}

/// The actor of every change, made once: a host checks its actor once per request, and
/// `Actor::new` (the Unicode policy of ids) is not what the benchmarks measure.
#[must_use]
pub fn actor() -> &'static Actor {
    static ACTOR: std::sync::LazyLock<Actor> =
        std::sync::LazyLock::new(|| Actor::new("bench-user").expect("valid actor"));
    &ACTOR
}

/// The case of index `i`.
#[must_use]
pub fn case(i: usize) -> CaseId {
    CaseId::new(format!("case-{i}")).expect("valid case id")
}

const FIRST: [&str; 8] = ["Ada", "Grace", "Alan", "Zoë", "Jean-Luc", "Nguyễn", "Mary Ann", "O'Brien"];
const LAST: [&str; 8] =
    ["Lovelace", "Hopper", "Turing", "Müller", "Picard", "Văn", "Smith", "Ó Súilleabháin"];

/// A realistic contact: every field set, a phone shared by two contacts in 100,000.
#[must_use]
pub fn contact(i: usize) -> NewContact {
    NewContact::default()
        .with(ContactField::Title, if i.is_multiple_of(2) { "Frau" } else { "Herr" })
        .with(ContactField::FirstName, FIRST[i % FIRST.len()])
        .with(ContactField::LastName, LAST[(i / FIRST.len()) % LAST.len()])
        .with(ContactField::Phone, phone(i))
        .with(ContactField::Email, format!("person{i}@example.org"))
        .with(ContactField::Address, format!("Hauptstraße {}, 10115 Berlin", i % 200 + 1))
        .with(ContactField::Relationship, "household")
}

/// The phone number of contact `i`, as a user would type it.
#[must_use]
pub fn phone(i: usize) -> String {
    format!("030 {}", 2_000_000 + i % 50_000)
}

/// The contacts with `phone` through `repo`'s search, checked to be at least `at_least`:
/// the call every search benchmark times.
pub async fn find_phone(
    repo: &(impl ContactRepository + ?Sized),
    phone: &str,
    at_least: usize,
) -> Page<Contact> {
    let found = repo
        .find(ContactQuery::Phone(phone.to_owned()), PageRequest::default(), actor())
        .await
        .expect("find");
    assert!(found.items.len() >= at_least);
    found
}

/// A patch that really changes a contact at every version: it alternates between two
/// relationships.
#[must_use]
pub fn alternating_patch(version: u64) -> ContactPatch {
    let relationship = if version.is_multiple_of(2) { "household" } else { "neighbour" };
    ContactPatch::default().set(ContactField::Relationship, relationship)
}

/// Criterion with the settings every benchmark here uses, writing to `target/criterion`.
#[must_use]
pub fn criterion() -> Criterion {
    Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40)
        .configure_from_args()
}

fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    target.join("criterion")
}

/// One operation, measured as criterion group `group` with the functions `renraku` and
/// `baseline`.
#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    /// The criterion group, and the operation's name in the report.
    pub group: &'static str,
    /// The lowest acceptable throughput of renraku as a fraction of the baseline's.
    pub target: Option<f64>,
}

impl Comparison {
    /// The target column and whether `ratio` meets it.
    fn verdict(&self, ratio: f64) -> (String, &'static str) {
        match self.target {
            Some(t) => (format!("≥ {t:.2}"), if ratio >= t { "yes" } else { "**no**" }),
            None => (String::from("-"), "-"),
        }
    }
}

/// Prints a report's table under `title` and writes it to `target/criterion/<title>.md`.
fn publish(title: &str, table: &str) {
    println!("\n## {title}\n\n{table}");
    let path = output_dir().join(format!("{title}.md"));
    if let Err(e) = std::fs::write(&path, table) {
        println!("cannot write {}: {e}", path.display());
    }
}

/// The median time per iteration, in nanoseconds, of a benchmark that ran in this process.
#[must_use]
pub fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = output_dir().join(group).join(function).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// renraku's throughput in `group` as a ratio of the baseline's, if both ran.
#[must_use]
pub fn ratio(group: &str) -> Option<f64> {
    Some(median_ns(group, "baseline")? / median_ns(group, "renraku")?)
}

/// Prints (and writes to `target/criterion/<title>.md`) a table with each operation's median
/// times and renraku's throughput as a ratio of the baseline's, against its target.
pub fn report(title: &str, comparisons: &[Comparison]) {
    let mut table = String::from(
        "| operation | renraku (median) | baseline (median) | throughput ratio | target | met |\n\
         |---|---|---|---|---|---|\n",
    );
    for c in comparisons {
        let (Some(ours), Some(theirs)) = (median_ns(c.group, "renraku"), median_ns(c.group, "baseline"))
        else {
            let _ = writeln!(table, "| {} | not run | not run | | | |", c.group);
            continue;
        };
        let ratio = theirs / ours;
        let (target, met) = c.verdict(ratio);
        let _ = writeln!(
            table,
            "| {} | {} | {} | {ratio:.2} | {target} | {met} |",
            c.group,
            time(ours),
            time(theirs)
        );
    }
    publish(title, &table);
}

/// A time in the unit that reads best.
#[must_use]
pub fn time(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        ns => format!("{ns:.0} ns"),
    }
}

/// Runs `iters` calls spread over `tasks` tokio tasks at once on `rt`, and returns the
/// wall-clock time of all of them: what criterion's `iter_custom` wants, so that the time per
/// iteration is the inverse of the throughput at that concurrency.
///
/// `task(t, n)` makes the future of task `t`, which makes `n` calls in turn; it is made
/// before the clock starts, so what it clones (a repository, a case id) is not measured.
pub fn concurrently<Fut>(
    rt: &tokio::runtime::Runtime,
    tasks: usize,
    iters: u64,
    task: impl Fn(usize, u64) -> Fut,
) -> Duration
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let per_task = iters.div_ceil(tasks as u64);
    let futures: Vec<Fut> = (0..tasks).map(|t| task(t, per_task)).collect();
    let elapsed = rt.block_on(async {
        let started = Instant::now();
        let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
        for handle in handles {
            handle.await.expect("a benchmark task");
        }
        started.elapsed()
    });
    // More calls than `iters` ran when `tasks` does not divide it: scale back.
    elapsed.mul_f64(iters as f64 / (per_task * tasks as u64) as f64)
}

/// The body of a benchmark task (see [`concurrently`]): `n` calls of `call` in turn, the
/// `i`-th as `call(&state, i)`, each result through `black_box`. The task owns `state` (a
/// repository, a case id: cloned once, before the clock starts), and every call borrows it.
pub async fn calls<S, T>(n: u64, state: S, call: impl AsyncFn(&S, u64) -> T) {
    for i in 0..n {
        std::hint::black_box(call(&state, i).await);
    }
}

/// Benchmarks renraku and its baseline at each concurrency level in `levels`, as functions
/// `renraku-<n>` and `baseline-<n>` of `group` (read back by [`concurrency_report`]).
pub fn bench_concurrently<F1, F2>(
    group: &mut criterion::BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    levels: &[usize],
    renraku: impl Fn(usize, u64) -> F1,
    baseline: impl Fn(usize, u64) -> F2,
) where
    F1: Future<Output = ()> + Send + 'static,
    F2: Future<Output = ()> + Send + 'static,
{
    for &tasks in levels {
        group.bench_function(format!("renraku-{tasks}"), |b| {
            b.iter_custom(|iters| concurrently(rt, tasks, iters, &renraku));
        });
        group.bench_function(format!("baseline-{tasks}"), |b| {
            b.iter_custom(|iters| concurrently(rt, tasks, iters, &baseline));
        });
    }
}

/// Prints (and writes to `target/criterion/<title>.md`) the throughput of renraku and its
/// baseline at each concurrency level of each group, their ratio against `target`, and how
/// each scales from the first level to the second.
pub fn concurrency_report(title: &str, unit: &str, levels: &[usize], comparisons: &[Comparison]) {
    let mut table = format!(
        "| operation | {unit} | renraku (calls/s) | baseline (calls/s) | throughput ratio | target | met |\n\
         |---|---|---|---|---|---|---|\n"
    );
    let per_second = |group: &str, function: String| median_ns(group, &function).map(|ns| 1e9 / ns);
    let mut scaling = String::new();
    for c in comparisons {
        for &n in levels {
            let (Some(ours), Some(theirs)) =
                (per_second(c.group, format!("renraku-{n}")), per_second(c.group, format!("baseline-{n}")))
            else {
                let _ = writeln!(table, "| {} | {n} | not run | not run | | | |", c.group);
                continue;
            };
            let ratio = ours / theirs;
            let (target, met) = c.verdict(ratio);
            let _ = writeln!(
                table,
                "| {} | {n} | {ours:.0} | {theirs:.0} | {ratio:.2} | {target} | {met} |",
                c.group
            );
        }
        if let [from, to, ..] = levels {
            let scale = |side: &str| {
                let at = |n| per_second(c.group, format!("{side}-{n}"));
                at(*to)
                    .zip(at(*from))
                    .map_or_else(|| String::from("not run"), |(b, a)| format!("{:.2}", b / a))
            };
            let _ = writeln!(scaling, "| {} | {} | {} |", c.group, scale("renraku"), scale("baseline"));
        }
    }
    if let [from, to, ..] = levels {
        let _ = write!(
            table,
            "\nScaling from {from} to {to} {unit} (throughput at {to} / at {from}):\n\n\
             | operation | renraku | baseline |\n|---|---|---|\n{scaling}"
        );
    }
    publish(title, &table);
}
