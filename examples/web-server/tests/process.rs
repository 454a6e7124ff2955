//! The server as a process and over real TCP: graceful shutdown, the refusal of unsafe
//! configurations, and flows through a real listener with a real HTTP client.

#[path = "common/mod.rs"]
mod common;

#[path = "common/binary.rs"]
mod binary;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode, header};
use renraku_web::{AppState, Auth, JwtVerifier};

use binary::{Http, Process, Raw, cookie_pair, get_request};
use common::{ISSUER, PUBLIC_KEY, store_under_test, token};

fn run_and_stop_with(signal: &str) {
    let mut server = Process::start(&[("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0")]);
    let base = server.base_url();
    assert!(server.output().contains("DISABLE_AUTH is on"), "a loud warning:\n{}", server.output());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = Http::new();
        let heartbeat = http.get(&format!("{base}/api/heartbeat"), &[]).await;
        assert_eq!(heartbeat.status, StatusCode::NO_CONTENT);
        assert!(heartbeat.body.is_empty());
        let home = http.get(&format!("{base}/"), &[]).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("dev-user"));
    });
    server.signal(signal);
    let status = server.wait();
    assert!(status.success(), "exit status {status:?} after SIG{signal}:\n{}", server.output());
    let output = server.output();
    assert!(output.contains("shutting down") && output.contains("stopped"), "{output}");
    assert!(output.contains("route=/api/heartbeat") && output.contains("status=204"), "{output}");
}

#[test]
fn a_log_line_reaches_standard_output_while_the_server_runs() {
    let mut server = Process::start(&[("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0")]);
    let base = server.base_url();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let id = runtime.block_on(async {
        let heartbeat = Http::new().get(&format!("{base}/api/heartbeat"), &[]).await;
        heartbeat.headers["x-request-id"].to_str().unwrap().to_owned()
    });
    // The lines are buffered (a few kilobytes here, far below the buffer's size): the
    // flushing thread writes this one within its interval, 100 ms.
    let patience = renraku_web::telemetry::FLUSH_INTERVAL * 20;
    let line = server.wait_for_within(&id, patience);
    assert!(line.contains("route=/api/heartbeat") && line.contains("status=204"), "{line}");
}

/// The README's promise for a killed process: it loses at most the lines of its last
/// flush interval. Fifty requests, then ten intervals of quiet (room for a busy machine),
/// then SIGKILL, which runs no exit code: every request's line is on standard output.
#[test]
fn a_killed_server_has_written_the_lines_of_requests_answered_before_its_last_flush() {
    let (mut server, base) = start_dev_server(&[]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ids: Vec<String> = runtime.block_on(async {
        let http = Http::new();
        let mut ids = Vec::new();
        for _ in 0..50 {
            let heartbeat = http.get(&format!("{base}/api/heartbeat"), &[]).await;
            ids.push(heartbeat.headers["x-request-id"].to_str().unwrap().to_owned());
        }
        ids
    });
    std::thread::sleep(renraku_web::telemetry::FLUSH_INTERVAL * 10);
    server.signal("KILL");
    let status = server.wait();
    assert!(!status.success(), "killed, not stopped: {status:?}");
    let output = server.output();
    assert!(!output.contains("stopped"), "SIGKILL runs no shutdown:\n{output}");
    let lost: Vec<&String> = ids.iter().filter(|id| !output.contains(id.as_str())).collect();
    assert!(lost.is_empty(), "lines lost: {lost:?}\n{output}");
}

#[test]
fn sigterm_stops_the_server_gracefully_with_exit_code_0() {
    run_and_stop_with("TERM");
}

#[test]
fn ctrl_c_stops_the_server_gracefully_with_exit_code_0() {
    run_and_stop_with("INT");
}

#[test]
fn disable_auth_is_refused_on_an_address_that_is_not_loopback() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let mut server = Process::start(&[("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", listen)]);
        let status = server.wait();
        assert!(!status.success(), "it started on {listen}:\n{}", server.output());
        assert!(server.output().contains("only allowed on a loopback address"), "{}", server.output());
        assert!(!server.output().contains("listening"));
    }
}

#[test]
fn authentication_without_a_key_is_refused() {
    let mut server = Process::start(&[("DISABLE_AUTH", "false"), ("RENRAKU_LISTEN", "127.0.0.1:0")]);
    assert!(!server.wait().success());
    assert!(server.output().contains("RENRAKU_JWT_PUBLIC_KEY"), "{}", server.output());

    let mut server = Process::start(&[("RENRAKU_JWT_PUBLIC_KEY", "/nonexistent/key.pem")]);
    assert!(!server.wait().success());
    assert!(server.output().contains("cannot read the JWT public key"), "{}", server.output());
}

#[test]
fn the_binary_verifies_tokens_with_the_configured_key() {
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test-public.pem");
    let mut server = Process::start(&[("RENRAKU_JWT_PUBLIC_KEY", key), ("RENRAKU_LISTEN", "127.0.0.1:0")]);
    let base = server.base_url();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = Http::new();
        let url = format!("{base}/api/cases/42/contacts");
        let json = [("content-type", "application/json")];
        let body = r#"{"first_name": "Ada", "phone": "030 1234567"}"#;
        let refused = http.send(Method::POST, &url, &json, body).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let auth = format!("Bearer {}", token());
        let headers = [("content-type", "application/json"), ("authorization", auth.as_str())];
        let created = http.send(Method::POST, &url, &headers, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert!(created.body.contains("+49301234567"), "the default region is DE: {}", created.body);
        let page = http.get(&format!("{base}/cases/42"), &[]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    });
    server.signal("TERM");
    assert!(server.wait().success());
}

#[test]
fn the_binary_serves_from_postgresql_when_database_url_is_set() {
    let database = renraku_postgres::testkit::TestServer::shared().url();
    let env = [("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0"), ("DATABASE_URL", database)];
    let mut server = Process::start(&env);
    let base = server.base_url();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let created = runtime.block_on(async {
        let http = Http::new();
        let url = format!("{base}/api/cases/pg-42/contacts");
        let body = r#"{"first_name": "Ada", "phone": "030 1234567"}"#;
        let created = http.send(Method::POST, &url, &[("content-type", "application/json")], body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.headers[header::LOCATION].to_str().unwrap().to_owned()
    });
    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.output());

    // A second start migrates again (nothing to do) and finds the contact in the database.
    let mut again = Process::start(&env);
    let base = again.base_url();
    runtime.block_on(async {
        let found = Http::new().get(&format!("{base}{created}"), &[]).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        assert!(found.body.contains("+49301234567"), "{}", found.body);
    });
    again.signal("TERM");
    assert!(again.wait().success(), "{}", again.output());
}

/// Serves the router in this process on a free port.
async fn serve_in_process() -> String {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    let state = AppState::new(store_under_test().await, Auth::Jwt(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let limits = renraku_web::serve::Limits::default();
    let server =
        renraku_web::serve::serve(listener, renraku_web::app(state), limits, None, std::future::pending());
    tokio::spawn(async move { server.await.unwrap() });
    base
}

#[tokio::test]
async fn a_browser_session_over_tcp_signs_in_creates_and_signs_out() {
    let base = serve_in_process().await;
    let http = Http::new();
    let case = format!("tcp-{}", renraku_core::ContactId::new());

    let denied = http.get(&format!("{base}/cases/{case}"), &[]).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert!(denied.body.contains("/session?next="));

    let form = http.get(&format!("{base}/session"), &[]).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = cookie_pair(&form, "renraku_csrf");
    let anonymous_token = common::form_token(&form.body);

    let form_type = ("content-type", "application/x-www-form-urlencoded");
    let body = serde_urlencoded::to_string([
        ("csrf_token", anonymous_token.as_str()),
        ("token", &token()),
        ("next", "/"),
    ])
    .unwrap();
    let signed_in =
        http.send(Method::POST, &format!("{base}/session"), &[form_type, ("cookie", &csrf)], &body).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    let session = cookie_pair(&signed_in, "renraku_session");
    let cookies = format!("{csrf}; {session}");

    let empty = http.get(&format!("{base}/cases/{case}"), &[("cookie", &cookies)]).await;
    assert_eq!(empty.status, StatusCode::NOT_FOUND);
    assert!(empty.body.contains("No contact data found"));
    // The forms of a signed-in session carry a token of their own.
    let session_token = common::form_token(&empty.body);
    assert_ne!(session_token, anonymous_token);

    let body =
        serde_urlencoded::to_string([("csrf_token", session_token.as_str()), ("last_name", "Tcp")]).unwrap();
    let url = format!("{base}/cases/{case}/contacts");
    let created = http.send(Method::POST, &url, &[form_type, ("cookie", &cookies)], &body).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.headers[header::LOCATION].to_str().unwrap().to_owned();
    let flash = cookie_pair(&created, "renraku_flash");
    let shown = http.get(&format!("{base}{location}"), &[("cookie", &format!("{cookies}; {flash}"))]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Contact created successfully.") && shown.body.contains("Tcp"));

    let body = serde_urlencoded::to_string([("csrf_token", session_token.as_str())]).unwrap();
    let out = http
        .send(Method::POST, &format!("{base}/session/delete"), &[form_type, ("cookie", &cookies)], &body)
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(cookie_pair(&out, "renraku_session").ends_with('='), "the session cookie is cleared");
}

#[tokio::test]
async fn the_api_over_tcp() {
    let base = serve_in_process().await;
    let http = Http::new();
    let case = format!("tcp-{}", renraku_core::ContactId::new());
    let auth = format!("Bearer {}", token());
    let headers = [("content-type", "application/json"), ("authorization", auth.as_str())];
    let url = format!("{base}/api/cases/{case}/contacts");
    let created = http.send(Method::POST, &url, &headers, r#"{"email": "ada@example.org"}"#).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let location = created.headers[header::LOCATION].to_str().unwrap().to_owned();
    let fetched = http.get(&format!("{base}{location}"), &[("authorization", &auth)]).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.headers[header::ETAG], "\"1\"");
    let too_big = "x".repeat(100 * 1024);
    let rejected = http.send(Method::POST, &url, &headers, &too_big).await;
    assert_eq!(rejected.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(rejected.headers[header::CONTENT_TYPE], "application/problem+json");
}

/// The binary with authentication disabled on a free port, and its base URL.
fn start_dev_server(env: &[(&str, &str)]) -> (Process, String) {
    let mut all = vec![("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0")];
    all.extend_from_slice(env);
    let mut server = Process::start(&all);
    let base = server.base_url();
    (server, base)
}

/// A client that sends its head one line every 250 ms (slowloris) is cut off at the header
/// timeout, counted from its first byte; so is one that sends nothing at all.
#[test]
fn a_slow_head_is_cut_off_at_the_header_timeout() {
    let (_server, base) =
        start_dev_server(&[("RENRAKU_HEADER_TIMEOUT", "1s"), ("RENRAKU_IDLE_TIMEOUT", "5s")]);
    let mut slow = Raw::connect(&base);
    slow.send(b"GET /api/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
    let mut closed = None;
    for line in 0..20 {
        if let Some(after) = slow.closed_within(Duration::from_millis(250)) {
            closed = Some(after);
            break;
        }
        if slow.send(format!("X-Slow-{line}: x\r\n").as_bytes()).is_err() {
            closed = Some(slow.opened.elapsed());
            break;
        }
    }
    let closed = closed.expect("the server closed the slow connection");
    eprintln!("slow head: closed after {} ms (header timeout 1 s)", closed.as_millis());
    assert!(closed >= Duration::from_millis(900) && closed < Duration::from_millis(2500), "{closed:?}");

    let mut silent = Raw::connect(&base);
    let closed = silent.closed_within(Duration::from_secs(4)).expect("a silent connection is closed");
    eprintln!("silent connection: closed after {} ms", closed.as_millis());
    assert!(closed >= Duration::from_millis(900) && closed < Duration::from_millis(2500), "{closed:?}");

    // A client that sends its head in time is served.
    let mut quick = Raw::connect(&base);
    quick.send(&get_request("/api/heartbeat")).unwrap();
    assert_eq!(quick.response(Duration::from_secs(2)).expect("an answer").status, 204);
}

/// After a response, a keep-alive connection may wait for its next request up to the idle
/// timeout (here longer than the header timeout), then it is closed.
#[test]
fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let (_server, base) =
        start_dev_server(&[("RENRAKU_HEADER_TIMEOUT", "1s"), ("RENRAKU_IDLE_TIMEOUT", "2s")]);
    let mut client = Raw::connect(&base);
    client.send(&get_request("/api/heartbeat")).unwrap();
    assert_eq!(client.response(Duration::from_secs(2)).expect("an answer").status, 204);
    let answered = Instant::now();
    // Still open past the header timeout: idle is not a slow head.
    assert!(client.closed_within(Duration::from_millis(1500)).is_none(), "closed at the header timeout");
    client.send(&get_request("/api/heartbeat")).unwrap();
    assert_eq!(client.response(Duration::from_secs(2)).expect("a second answer").status, 204);
    let answered_again = Instant::now();
    assert!(client.closed_within(Duration::from_secs(5)).is_some(), "closed when idle");
    let idle = answered_again.elapsed();
    eprintln!("idle keep-alive connection: closed {} ms after its last response", idle.as_millis());
    // Measured from when the client read the response, a little after the server wrote it.
    assert!(idle >= Duration::from_millis(1500) && idle < Duration::from_millis(3500), "{idle:?}");
    assert!(answered.elapsed() > Duration::from_secs(3));
}

/// A body that trickles in answers 408 at the body timeout, with the usual headers.
#[test]
fn a_slow_body_answers_408_at_the_body_timeout() {
    let (_server, base) = start_dev_server(&[("RENRAKU_BODY_TIMEOUT", "1s")]);
    for (path, content_type, start) in [
        ("/api/cases/slow-1/contacts", "application/json", "{\""),
        ("/cases/slow-1/contacts", "application/x-www-form-urlencoded", "cs"),
    ] {
        let mut client = Raw::connect(&base);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: 40\r\n\r\n{start}"
        );
        client.send(head.as_bytes()).unwrap();
        let sent = Instant::now();
        let reply = client.response(Duration::from_secs(4)).expect("an answer");
        let waited = sent.elapsed();
        eprintln!("slow body on {path}: {} after {} ms (body timeout 1 s)", reply.status, waited.as_millis());
        assert_eq!(reply.status, 408, "{reply:?}");
        reply.assert_security_headers();
        assert!(waited >= Duration::from_millis(900) && waited < Duration::from_millis(2500), "{waited:?}");
    }
}

/// `Content-Length: 999999999` with 2 bytes sent: 413 at once, before the body is waited for.
#[test]
fn a_declared_length_over_the_limit_answers_413_at_once() {
    let (_server, base) = start_dev_server(&[]);
    for (path, content_type) in
        [("/api/cases/big-1/contacts", "application/json"), ("/cases/big-1/contacts", "text/plain")]
    {
        let mut client = Raw::connect(&base);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: 999999999\r\n\r\n{{}}"
        );
        client.send(head.as_bytes()).unwrap();
        let sent = Instant::now();
        let reply = client.response(Duration::from_secs(5)).expect("an answer");
        eprintln!(
            "declared 999999999 bytes on {path}: {} after {} ms",
            reply.status,
            sent.elapsed().as_millis()
        );
        assert_eq!(reply.status, 413, "{reply:?}");
        assert!(sent.elapsed() < Duration::from_millis(500));
        reply.assert_security_headers();
        assert!(reply.body.contains("64 KiB"), "{reply:?}");
    }
}

/// Opens `count` connections that send nothing; the ones the server holds open, and how
/// many it refused (answered 503 or closed). It waits until no more refusals come in for
/// 500 ms, so that a busy machine's slow accept loop does not count as holding.
fn flood(base: &str, count: usize) -> (Vec<Raw>, usize) {
    let mut open: Vec<Raw> = (0..count).map(|_| Raw::connect(base)).collect();
    let mut refused = 0;
    let mut quiet_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    while quiet_since.elapsed() < Duration::from_millis(500) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let before = refused;
        open.retain_mut(|client| match client.answered() {
            Some(answer) => {
                assert!(
                    answer.is_empty() || answer.starts_with("HTTP/1.1 503") || answer.starts_with("error"),
                    "{answer}"
                );
                refused += 1;
                false
            }
            None => true,
        });
        if refused != before {
            quiet_since = Instant::now();
        }
    }
    (open, refused)
}

/// One heartbeat on an open keep-alive connection.
fn heartbeat_on(client: &mut Raw) -> u16 {
    client.send(&get_request("/api/heartbeat")).unwrap();
    client.response(Duration::from_secs(2)).map_or(0, |reply| reply.status)
}

/// Beyond the cap, connections are answered 503 and closed; the heartbeat on a connection
/// within the cap keeps working, and once connections close, new ones are served again.
#[test]
fn connections_beyond_the_cap_are_refused_while_the_heartbeat_keeps_working() {
    let (_server, base) =
        start_dev_server(&[("RENRAKU_MAX_CONNECTIONS", "8"), ("RENRAKU_HEADER_TIMEOUT", "30s")]);
    let mut keeper = Raw::connect(&base);
    assert_eq!(heartbeat_on(&mut keeper), 204);
    let (open, refused) = flood(&base, 20);
    eprintln!("cap 8: {} held open, {refused} refused", open.len() + 1);
    assert_eq!((open.len(), refused), (7, 13));
    let mut refused_reply = Raw::connect(&base);
    let reply = refused_reply.response(Duration::from_secs(2)).expect("a 503");
    assert_eq!(reply.status, 503);
    reply.assert_security_headers();
    assert_eq!(heartbeat_on(&mut keeper), 204, "the heartbeat within the cap works");
    drop(open);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(heartbeat_on(&mut Raw::connect(&base)), 204, "served again");
}

/// The issue's flood: with `ulimit -n 256`, 300 idle connections without a token. The cap
/// (512 by default) is lowered below the open-file limit, so the flood is refused instead
/// of running the process out of descriptors, and the heartbeat keeps working.
#[test]
fn a_flood_beyond_the_open_file_limit_is_refused_without_running_out_of_files() {
    let env =
        [("DISABLE_AUTH", "true"), ("RENRAKU_LISTEN", "127.0.0.1:0"), ("RENRAKU_HEADER_TIMEOUT", "30s")];
    let mut server = Process::start_with_open_files(256, &env);
    let base = server.base_url();
    assert!(server.output().contains("lowered"), "{}", server.output());
    let mut keeper = Raw::connect(&base);
    assert_eq!(heartbeat_on(&mut keeper), 204);
    let (open, refused) = flood(&base, 300);
    eprintln!("ulimit -n 256: {} held open, {refused} refused", open.len() + 1);
    assert_eq!(open.len() + refused, 300);
    assert!(refused >= 100, "{refused}");
    for _ in 0..5 {
        assert_eq!(heartbeat_on(&mut keeper), 204);
    }
    drop(open);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(heartbeat_on(&mut Raw::connect(&base)), 204);
    server.signal("TERM");
    assert!(server.wait().success());
    let output = server.output();
    assert!(!output.contains("Too many open files") && !output.contains("cannot accept"), "{output}");
}

/// `GET /api/ready` answers 503 while PostgreSQL is down and 204 once it is back (the
/// heartbeat stays 204 throughout), and the metrics listener counts it all by route
/// template, with no id or personal data in any label.
#[test]
fn readiness_and_metrics_follow_postgres_down_and_up() {
    let database = renraku_postgres::testkit::TestServer::start();
    let env = [
        ("DISABLE_AUTH", "true"),
        ("RENRAKU_LISTEN", "127.0.0.1:0"),
        ("RENRAKU_METRICS_LISTEN", "127.0.0.1:0"),
        ("DATABASE_URL", database.url()),
    ];
    let mut server = Process::start(&env);
    let base = server.base_url();
    let metrics_line = server.output().lines().find(|l| l.contains("metrics on http://")).map(str::to_owned);
    let metrics_line = metrics_line.unwrap_or_else(|| server.wait_for("metrics on http://"));
    let metrics_url =
        metrics_line[metrics_line.find("http://").unwrap()..].split_whitespace().next().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = Http::new();
        let ready = format!("{base}/api/ready");
        assert_eq!(http.get(&ready, &[]).await.status, StatusCode::NO_CONTENT);
        let case = format!("metrics-{}", renraku_core::ContactId::new());
        let url = format!("{base}/api/cases/{case}/contacts");
        let json = [("content-type", "application/json")];
        let created = http.send(Method::POST, &url, &json, r#"{"first_name": "Zoë", "phone": "030 1234567"}"#).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

        database.stop();
        let down = http.get(&ready, &[]).await;
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE, "{}", down.body);
        assert_eq!(down.headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(http.get(&format!("{base}/api/heartbeat"), &[]).await.status, StatusCode::NO_CONTENT);

        database.restart();
        let restarted = Instant::now();
        loop {
            let status = http.get(&ready, &[]).await.status;
            if status == StatusCode::NO_CONTENT {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(restarted.elapsed() < Duration::from_secs(15), "not ready 15 s after the restart");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("ready again {} ms after PostgreSQL started", restarted.elapsed().as_millis());
        let listed = http.get(&url, &[]).await;
        assert_eq!(listed.status, StatusCode::OK, "the same process serves again: {}", listed.body);

        let scraped = http.get(&metrics_url, &[]).await;
        assert_eq!(scraped.status, StatusCode::OK);
        assert!(scraped.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/openmetrics-text"));
        let text = scraped.body;
        for expected in [
            r#"renraku_http_requests_total{method="GET",route="/api/ready",status="204"}"#,
            r#"renraku_http_requests_total{method="GET",route="/api/ready",status="503"}"#,
            r#"renraku_http_requests_total{method="POST",route="/api/cases/{case_id}/contacts",status="201"} 1"#,
            r#"renraku_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/heartbeat"}"#,
            r#"renraku_db_pool_connections{state="idle"}"#,
            r#"renraku_db_pool_max_connections 10"#,
            "renraku_http_connections_open ",
            "renraku_http_connections_refused_total 0",
        ] {
            assert!(text.contains(expected), "no {expected} in\n{text}");
        }
        for private in [case.as_str(), "Zoë", "Zo\\u", "1234567"] {
            assert!(!text.contains(private), "{private} in the metrics");
        }
    });
    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.output());
}
