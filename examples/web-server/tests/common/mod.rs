//! What the test binaries share: test keys and tokens, the store under test, and a small
//! cookie-keeping client that drives the router in process.
#![allow(dead_code, unreachable_pub)] // every test binary uses a different part

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum_extra::extract::cookie::Cookie;
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use renraku_core::{ContactId, ContactRepository, Rules};
use renraku_memory::MemoryContactRepository;
use renraku_web::{AppState, Auth, JwtVerifier};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The issuer the server expects by default.
pub const ISSUER: &str = "parc-cli";
/// TEST-ONLY keys (see tests/fixtures/README.md).
pub const PUBLIC_KEY: &[u8] = include_bytes!("../fixtures/test-public.pem");
pub const PRIVATE_KEY: &[u8] = include_bytes!("../fixtures/test-private.pem");
pub const OTHER_PRIVATE_KEY: &[u8] = include_bytes!("../fixtures/other-private.pem");
/// The user of [`token`].
pub const USER: &str = "clerk-7";

/// Where a test keeps its contacts: memory, unless [`on_every_store!`] runs it on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `MemoryContactRepository`.
    Memory,
    /// `PgContactRepository` in a fresh schema on the test server (`DATABASE_URL`, or a
    /// throwaway cluster: see `renraku_postgres::testkit`).
    Postgres,
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An RS256 token with `claims`, signed with the PEM private key `key`.
pub fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &EncodingKey::from_rsa_pem(key).unwrap())
        .unwrap()
}

/// Claims the server accepts, for `sub.id` = `id`, valid for an hour.
pub fn claims(id: Value) -> Value {
    json!({ "sub": { "id": id, "name": "Clerk Seven" }, "iss": ISSUER, "exp": now() + 3600 })
}

/// A valid token for [`USER`].
pub fn token() -> String {
    sign(&claims(json!(USER)), PRIVATE_KEY)
}

tokio::task_local! {
    /// The store of the test that runs in this task.
    pub static STORE: Store;
}

/// Generates, for each named `async fn()` test of the module, a module of that name with
/// the test on the memory store (`memory`) and on PostgreSQL (`postgres`).
#[macro_export]
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn memory() {
                $crate::common::STORE.scope($crate::common::Store::Memory, super::$test()).await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::common::STORE.scope($crate::common::Store::Postgres, super::$test()).await;
            }
        }
    )*};
}

/// The store the tests run on: the task's [`STORE`], memory outside [`on_every_store!`].
pub async fn store_under_test() -> Arc<dyn ContactRepository> {
    let rules = Rules::default().with_default_region("DE".parse().unwrap());
    match STORE.try_with(|store| *store).unwrap_or(Store::Memory) {
        Store::Memory => Arc::new(MemoryContactRepository::with_rules(rules)),
        Store::Postgres => Arc::new(renraku_postgres::testkit::fresh_repository(rules).await),
    }
}

/// [`store_under_test`] with the backend's read audit on: reads are recorded too.
pub async fn store_with_read_audit() -> Arc<dyn ContactRepository> {
    let rules = Rules::default().with_default_region("DE".parse().unwrap());
    match STORE.try_with(|store| *store).unwrap_or(Store::Memory) {
        Store::Memory => Arc::new(MemoryContactRepository::with_rules(rules).with_read_audit(true)),
        Store::Postgres => {
            Arc::new(renraku_postgres::testkit::fresh_repository_with(rules, |b| b.read_audit(true)).await)
        }
    }
}

/// The app every HTTP test drives: the real router on [`store_under_test`], with JWT
/// authentication by the test key, and a client that sends a valid bearer token.
pub async fn app_under_test() -> TestApp {
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    TestApp::new(AppState::new(store_under_test().await, Auth::Jwt(verifier))).with_bearer(token())
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_else(|| panic!("no Location in {self:#?}"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }

    /// The `Set-Cookie` of one cookie.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().into_iter().find(|c| c.starts_with(&format!("{name}=")))
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> Value {
        self.assert_status(status);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{self:#?}");
        let problem = self.json();
        assert_eq!(problem["status"], status, "{problem}");
        assert_eq!(problem["type"], "about:blank");
        assert!(problem["title"].is_string() && problem["detail"].is_string(), "{problem}");
        problem
    }

    #[track_caller]
    pub fn assert_page(&self, status: u16) -> &str {
        self.assert_status(status);
        assert_eq!(self.header("content-type"), Some("text/html; charset=utf-8"), "{self:#?}");
        &self.body
    }
}

/// Drives the router like a browser would: keeps cookies, sends the CSRF token with forms,
/// and (unless told otherwise) a bearer token.
pub struct TestApp {
    pub state: AppState,
    router: Router,
    bearer: Option<String>,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl TestApp {
    pub fn new(state: AppState) -> Self {
        Self { router: renraku_web::app(state.clone()), state, bearer: None, cookies: Mutex::default() }
    }

    pub fn with_bearer(mut self, token: String) -> Self {
        self.bearer = Some(token);
        self
    }

    pub fn without_bearer(mut self) -> Self {
        self.bearer = None;
        self
    }

    /// A case id no other test uses (the PostgreSQL database is shared).
    pub fn new_case(&self) -> String {
        format!("t-{}", ContactId::new())
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }

    pub fn clear_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    /// Sends a request exactly as given (with `Host: localhost` if it names no host, as
    /// every HTTP/1.1 client does); checks what every response must satisfy.
    pub async fn raw(&self, mut request: Request<Body>) -> TestResponse {
        if !request.headers().contains_key(header::HOST) {
            request.headers_mut().insert(header::HOST, header::HeaderValue::from_static("localhost"));
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let response = TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        };
        check_every_response(&response);
        response
    }

    /// Sends a request with the client's cookies and bearer token, and keeps the cookies
    /// of the response.
    pub async fn send(&self, mut builder: axum::http::request::Builder, body: Body) -> TestResponse {
        let cookies =
            self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        if !cookies.is_empty() {
            builder = builder.header(header::COOKIE, cookies.join("; "));
        }
        if let Some(token) = &self.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = self.raw(builder.body(body).unwrap()).await;
        let mut jar = self.cookies.lock().unwrap();
        for set in response.set_cookies() {
            let cookie = Cookie::parse(set).unwrap();
            let removed = cookie.max_age().is_some_and(|age| age.is_zero() || age.is_negative())
                || cookie.value().is_empty();
            if removed {
                jar.remove(cookie.name());
            } else {
                jar.insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        response
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path), Body::empty()).await
    }

    /// The form token for the client's cookies as they are now, read from a form as a
    /// browser would (the sign-in form is on every server). It sets the CSRF cookie if the
    /// client has none yet.
    pub async fn csrf(&self) -> String {
        let page = self.get("/session").await;
        form_token(page.assert_page(200))
    }

    /// Posts a form as a browser would, with the CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf().await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let builder = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(builder, Body::from(body)).await
    }

    /// A JSON API request with the client's bearer token (no cookies).
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        self.api_with(method, path, body, &[]).await
    }

    /// An API request with extra headers; an `authorization` among them replaces the
    /// client's bearer token.
    pub async fn api_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        let custom_auth = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if let Some(token) = self.bearer.as_ref().filter(|_| !custom_auth) {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.raw(builder.body(body).unwrap()).await
    }

    /// Creates a contact through the API and returns it.
    pub async fn create(&self, case: &str, contact: Value) -> Value {
        let response = self.api(Method::POST, &format!("/api/cases/{case}/contacts"), Some(contact)).await;
        response.assert_status(201);
        response.json()
    }
}

/// The CSRF form token of the first form of `page`.
pub fn form_token(page: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = page.find(marker).unwrap_or_else(|| panic!("no CSRF token in:\n{page}")) + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// What every response of the server must satisfy, checked on every response of every
/// test: the security headers, and no script anywhere.
#[track_caller]
pub fn check_every_response(response: &TestResponse) {
    let csp = response.header("content-security-policy").expect("a Content-Security-Policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert!(response.header("referrer-policy").is_some());
    assert!(response.header("x-request-id").is_some());
    assert!(!response.body.to_ascii_lowercase().contains("<script"), "a script in:\n{}", response.body);
}

/// A contact with every field, all valid.
pub fn full_contact() -> Value {
    json!({
        "title": "Frau",
        "first_name": "Zoë",
        "last_name": "Nguyễn",
        "phone": "030 1234567",
        "email": "zoe@example.org",
        "address": "Hauptstraße 1, 10115 Berlin",
        "relationship": "household",
    })
}

/// An app on a PostgreSQL store whose server is down: nothing listens on its port.
pub fn app_with_store_down() -> TestApp {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy(&format!("postgres://renraku@127.0.0.1:{closed}/renraku"))
        .unwrap();
    let rules = Rules::default().with_default_region("DE".parse().unwrap());
    let store = renraku_postgres::PgContactRepository::builder(pool).rules(rules).build().unwrap();
    let verifier = JwtVerifier::from_rsa_pem(PUBLIC_KEY, ISSUER).unwrap();
    TestApp::new(AppState::new(Arc::new(store), Auth::Jwt(verifier))).with_bearer(token())
}
