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
//! axum::serve(listener, app(state)).await
//! # }
//! ```
//!
//! See the README of `examples/web-server` for the routes and the configuration.

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use renraku_core::ContactRepository;
use renraku_memory::MemoryContactRepository;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

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
mod pages;
pub mod telemetry;
mod views;

pub use auth::{Auth, AuthFailure, DEV_ACTOR, JwtVerifier, Verified};
pub use config::Config;

/// The largest request body accepted; a larger one answers 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a request may take before it answers 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The Content-Security-Policy of every response: no scripts at all, styles and images only
/// from this server, forms only to this server, and no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every handler shares: the store and how requests are authenticated.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<dyn ContactRepository>,
    auth: Arc<Auth>,
    secure_cookies: bool,
}

impl AppState {
    /// A state over `store` that authenticates with `auth`; cookies are not `Secure`.
    #[must_use]
    pub fn new(store: Arc<dyn ContactRepository>, auth: Auth) -> Self {
        Self { store, auth: Arc::new(auth), secure_cookies: false }
    }

    /// Marks the cookies `Secure`: right behind a TLS proxy, wrong on plain HTTP.
    #[must_use]
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &dyn ContactRepository {
        self.store.as_ref()
    }

    /// How requests are authenticated.
    #[must_use]
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }
}

/// Opens the store the configuration asks for: PostgreSQL with `DATABASE_URL`, else memory.
///
/// # Errors
/// If the database cannot be reached or migrated.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn ContactRepository>> {
    let rules = config.rules();
    match &config.database_url {
        None => Ok(Arc::new(MemoryContactRepository::with_rules(rules))),
        Some(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .context("cannot connect to DATABASE_URL")?;
            let repo = renraku_postgres::PgContactRepository::builder(pool)
                .rules(rules)
                .statement_timeout(Duration::from_secs(5))
                .build()?;
            repo.migrate().await.context("renraku's migrations failed")?;
            Ok(Arc::new(repo))
        }
    }
}

/// JSON with `<`, `>` and `&` escaped as `\u003c`, `\u003e`, `\u0026`: the same JSON to a
/// parser, but no markup even if a careless client renders it as HTML. (Those characters
/// only ever occur inside JSON strings, where the escapes mean the same.)
///
/// # Errors
/// `500 Internal Server Error` if the value cannot be serialized (logged).
pub(crate) fn html_safe_json(value: &impl serde::Serialize) -> Result<Vec<u8>, StatusCode> {
    let json = serde_json::to_string(value).map_err(|err| {
        tracing::error!(error = %err, "a response body could not be serialized");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    let mut safe = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            c => safe.push(c),
        }
    }
    Ok(safe.into_bytes())
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
/// ids, one log line per request, security headers, timeout, body limit).
pub fn app(state: AppState) -> Router {
    let pages = pages::router()
        .layer(from_fn_with_state(state.clone(), flash::take))
        .layer(from_fn_with_state(state.clone(), csrf::ensure_token));
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(pages)
        .merge(api::router())
        .route("/style.css", get(stylesheet))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(from_fn_with_state(state.clone(), error::render))
        .with_state(state)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Pages show personal data: no cache may keep them.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_request(())
                .on_response(telemetry::on_response)
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(from_fn(telemetry::drop_odd_request_id))
}

/// The route template of a request (`/cases/{case_id}`), never its URI: ids and the query
/// stay out of the logs.
fn route_of(request: &Request) -> &str {
    request.extensions().get::<MatchedPath>().map_or("<unmatched>", MatchedPath::as_str)
}

/// The request id given by the request-id layer.
fn request_id_of(request: &Request) -> &str {
    request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-")
}
