//! Measurements over the binary, ignored in the normal suite (100,000 contacts; about 10 s
//! on 2 cores, debug build):
//!
//! ```sh
//! CARGO_TARGET_DIR=… cargo test -p renraku-web --all-features --test measure -- --ignored --nocapture
//! ```
//!
//! - the server's peak memory (VmHWM) before and after a CSV export of 100,000 contacts,
//!   which streams and so must not grow with the size of the file;
//! - the time of one CSV import of 10,000 contacts, on memory and on PostgreSQL;
//! - what read audit costs a `GET` of one contact over HTTP (the policy on both sides),
//!   off and on in turns, on memory and on PostgreSQL.
//!
//! The normal suite tests the same behaviours with smaller data (tests/http/transfer.rs).

#[path = "common/mod.rs"]
mod common;

#[path = "common/binary.rs"]
mod binary;

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use binary::{Http, Process, cookie_pair};

/// `VmHWM` (peak resident memory) and `VmRSS` of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap()
    };
    (kib("VmHWM:"), kib("VmRSS:"))
}

/// A CSV file of `count` valid contacts, numbered from `from`.
fn generated(from: usize, count: usize) -> String {
    let mut file = String::from("first_name,last_name,phone_no,email,relationship\n");
    for i in from..from + count {
        let mut name = String::from("B");
        let mut n = i;
        loop {
            name.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
            if n == 0 {
                break;
            }
        }
        file.push_str(&format!("{name},Mustermann,030 {:07},p{i}@example.org,household\n", 1_000_000 + i));
    }
    file
}

/// A server, its base URL, and the CSRF cookie and token of its pages.
struct Server {
    process: Process,
    base: String,
    cookie: String,
    token: String,
}

async fn start(env: &[(&str, &str)]) -> Server {
    let mut all = vec![("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0")];
    all.extend_from_slice(env);
    let mut process = Process::start(&all);
    let base = process.base_url();
    let form = Http::new().get(&format!("{base}/cases/m/import"), &[]).await;
    let cookie = cookie_pair(&form, "renraku_csrf");
    let token = common::form_token(&form.body);
    Server { process, base, cookie, token }
}

/// Imports `file` into `case` in one request and returns how long it took.
async fn import(server: &Server, case: &str, file: &str) -> Duration {
    let boundary = "renraku-measure-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n",
        server.token
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let headers = [("content-type", content_type.as_str()), ("cookie", server.cookie.as_str())];
    let started = Instant::now();
    let reply = Http::new()
        .send(Method::POST, &format!("{}/cases/{case}/import", server.base), &headers, &body)
        .await;
    let took = started.elapsed();
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    took
}

/// Downloads the CSV of `case` frame by frame, keeping nothing, and returns (bytes, lines).
async fn download(server: &Server, case: &str) -> (usize, usize) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = Request::get(format!("{}/cases/{case}/contacts.csv", server.base))
        .header(header::ACCEPT, "text/csv")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let (mut bytes, mut lines) = (0, 0);
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        bytes += data.len();
        lines += data.iter().filter(|b| **b == b'\n').count();
    }
    (bytes, lines)
}

fn database() -> String {
    renraku_postgres::testkit::TestServer::shared().url().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: imports 100,000 contacts into the shared PostgreSQL"]
async fn export_memory_at_100k_contacts() {
    let database = database();
    let mut server = start(&[("DATABASE_URL", &database)]).await;
    let case = format!("measure-{}", std::process::id());
    let small = format!("measure-small-{}", std::process::id());
    for chunk in 0..10 {
        let took = import(&server, &case, &generated(chunk * 10_000, 10_000)).await;
        eprintln!("import {} of 10: 10,000 contacts in {:.2} s", chunk + 1, took.as_secs_f64());
    }
    import(&server, &small, &generated(0, 10_000)).await;
    // A fresh process on the same database: its peak memory owes nothing to the imports.
    server.process.signal("TERM");
    assert!(server.process.wait().success());
    let mut server = start(&[("DATABASE_URL", &database)]).await;
    let pid = server.process.id();
    // A first small export warms up what every export allocates once (pools, buffers).
    download(&server, "measure-warm-up").await;
    let (hwm_start, _) = memory(pid);
    let (small_bytes, small_lines) = download(&server, &small).await;
    assert_eq!(small_lines, 10_001);
    let (hwm_small, _) = memory(pid);
    let started = Instant::now();
    let (bytes, lines) = download(&server, &case).await;
    let took = started.elapsed();
    let (hwm_large, rss) = memory(pid);
    assert_eq!(lines, 100_001, "the header row and 100,000 contacts");
    eprintln!(
        "server VmHWM (peak RSS): {hwm_start} KiB before any export; {hwm_small} KiB after exporting 10,000 \
         contacts ({small_bytes} bytes); {hwm_large} KiB after exporting 100,000 contacts ({bytes} bytes in \
         {:.2} s); VmRSS then {rss} KiB",
        took.as_secs_f64(),
    );
    // Streamed: ten times the contacts, and the peak grows by far less than the difference
    // of the files (which a buffered export holds at least once).
    let growth = (hwm_large - hwm_small) * 1024;
    assert!(growth < (bytes - small_bytes) as u64 / 4, "the export is not streamed: +{growth} bytes");

    for case in [&case, &small] {
        let body = format!("csrf_token={}", server.token);
        let headers =
            [("content-type", "application/x-www-form-urlencoded"), ("cookie", server.cookie.as_str())];
        let url = format!("{}/cases/{case}/erase", server.base);
        let erased = Http::new().send(Method::POST, &url, &headers, &body).await;
        assert_eq!(erased.status, StatusCode::SEE_OTHER, "{}", erased.body);
    }
    server.process.signal("TERM");
    assert!(server.process.wait().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: one import of 10,000 contacts on each store"]
async fn import_time_at_10k_contacts() {
    let file = generated(0, 10_000);
    eprintln!("the file: {} bytes", file.len());
    for (store, env) in [("memory", vec![]), ("postgres", vec![("DATABASE_URL", database())])] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut server = start(&env).await;
        let case = format!("measure-import-{}", std::process::id());
        let took = import(&server, &case, &file).await;
        eprintln!("{store}: one import of 10,000 contacts in {:.2} s", took.as_secs_f64());
        let body = format!("csrf_token={}", server.token);
        let headers =
            [("content-type", "application/x-www-form-urlencoded"), ("cookie", server.cookie.as_str())];
        let erased = Http::new()
            .send(Method::POST, &format!("{}/cases/{case}/erase", server.base), &headers, &body)
            .await;
        assert_eq!(erased.status, StatusCode::SEE_OTHER, "{}", erased.body);
        server.process.signal("TERM");
        assert!(server.process.wait().success());
    }
}

/// The mean time of `count` sequential `GET`s of one contact (JSON API) from `server`.
async fn gets(http: &Http, server: &Server, path: &str, count: u32) -> Duration {
    let url = format!("{}{path}", server.base);
    let started = Instant::now();
    for _ in 0..count {
        let reply = http.get(&url, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    started.elapsed() / count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: 6,000 requests on each store"]
async fn read_audit_cost_of_a_get() {
    const ROUNDS: usize = 5;
    const PER_ROUND: u32 = 600;
    for (store, env) in [("memory", vec![]), ("postgres", vec![("DATABASE_URL", database())])] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut servers = Vec::new();
        for read_audit in ["false", "true"] {
            let mut all = env.clone();
            all.push(("RENRAKU_READ_AUDIT", read_audit));
            servers.push(start(&all).await);
        }
        let http = Http::new();
        // A case each: on PostgreSQL both servers share the database.
        let cases = ["off", "on"].map(|flag| format!("measure-read-audit-{flag}-{}", std::process::id()));
        let mut paths = Vec::new();
        for (server, case) in servers.iter().zip(&cases) {
            let headers = [("content-type", "application/json")];
            let url = format!("{}/api/cases/{case}/contacts", server.base);
            let created = http.send(Method::POST, &url, &headers, r#"{"first_name":"Ada"}"#).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            let id = serde_json::from_str::<serde_json::Value>(&created.body).unwrap()["id"].clone();
            paths.push(format!("/api/cases/{case}/contacts/{}", id.as_str().unwrap()));
        }
        // Off and on take turns, so that both see the same machine.
        let mut means = [Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            for (index, server) in servers.iter().enumerate() {
                means[index].push(gets(&http, server, &paths[index], PER_ROUND).await);
            }
        }
        let median = |times: &mut Vec<Duration>| {
            times.sort();
            times[times.len() / 2]
        };
        let (off, on) = (median(&mut means[0]), median(&mut means[1]));
        eprintln!(
            "{store}: GET of a contact over HTTP, median of {ROUNDS} rounds of {PER_ROUND}: read audit off \
             {:.0} µs, on {:.0} µs ({:+.0} µs)",
            off.as_secs_f64() * 1e6,
            on.as_secs_f64() * 1e6,
            (on.as_secs_f64() - off.as_secs_f64()) * 1e6
        );
        // The flag reached the store: only the server with read audit on recorded the reads.
        let mut recorded = Vec::new();
        for (server, case) in servers.iter().zip(&cases) {
            let trail = http.get(&format!("{}/api/cases/{case}/audit", server.base), &[]).await;
            assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
            let trail: serde_json::Value = serde_json::from_str(&trail.body).unwrap();
            recorded.push(
                trail["items"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect::<Vec<_>>(),
            );
        }
        assert_eq!(recorded[0], ["created"]);
        assert_eq!(recorded[1][..2], ["created", "viewed"]);
        for (server, case) in servers.iter().zip(&cases) {
            let body = format!("csrf_token={}", server.token);
            let headers =
                [("content-type", "application/x-www-form-urlencoded"), ("cookie", server.cookie.as_str())];
            let url = format!("{}/cases/{case}/erase", server.base);
            let erased = http.send(Method::POST, &url, &headers, &body).await;
            assert_eq!(erased.status, StatusCode::SEE_OTHER, "{}", erased.body);
        }
        for mut server in servers {
            server.process.signal("TERM");
            assert!(server.process.wait().success());
        }
    }
}
