//! Logs: one line per request with method, route template, status, latency and request id.
//!
//! Only those fields are recorded: never the URI (its query), headers, bodies, or anything
//! a user typed, so names, phone numbers, emails, addresses and tokens stay out of the logs.

use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use tracing::Span;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// Keeps an incoming `x-request-id` (a proxy's, for correlation) only if it looks like an
/// id: up to 64 letters, digits, `-`, `_`, `.`. Anything else is replaced by a fresh one, so
/// a client cannot write arbitrary text into the logs.
pub(crate) async fn drop_odd_request_id(mut request: Request, next: axum::middleware::Next) -> Response {
    let is_id = |v: &[u8]| {
        !v.is_empty() && v.len() <= 64 && v.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
    };
    if request.headers().get("x-request-id").is_some_and(|v| !is_id(v.as_bytes())) {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

pub(crate) fn request_span(request: &Request) -> Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %crate::route_of(request),
        request_id = %crate::request_id_of(request),
    )
}

pub(crate) fn on_response(response: &Response, latency: Duration, _span: &Span) {
    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "finished");
}

/// The subscriber of the server, writing to `writer`, filtered by `filter` (the syntax of
/// `RUST_LOG`). The tests capture the server's logs with it.
pub fn subscriber<W>(writer: W, filter: &str, ansi: bool) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(false)
        .finish()
}

/// Installs the server's subscriber on standard output, filtered by `RUST_LOG` (default
/// `info`).
pub fn init() {
    use std::io::IsTerminal as _;
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_owned());
    let ansi = std::io::stdout().is_terminal();
    // A second call (only in tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, &filter, ansi));
}
