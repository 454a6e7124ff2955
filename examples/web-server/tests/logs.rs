//! The logs: one line per request, and no personal data or token in them.
//!
//! A test binary of its own: `tracing` caches per call site whether anyone listens, and
//! tests on other threads hitting the same call sites without a subscriber race with the
//! subscriber this test installs for its thread.

#[path = "common/mod.rs"]
mod common;

use std::io;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use common::{app_under_test, app_with_store_down, token};

/// A log destination in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// The test runtime is single-threaded, so the subscriber set for this thread sees every
// event of the requests below.
#[tokio::test]
async fn requests_are_logged_one_line_each_without_personal_data_or_tokens() {
    let captured = Captured::default();
    // "debug" shows more than the server's default ("info") and still must not leak.
    let subscriber = renraku_web::telemetry::subscriber(captured.clone(), "debug,hyper=info");
    let _guard = tracing::subscriber::set_default(subscriber);

    let secrets = [
        "Zoë-Marie",
        "Geheimnisträger",
        "+49 30 9876543",
        "309876543",
        "zoe.secret@example.org",
        "Hauptstraße 99",
    ];
    let app = app_under_test().await;
    let case = app.new_case();
    let form = [
        ("first_name", secrets[0]),
        ("last_name", secrets[1]),
        ("phone", secrets[2]),
        ("email", secrets[4]),
        ("address", secrets[5]),
    ];
    // Each form post is 2 requests: GET /session for the form token, then the post.
    let created = app.post_form(&format!("/cases/{case}/contacts"), &form).await;
    created.assert_status(303);
    let href = created.location().to_owned();
    app.get(&href).await.assert_status(200);
    let invalid = [("first_name", "R2D2 Geheimnisträger"), ("email", "not-zoe.secret@example")];
    app.post_form(&format!("/cases/{case}/contacts"), &invalid).await.assert_status(422);
    let body =
        json!({ "first_name": secrets[0], "phone": secrets[2], "email": secrets[4], "address": secrets[5] });
    let api = app.api(Method::POST, &format!("/api/cases/{case}/contacts"), Some(body)).await;
    api.assert_status(201);
    let cursor_query = format!("/api/cases/{case}/contacts?limit=1&after={}", "Zoe-in-the-query");
    app.api(Method::GET, &cursor_query, None).await.assert_status(400);
    let signed_in = app.post_form("/session", &[("token", &token()), ("next", "/")]).await;
    signed_in.assert_status(303);
    let bad_token =
        app.api_with(Method::GET, "/api/heartbeat", None, &[("authorization", "Bearer Zoe.secret.token")]);
    bad_token.await.assert_status(204);
    let audit = format!("/api/cases/{case}/audit");
    let refused = app.api_with(Method::GET, &audit, None, &[("authorization", "Zoe.secret.token")]).await;
    refused.assert_status(401);
    let odd_id = app
        .api_with(Method::GET, "/api/heartbeat", None, &[("x-request-id", "Zoë Geheimnisträger <x>")])
        .await;
    assert_ne!(odd_id.header("x-request-id"), Some("Zoë Geheimnisträger <x>"));
    let proxy_id = app.api_with(Method::GET, "/api/heartbeat", None, &[("x-request-id", "nginx-4711")]).await;
    assert_eq!(proxy_id.header("x-request-id"), Some("nginx-4711"), "a proxy's id is kept");
    let down = app_with_store_down();
    down.api(Method::POST, "/api/cases/7/contacts", Some(json!({ "first_name": secrets[0] })))
        .await
        .assert_status(503);

    let logs = captured.text();
    let finished: Vec<&str> = logs.lines().filter(|l| l.contains("finished")).collect();
    assert_eq!(finished.len(), 14, "one line per request:\n{logs}");
    assert!(logs.contains("request_id=nginx-4711"));
    for line in &finished {
        for field in ["method=", "route=", "status=", "latency_ms=", "request_id="] {
            assert!(line.contains(field), "{field} missing in {line}");
        }
    }
    assert!(
        logs.contains("method=POST route=/cases/{case_id}/contacts") && logs.contains("status=303"),
        "{logs}"
    );
    assert!(logs.contains("route=/api/cases/{case_id}/contacts") && logs.contains("status=201"));
    assert!(logs.contains("the storage backend failed"), "backend errors are logged:\n{logs}");

    let token = token();
    let mut forbidden: Vec<&str> = secrets.to_vec();
    forbidden.extend(["Zoe", "zoe", "R2D2", "Bearer", &case, &href, "after=", "limit=", "csrf"]);
    forbidden.extend(token.split('.'));
    for secret in forbidden {
        assert!(!logs.contains(secret), "the logs contain {secret:?}:\n{logs}");
    }
}
