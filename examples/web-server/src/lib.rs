//! `renraku-web`: an axum web server for renraku's contact data, as a host application
//! would embed renraku. It serves HTML pages without JavaScript and a JSON API.
//!
//! The library builds the whole application, so that the binary only reads its
//! configuration and serves, and the tests drive the very same router:
//!
//! ```no_run
//! use std::sync::Arc;
//! use renraku_core::{ContactRepository, Rules};
//! use renraku_memory::MemoryContactRepository;
//! use renraku_web::{AppState, Auth, app};
//!
//! # async fn run() -> std::io::Result<()> {
//! let store: Arc<dyn ContactRepository> = Arc::new(MemoryContactRepository::with_rules(Rules::default()));
//! let state = AppState::new(store, Auth::Disabled { verifier: None });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! let limits = renraku_web::serve::Limits::default();
//! let stats = Some(state.metrics().connections());
//! renraku_web::serve::serve(listener, app(state), limits, stats, std::future::pending()).await
//! # }
//! ```
//!
//! See the README of `examples/web-server` for the routes and the configuration.

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use renraku_core::ContactRepository;
use renraku_memory::MemoryContactRepository;
use tower_http::catch_panic::CatchPanicLayer;

mod access;
mod api;
mod auth;
mod config;
mod cookies;
mod csrf;
mod error;
mod extract;
mod flash;
mod forms;
#[doc(hidden)]
pub mod fuzzing;
pub mod metrics;
mod middleware;
mod pages;
mod person;
pub mod retention;
pub mod serve;
pub mod telemetry;
mod transfer;
mod views;

pub use access::{DEFAULT_ROLES, RoleList};
pub use auth::{Auth, AuthFailure, DEV_ACTOR, JwtVerifier, Verified};
pub use config::Config;
pub use metrics::Metrics;

/// The largest request body accepted; a larger one answers 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The Content-Security-Policy of every response: no scripts at all, styles and images only
/// from this server, forms only to this server, and no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How long the readiness probe waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What every handler shares: the store, how requests are authenticated, the key of the
/// CSRF tokens and the metrics.
///
/// Cloning it is one reference count: every request clones it a few times (each extractor
/// and middleware that takes the state).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The fields of [`AppState`], behind its one `Arc`.
#[derive(Debug, Clone)]
struct Shared {
    store: Arc<dyn ContactRepository>,
    auth: Arc<Auth>,
    secure_cookies: bool,
    time_zone: chrono_tz::Tz,
    database: Option<sqlx::PgPool>,
    csrf: Arc<csrf::Key>,
    metrics: Arc<Metrics>,
    default_roles: renraku_core::access::Roles,
}

impl AppState {
    /// A state over `store` that authenticates with `auth`; cookies are not `Secure`. The
    /// CSRF key is new and random: tokens of another process (or state) do not pass.
    #[must_use]
    pub fn new(store: Arc<dyn ContactRepository>, auth: Auth) -> Self {
        Self(Arc::new(Shared {
            store,
            auth: Arc::new(auth),
            secure_cookies: false,
            database: None,
            csrf: Arc::new(csrf::Key::generate()),
            metrics: Arc::default(),
            time_zone: chrono_tz::UTC,
            default_roles: RoleList::default().0,
        }))
    }

    /// The roles of a token without a `roles` claim (and of every request with
    /// authentication disabled); [`DEFAULT_ROLES`] unless set.
    #[must_use]
    pub fn with_default_roles(mut self, roles: renraku_core::access::Roles) -> Self {
        Arc::make_mut(&mut self.0).default_roles = roles;
        self
    }

    /// The pool of the store's PostgreSQL database: the readiness route probes it and the
    /// metrics show its use. Without one, the store is always ready (memory).
    #[must_use]
    pub fn with_database(mut self, pool: sqlx::PgPool) -> Self {
        Arc::make_mut(&mut self.0).database = Some(pool);
        self
    }

    /// Marks the cookies `Secure`: right behind a TLS proxy, wrong on plain HTTP.
    #[must_use]
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        Arc::make_mut(&mut self.0).secure_cookies = secure;
        self
    }

    /// Shows the times on the pages in `time_zone` (UTC unless set).
    #[must_use]
    pub fn with_time_zone(mut self, time_zone: chrono_tz::Tz) -> Self {
        Arc::make_mut(&mut self.0).time_zone = time_zone;
        self
    }

    /// The time zone of the times on the pages.
    #[must_use]
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.0.time_zone
    }

    /// The store, without the policy of any request: the handlers never use it, but the
    /// store each request's user may use (see `access.rs`).
    #[must_use]
    pub fn store(&self) -> &dyn ContactRepository {
        self.0.store.as_ref()
    }

    /// How requests are authenticated.
    #[must_use]
    pub fn auth(&self) -> &Auth {
        &self.0.auth
    }

    /// The metrics of the requests served with this state.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Whether the store can serve requests now: the database answers a trivial query
    /// within 2 s (always, without a database).
    pub async fn ready(&self) -> bool {
        let Some(pool) = &self.0.database else { return true };
        match tokio::time::timeout(READY_TIMEOUT, sqlx::query("SELECT 1").execute(pool)).await {
            Ok(Ok(_)) => true,
            Ok(Err(err)) => {
                // Debug: probes repeat every few seconds while the database is down.
                tracing::debug!(error = %err, "not ready: the database failed the probe");
                false
            }
            Err(_) => {
                tracing::debug!("not ready: the database did not answer the probe in time");
                false
            }
        }
    }

    /// The store that each request wraps in its policy.
    pub(crate) fn shared_store(&self) -> &Arc<dyn ContactRepository> {
        &self.0.store
    }

    pub(crate) fn default_roles(&self) -> renraku_core::access::Roles {
        self.0.default_roles
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.0.secure_cookies
    }

    pub(crate) fn database(&self) -> Option<&sqlx::PgPool> {
        self.0.database.as_ref()
    }

    pub(crate) fn csrf_key(&self) -> &csrf::Key {
        &self.0.csrf
    }
}

/// The store the configuration asks for, and its database pool if it has one.
#[derive(Debug, Clone)]
pub struct Store {
    /// The repository.
    pub repository: Arc<dyn ContactRepository>,
    /// The PostgreSQL pool under it; `None` for the memory store.
    pub pool: Option<sqlx::PgPool>,
}

/// Opens the store the configuration asks for: PostgreSQL with `DATABASE_URL`, else memory.
///
/// # Errors
/// If the database cannot be reached or migrated.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let rules = config.rules();
    match &config.database_url {
        None => {
            let repository = MemoryContactRepository::with_rules(rules).with_read_audit(config.read_audit);
            Ok(Store { repository: Arc::new(repository), pool: None })
        }
        Some(url) => {
            // renraku's options: no ping for a connection used within the last half second.
            let pool = renraku_postgres::pool_options()
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .context("cannot connect to DATABASE_URL")?;
            let repo = renraku_postgres::PgContactRepository::builder(pool.clone())
                .rules(rules)
                .statement_timeout(Duration::from_secs(5))
                .read_audit(config.read_audit)
                .build()?;
            repo.migrate().await.context("renraku's migrations failed")?;
            Ok(Store { repository: Arc::new(repo), pool: Some(pool) })
        }
    }
}

/// JSON with `<`, `>` and `&` escaped as `\u003c`, `\u003e`, `\u0026`: the same JSON to a
/// parser, but no markup even if a careless client renders it as HTML.
///
/// # Errors
/// `500 Internal Server Error` if the value cannot be serialized (logged).
pub(crate) fn html_safe_json(value: &impl serde::Serialize) -> Result<Vec<u8>, StatusCode> {
    let mut json = Vec::with_capacity(512);
    serde_json::to_writer(&mut json, value).map_err(|err| {
        tracing::error!(error = %err, "a response body could not be serialized");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    Ok(escape_markup(json))
}

/// Escapes `<`, `>` and `&` in serialized JSON. Those characters only ever occur inside JSON
/// strings, where the escapes mean the same, so the whole output can be searched at once.
///
/// One search of the output (memchr, vectorized) instead of escaping each string as it is
/// written (a `serde_json` formatter): a contact's fields rarely hold any of the three, and
/// a formatter's check of each short string cost more than serde_json's whole escaping
/// (BENCHMARKS.md, issue 16).
fn escape_markup(json: Vec<u8>) -> Vec<u8> {
    let mut found = memchr::memchr3_iter(b'<', b'>', b'&', &json).peekable();
    if found.peek().is_none() {
        return json;
    }
    let mut escaped = Vec::with_capacity(json.len() + 64);
    let mut start = 0;
    for at in found {
        escaped.extend_from_slice(&json[start..at]);
        escaped.extend_from_slice(match json[at] {
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            _ => b"\\u0026",
        });
        start = at + 1;
    }
    escaped.extend_from_slice(&json[start..]);
    escaped
}

/// The stylesheet, compiled into the binary.
async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/style.css"),
    )
        .into_response()
}

/// Unknown paths: a problem document under `/api`, a page elsewhere.
async fn fallback(request: Request) -> error::HttpError {
    if error::is_api(request.uri().path()) {
        error::HttpError::new(StatusCode::NOT_FOUND, "There is no such API endpoint.")
    } else {
        error::HttpError::new(StatusCode::NOT_FOUND, "There is no such page.").with_link("/", "Home")
    }
}

/// A panic answers 500 instead of dropping the connection; the panic message is not sent.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

/// The whole application: pages, API, stylesheet, and the layers around them (request
/// ids, one log line per request, metrics, security headers, timeout, body limit).
pub fn app(state: AppState) -> Router {
    let pages = pages::router()
        .merge(transfer::router())
        .merge(person::router())
        .layer(from_fn_with_state(state.clone(), middleware::around_each_page));
    Router::new()
        .merge(pages)
        .merge(api::router())
        .route("/style.css", get(stylesheet))
        .fallback(fallback)
        // One `layer` call: axum boxes each layer's service, and each box is cloned per
        // request. Outermost first; on the routes (not around the router) so that the
        // middleware sees the matched route.
        .layer(
            tower::ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), middleware::around_each_request))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_safe_json_is_the_same_json_without_markup_characters() {
        let ascii: Vec<char> = (0u8..0x80).map(char::from).collect();
        let others = ['é', 'ß', '\u{2028}', '\u{FEFF}', '日', '😀'];
        let mut samples: Vec<String> = vec![String::new(), "<script>alert('&amp;')</script>".into()];
        for &a in ascii.iter().chain(&others) {
            for &b in ['<', '>', '&', '"', '\\', 'x'].iter().chain(&others) {
                samples.push(format!("{a}{b}{a}"));
            }
        }
        let value = serde_json::json!({ "values": samples, "<key&>": [1, 2.5, null, true] });
        let json = html_safe_json(&value).unwrap();
        assert!(!json.iter().any(|b| b"<>&".contains(b)), "{}", String::from_utf8_lossy(&json));
        let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed, value);
    }
}
