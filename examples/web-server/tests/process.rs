//! The server as a process and over real TCP: graceful shutdown, the refusal of unsafe
//! configurations, and flows through a real listener with a real HTTP client.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use renraku_web::{AppState, Auth, JwtVerifier};

use common::{ISSUER, PUBLIC_KEY, store_under_test, token};

const BIN: &str = env!("CARGO_BIN_EXE_renraku-web");

/// The server binary, run with only the given environment.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    output: Vec<String>,
}

impl Process {
    fn start(env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BIN)
            .env_clear()
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the renraku-web binary starts");
        let (send, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = send.send(line);
                }
            });
        }
        Self { child, lines, output: Vec::new() }
    }

    /// Waits for a line containing `needle` and returns it.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.output.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no line with {needle:?}; output so far:\n{}", self.output.join("\n"));
    }

    /// The base URL the server listens on, from its log.
    fn base_url(&mut self) -> String {
        let line = self.wait_for("listening on http://");
        let start = line.find("http://").unwrap();
        line[start..].split_whitespace().next().unwrap().to_owned()
    }

    fn signal(&self, name: &str) {
        let status =
            Command::new("kill").args([format!("-{name}"), self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit and collects the rest of its output.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Give the reader threads a moment to pass on the last lines.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.output.push(line);
                }
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit:\n{}", self.output.join("\n"));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn output(&self) -> String {
        self.output.join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1 client over TCP.
struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Http {
    fn new() -> Self {
        Self { client: Client::builder(TokioExecutor::new()).build_http() }
    }

    async fn send(&self, method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
        let response = self.client.request(request).await.expect("the server answers");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let reply = Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        };
        assert!(reply.headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(!reply.body.contains("<script"));
        reply
    }

    async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, url, headers, "").await
    }
}

/// The `name=value` of a `Set-Cookie` of `reply`.
fn cookie_pair(reply: &Reply, name: &str) -> String {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

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
    tokio::spawn(async move { axum::serve(listener, renraku_web::app(state)).await.unwrap() });
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
    let csrf_value = csrf.split_once('=').unwrap().1.to_owned();

    let form_type = ("content-type", "application/x-www-form-urlencoded");
    let body = serde_urlencoded::to_string([
        ("csrf_token", csrf_value.as_str()),
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

    let body =
        serde_urlencoded::to_string([("csrf_token", csrf_value.as_str()), ("last_name", "Tcp")]).unwrap();
    let url = format!("{base}/cases/{case}/contacts");
    let created = http.send(Method::POST, &url, &[form_type, ("cookie", &cookies)], &body).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.headers[header::LOCATION].to_str().unwrap().to_owned();
    let flash = cookie_pair(&created, "renraku_flash");
    let shown = http.get(&format!("{base}{location}"), &[("cookie", &format!("{cookies}; {flash}"))]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Contact created successfully.") && shown.body.contains("Tcp"));

    let body = serde_urlencoded::to_string([("csrf_token", csrf_value.as_str())]).unwrap();
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
