//! A crash of PostgreSQL under load: the `renraku-web` binary on a private cluster, 16
//! writers creating and updating contacts through the JSON API, and `pg_ctl stop -m
//! immediate` in the middle, then a start. Afterwards every write that was answered 2xx is
//! stored exactly as answered, every write that failed (5xx, or no answer) is stored whole
//! or not at all (a contact and its audit events agree), and the same server process works
//! again. It prints the counts (`--nocapture`).

#[path = "common/binary.rs"]
mod binary;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use binary::{Http, Process};

const WRITERS: usize = 16;
/// How long the writers write; PostgreSQL crashes after `CRASH_AT` and starts again at
/// `START_AT`.
const RUN: Duration = Duration::from_secs(9);
const CRASH_AT: Duration = Duration::from_secs(3);
const START_AT: Duration = Duration::from_secs(5);
/// Updates of each contact before the writer creates the next one.
const UPDATES: usize = 3;

/// What one writer did to one contact.
#[derive(Debug, Default)]
struct Record {
    /// The relationship the create sent: it finds a contact whose create got no answer.
    marker: String,
    /// The contact as the last acknowledged write returned it.
    acked: Option<Value>,
    /// How many writes of it were acknowledged.
    acked_writes: usize,
    /// The write that failed, after which the writer left the contact alone.
    failed: Option<Failed>,
    /// When its writes were acknowledged.
    acked_at: Vec<Instant>,
}

#[derive(Debug)]
enum Failed {
    Create,
    /// An update to this relationship, which would have made this version.
    Update {
        relationship: String,
        version: u64,
    },
}

/// A write's outcome: the contact of a 2xx, or a failure (5xx or no answer).
async fn write(
    http: &Http,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Option<Value> {
    let body = body.to_string();
    let sent = tokio::time::timeout(Duration::from_secs(15), http.try_send(method, url, headers, &body));
    match sent.await {
        Ok(Some(reply)) if reply.status.is_success() => Some(serde_json::from_str(&reply.body).unwrap()),
        Ok(Some(reply)) => {
            assert!(
                reply.status.is_server_error(),
                "a write may fail only on the server's side: {}",
                reply.body
            );
            None
        }
        _ => None,
    }
}

async fn writer(
    http: Arc<Http>,
    base: String,
    case: String,
    writer: usize,
    deadline: Instant,
) -> (String, Vec<Record>) {
    let url = format!("{base}/api/cases/{case}/contacts");
    let json = ("content-type", "application/json");
    let mut records = Vec::new();
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        let marker = format!("w{writer}-c{n}");
        let mut record = Record { marker: marker.clone(), ..Record::default() };
        let input = json!({ "first_name": "Ada", "phone": "030 1234567", "relationship": marker });
        match write(&http, Method::POST, &url, &[json], &input).await {
            None => record.failed = Some(Failed::Create),
            Some(created) => {
                record.acked = Some(created);
                record.acked_writes = 1;
                record.acked_at.push(Instant::now());
                for u in 1..=UPDATES {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let current = record.acked.as_ref().unwrap();
                    let version = current["version"].as_u64().unwrap();
                    let href = format!("{url}/{}", current["id"].as_str().unwrap());
                    let relationship = format!("{marker}-u{u}");
                    let if_match = format!("\"{version}\"");
                    let patch = json!({ "relationship": relationship });
                    match write(&http, Method::PATCH, &href, &[json, ("if-match", &if_match)], &patch).await {
                        Some(updated) => {
                            record.acked = Some(updated);
                            record.acked_writes += 1;
                            record.acked_at.push(Instant::now());
                        }
                        None => {
                            record.failed = Some(Failed::Update { relationship, version: version + 1 });
                            break;
                        }
                    }
                }
            }
        }
        let failed = record.failed.is_some();
        records.push(record);
        if failed {
            // The server is down or recovering: a short pause, not a busy loop.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    (case, records)
}

/// Every item of a paged API listing.
async fn all(http: &Http, url: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page_url = match &next {
            Some(after) => format!("{url}?limit=500&after={after}"),
            None => format!("{url}?limit=500"),
        };
        let reply = http.get(&page_url, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let page: Value = serde_json::from_str(&reply.body).unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(after) => next = Some(after.to_owned()),
            None => return items,
        }
    }
}

/// The contact without its timestamps and version: what an update leaves as it was.
fn without_change_marks(contact: &Value) -> Value {
    let mut contact = contact.clone();
    for key in ["version", "relationship", "updated_at", "updated_by"] {
        contact.as_object_mut().unwrap().remove(key);
    }
    contact
}

#[test]
fn a_postgres_crash_under_load_keeps_every_acknowledged_write_and_no_half_write() {
    // Test clusters run with `synchronous_commit = off`, with which PostgreSQL acknowledges
    // commits that a crash then loses (this test found it); a real server has it on.
    let config = renraku_postgres::testkit::ClusterConfig::default().synchronous_commit();
    let database = Arc::new(renraku_postgres::testkit::TestServer::start_with(config));
    let env = [("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0"), ("DATABASE_URL", database.url())];
    let mut server = Process::start(&env);
    let base = server.base_url();
    let run = format!("{}", renraku_core::ContactId::new());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let started = Instant::now();
    let (records, crashed_at, started_again_at) = runtime.block_on(async {
        let http = Arc::new(Http::new());
        let deadline = started + RUN;
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let case = format!("crash-{run}-{w}");
            writers.spawn(writer(http.clone(), base.clone(), case.clone(), w, deadline));
        }
        let chaos = tokio::task::spawn_blocking({
            let database = database.clone();
            move || {
                std::thread::sleep(CRASH_AT.saturating_sub(started.elapsed()));
                let crashed_at = started.elapsed();
                database.crash();
                std::thread::sleep(START_AT.saturating_sub(started.elapsed()));
                database.restart();
                // From when it accepts connections again (pg_ctl start -w returns then).
                let started_again_at = started.elapsed();
                (crashed_at, started_again_at)
            }
        });
        let mut records = Vec::new();
        while let Some(done) = writers.join_next().await {
            records.push(done.unwrap());
        }
        let (crashed_at, started_again_at) = chaos.await.unwrap();
        (records, crashed_at, started_again_at)
    });
    let restarted = started + started_again_at;
    let acked_after: Vec<Instant> = records
        .iter()
        .flat_map(|(_, records)| records)
        .flat_map(|r| r.acked_at.iter().copied())
        .filter(|at| *at > restarted)
        .collect();
    let after_restart = acked_after.len();
    let first_after = acked_after.iter().min().map(|at| at.duration_since(restarted));

    // Verification through the same server process, which must be ready again.
    let (acknowledged, failed, verified, failed_stored) = runtime.block_on(async {
        let http = Http::new();
        let ready = Instant::now();
        while http.get(&format!("{base}/api/ready"), &[]).await.status != StatusCode::NO_CONTENT {
            assert!(ready.elapsed() < Duration::from_secs(15), "the server did not become ready again");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (mut acknowledged, mut failed, mut verified, mut failed_stored) = (0, 0, 0, 0);
        for (case, writer_records) in &records {
            let stored = all(&http, &format!("{base}/api/cases/{case}/contacts")).await;
            let events = all(&http, &format!("{base}/api/cases/{case}/audit")).await;
            let mut stored_by_id: HashMap<String, Value> =
                stored.iter().map(|c| (c["id"].as_str().unwrap().to_owned(), c.clone())).collect();
            let mut events_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for event in &events {
                let id = event["contact_id"].as_str().expect("only contact events").to_owned();
                events_of.entry(id).or_default().push(event["action"].as_str().unwrap().to_owned());
            }
            for record in writer_records {
                acknowledged += record.acked_writes;
                failed += usize::from(record.failed.is_some());
                let found = match &record.acked {
                    Some(acked) => {
                        let id = acked["id"].as_str().unwrap();
                        let found =
                            stored_by_id.remove(id).unwrap_or_else(|| panic!("acknowledged {acked} is gone"));
                        match &record.failed {
                            None => assert_eq!(&found, acked, "stored exactly as acknowledged"),
                            Some(Failed::Update { relationship, version }) => {
                                if &found == acked {
                                    // The failed update left nothing.
                                } else {
                                    // Or it was stored whole, on top of the acknowledged state.
                                    assert_eq!(found["version"].as_u64(), Some(*version), "{found}");
                                    assert_eq!(found["relationship"].as_str(), Some(relationship.as_str()));
                                    assert_eq!(without_change_marks(&found), without_change_marks(acked));
                                    failed_stored += 1;
                                }
                            }
                            Some(Failed::Create) => unreachable!("a failed create has no acknowledged state"),
                        }
                        verified += record.acked_writes;
                        found
                    }
                    None => {
                        // A create without an answer: stored whole (version 1, as sent) or not at all.
                        let id = stored_by_id
                            .iter()
                            .find(|(_, c)| c["relationship"].as_str() == Some(record.marker.as_str()))
                            .map(|(id, _)| id.clone());
                        match id {
                            None => continue,
                            Some(id) => {
                                let found = stored_by_id.remove(&id).unwrap();
                                assert_eq!(found["version"], 1, "{found}");
                                failed_stored += 1;
                                found
                            }
                        }
                    }
                };
                // The audit trail agrees with the contact: its create and one event per update.
                let id = found["id"].as_str().unwrap();
                let version = found["version"].as_u64().unwrap() as usize;
                let actions = events_of.remove(id).unwrap_or_default();
                let mut expected = vec!["created".to_owned()];
                expected.extend(std::iter::repeat_n("updated".to_owned(), version - 1));
                assert_eq!(actions, expected, "the audit events of {found}");
            }
            assert!(stored_by_id.is_empty(), "contacts nobody wrote: {stored_by_id:?}");
            assert!(events_of.is_empty(), "audit events without their contact: {events_of:?}");
        }
        (acknowledged, failed, verified, failed_stored)
    });
    eprintln!(
        "crash test: PostgreSQL crashed at {:.1} s and started at {:.1} s of {} s; {WRITERS} writers: \
         {acknowledged} writes acknowledged, {failed} failed (5xx or no answer; {failed_stored} of them \
         stored whole, the rest not at all), {verified} acknowledged writes verified; \
         {after_restart} writes acknowledged after the restart by the same server process, the first \
         {first_after:?} after it",
        crashed_at.as_secs_f64(),
        started_again_at.as_secs_f64(),
        RUN.as_secs(),
    );
    assert!(failed > 0, "the crash hit no write: the test proved nothing");
    assert_eq!(verified, acknowledged);
    assert!(after_restart > 0, "the server did not recover without a restart");
    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.output());
}
