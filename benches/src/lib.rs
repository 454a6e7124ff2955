//! Shared parts of renraku's benchmarks: fixture data, criterion settings, and the report
//! that prints each operation's throughput as a ratio of its baseline in the same run.
//!
//! Run them with `cargo bench -p renraku-benches` (every backend), or one with `--bench
//! memory` / `--bench postgres` / `--bench citus`. The PostgreSQL benchmarks use
//! `DATABASE_URL`, or start a throwaway server as the tests do; the Citus one also uses
//! `RENRAKU_CITUS_URL`, or starts a 3-node cluster as the Citus tests do.

#![forbid(unsafe_code)]
#![allow(clippy::missing_panics_doc, clippy::print_stdout)]

pub mod hand_written;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;
use renraku_core::{Actor, CaseId, ContactField, ContactPatch, NewContact, Rules};

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
        let (target, met) = match c.target {
            Some(t) => (format!("≥ {t:.2}"), if ratio >= t { "yes" } else { "**no**" }),
            None => (String::from("-"), "-"),
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} | {ratio:.2} | {target} | {met} |",
            c.group,
            time(ours),
            time(theirs)
        );
    }
    println!("\n## {title}\n\n{table}");
    let path = output_dir().join(format!("{title}.md"));
    if let Err(e) = std::fs::write(&path, &table) {
        println!("cannot write {}: {e}", path.display());
    }
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
