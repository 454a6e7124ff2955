//! The forwarder as a process against a real PostgreSQL server (`TestServer`) and a small
//! HTTP receiver in the test: killed with SIGKILL mid-stream and restarted, it loses
//! nothing; a receiver that fails for a while gets everything once it recovers; with
//! standard output and a cursor file, a graceful stop resumes where it stopped.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use renraku_core::{Actor, CaseId, ContactRepository, FeedCursor, NewContact, PageLimit, Rules};
use renraku_postgres::PgContactRepository;
use renraku_postgres::testkit::{TestServer, fresh_repository};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_renraku-audit-forwarder");

/// What the receiver got: every accepted event id in order, and the refused attempts.
#[derive(Debug, Default)]
struct Received {
    ids: Vec<Uuid>,
    refused: Vec<Instant>,
    /// Refuse (503) every POST until this moment.
    fail_until: Option<Instant>,
}

type Shared = Arc<Mutex<Received>>;

/// An HTTP receiver on loopback; returns its URL.
async fn receiver(shared: Shared) -> String {
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |body: String| {
            let shared = shared.clone();
            async move {
                let mut received = shared.lock().unwrap();
                if received.fail_until.is_some_and(|until| Instant::now() < until) {
                    received.refused.push(Instant::now());
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                for line in body.lines() {
                    let event: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                    received.ids.push(event["id"].as_str().expect("an id").parse().expect("a UUID"));
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn forwarder(repo: &PgContactRepository, env: &[(&str, &str)]) -> Child {
    Command::new(BIN)
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", TestServer::shared().url())
        .env("RENRAKU_SCHEMA", repo.schema())
        .env("FORWARDER_NAME", repo.schema())
        .env("FORWARDER_REREAD_MS", "200")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the forwarder starts")
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the forwarder stops within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every event id of the repository's feed.
async fn feed_ids(repo: &PgContactRepository) -> Vec<Uuid> {
    let (mut ids, mut cursor) = (Vec::new(), FeedCursor::START);
    loop {
        let page = repo.feed(&cursor, PageLimit::MAX, &clerk()).await.unwrap();
        ids.extend(page.events.iter().map(|e| *e.id.as_uuid()));
        cursor = page.next;
        if !page.more {
            return ids;
        }
    }
}

fn clerk() -> Actor {
    Actor::new("clerk-1").unwrap()
}

async fn write(repo: &PgContactRepository, count: usize, pause: Duration) {
    let case = CaseId::new(format!("case-{}", Uuid::now_v7().simple())).unwrap();
    for i in 0..count {
        let input =
            NewContact { first_name: Some(format!("Ada{}", "a".repeat(i % 5))), ..NewContact::default() };
        repo.create(&case, input, &clerk()).await.unwrap();
        tokio::time::sleep(pause).await;
    }
}

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn counts(ids: &[Uuid]) -> HashMap<Uuid, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(*id).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_forwarder_killed_mid_stream_loses_nothing() {
    const EVENTS: usize = 600;
    const BATCH: usize = 20;
    let repo = fresh_repository(Rules::default()).await;
    let shared = Shared::default();
    let url = receiver(shared.clone()).await;
    let batch = BATCH.to_string();
    let env = [("FORWARDER_URL", url.as_str()), ("FORWARDER_BATCH", batch.as_str())];

    let writers = tokio::spawn({
        let repo = repo.clone();
        async move {
            let mut writers = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let repo = repo.clone();
                writers.spawn(async move { write(&repo, EVENTS / 4, Duration::from_millis(3)).await });
            }
            writers.join_all().await;
        }
    });
    let mut first = forwarder(&repo, &env);
    wait_until("a third is delivered", Duration::from_secs(60), || {
        shared.lock().unwrap().ids.len() >= EVENTS / 3
    })
    .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = shared.lock().unwrap().ids.len();

    let mut second = forwarder(&repo, &env);
    writers.await.unwrap();
    let all = feed_ids(&repo).await;
    assert_eq!(all.len(), EVENTS);
    wait_until("every event is delivered", Duration::from_secs(60), || {
        let received = counts(&shared.lock().unwrap().ids);
        all.iter().all(|id| received.contains_key(id))
    })
    .await;
    assert!(terminate(&mut second).success(), "SIGTERM: a clean exit");

    // A third start has nothing to deliver: the second stored its cursor before it stopped.
    let delivered = shared.lock().unwrap().ids.len();
    let mut third = forwarder(&repo, &env);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(shared.lock().unwrap().ids.len(), delivered, "nothing delivered twice after a clean stop");
    write(&repo, 5, Duration::ZERO).await;
    wait_until("new events are delivered", Duration::from_secs(30), || {
        shared.lock().unwrap().ids.len() == delivered + 5
    })
    .await;
    assert!(terminate(&mut third).success());

    let received = shared.lock().unwrap().ids.clone();
    let per_event = counts(&received);
    let all = feed_ids(&repo).await;
    assert_eq!(per_event.len(), all.len(), "only events of the feed");
    assert!(all.iter().all(|id| per_event.contains_key(id)), "none lost");
    let duplicates = received.len() - per_event.len();
    eprintln!(
        "kill test: {} events, {} deliveries, {at_kill} before the SIGKILL, {duplicates} duplicates",
        all.len(),
        received.len()
    );
    assert!(
        duplicates <= BATCH,
        "duplicates only around the kill: at most the page in flight ({duplicates})"
    );
    // The duplicates are the events delivered just before the kill, delivered again.
    let again: Vec<usize> =
        received.iter().enumerate().filter(|(i, id)| received[..*i].contains(id)).map(|(i, _)| i).collect();
    assert!(again.iter().all(|i| *i >= at_kill), "duplicates come only after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_forwarder_retries_while_the_receiver_fails() {
    let repo = fresh_repository(Rules::default()).await;
    write(&repo, 50, Duration::ZERO).await;
    let shared = Shared::default();
    shared.lock().unwrap().fail_until = Some(Instant::now() + Duration::from_secs(2));
    let url = receiver(shared.clone()).await;
    let mut child = forwarder(&repo, &[("FORWARDER_URL", url.as_str()), ("FORWARDER_BATCH", "500")]);
    let all = feed_ids(&repo).await;
    wait_until("the receiver recovers and gets everything", Duration::from_secs(30), || {
        shared.lock().unwrap().ids.len() >= all.len()
    })
    .await;
    assert!(terminate(&mut child).success());
    let received = shared.lock().unwrap();
    assert_eq!(received.ids, all, "everything, once, in feed order");
    let refused = &received.refused;
    assert!(refused.len() >= 3, "it retried: {} refused attempts", refused.len());
    let gaps: Vec<Duration> = refused.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0].mul_f32(1.5)), "with exponential backoff: {gaps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_forwarder_writes_json_lines_and_resumes_from_its_cursor_file() {
    let repo = fresh_repository(Rules::default()).await;
    write(&repo, 30, Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cursor");
    let file_env = file.to_str().unwrap();
    let run = |expected: usize| {
        let mut child = forwarder(&repo, &[("FORWARDER_CURSOR_FILE", file_env), ("FORWARDER_BATCH", "7")]);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ids: Vec<Uuid> = (0..expected)
            .map(|_| {
                let line = lines.next().expect("a line").unwrap();
                let event: serde_json::Value = serde_json::from_str(&line).unwrap();
                event["id"].as_str().unwrap().parse().unwrap()
            })
            .collect();
        assert!(terminate(&mut child).success());
        assert!(lines.next().is_none(), "nothing more after the expected events");
        ids
    };
    let first = tokio::task::block_in_place(|| run(30));
    let all = feed_ids(&repo).await;
    assert_eq!(first, all);
    let stored: FeedCursor = std::fs::read_to_string(&file).unwrap().parse().unwrap();
    assert_eq!(*repo.feed(&stored, PageLimit::MAX, &clerk()).await.unwrap().events, []);

    write(&repo, 3, Duration::ZERO).await;
    let second = tokio::task::block_in_place(|| run(3));
    assert_eq!(second, feed_ids(&repo).await[30..], "it resumes after the stored cursor");
}
