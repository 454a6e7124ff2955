//! Logs: one line per request with method, route template, status, latency and request id.
//!
//! Only those fields are recorded: never the URI (its query), headers, bodies, or anything
//! a user typed, so names, phone numbers, emails, addresses and tokens stay out of the logs.
//!
//! The server writes its lines to standard output in batches (see [`init`]): each line
//! reaches it within [`FLUSH_INTERVAL`], and every line by the time `main` returns.

use std::io::{BufWriter, Stdout};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use tracing::Span;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{Layer, Registry};

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// The header of the request id, taken from a proxy or made here, and sent back.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of a request: its incoming `x-request-id` (a proxy's, for correlation) if it looks
/// like an id (up to 64 letters, digits, `-`, `_`, `.`), else a fresh UUID, so a client
/// cannot write arbitrary text into the logs. The request carries it on.
pub(crate) fn request_id(request: &mut Request) -> HeaderValue {
    let is_id = |v: &[u8]| {
        !v.is_empty() && v.len() <= 64 && v.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
    };
    match request.headers().get(&REQUEST_ID) {
        Some(id) if is_id(id.as_bytes()) => id.clone(),
        _ => {
            let mut text = uuid::Uuid::encode_buffer();
            let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            let id = HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"));
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    }
}

/// The span of a request: method, route template (never the URI, so ids and the query stay
/// out) and request id.
pub(crate) fn request_span(method: &Method, route: &str, request_id: &HeaderValue) -> Span {
    tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %request_id.to_str().unwrap_or("-"),
    )
}

/// The one log line of a request, in its span (its parent, without entering it).
pub(crate) fn finished(span: &Span, status: StatusCode, latency: Duration) {
    tracing::info!(parent: span, status = status.as_u16(), latency_ms = latency.as_millis() as u64, "finished");
}

/// The subscriber of the server, writing to `writer`, filtered by `filter` (the syntax of
/// `RUST_LOG`). The tests capture the server's logs with it.
///
/// A filter of levels and targets only (`info`, `warn,renraku_web=debug`) is a
/// [`Targets`]; one with span or field directives (`[request]=debug`) an [`EnvFilter`],
/// which is read by the same rules but checks a shared table at every entry to a span:
/// about 6 times per JSON get on PostgreSQL, where sqlx enters the request's span at each
/// poll of a row stream (BENCHMARKS.md, issue 16).
pub fn subscriber<W>(writer: W, filter: &str) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Targets would take `[span]` for a target's name: any `[` goes to EnvFilter.
    let targets = if filter.contains('[') { None } else { filter.parse::<Targets>().ok() };
    let filter: Box<dyn Layer<Registry> + Send + Sync> = match targets {
        Some(targets) => Box::new(targets),
        None => Box::new(EnvFilter::new(filter)),
    };
    let format = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_target(false);
    tracing_subscriber::registry().with(filter).with(format)
}

/// How long a log line of the server waits in its buffer at most.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// How much of the log the buffer holds before it is written out at once.
const BUFFER: usize = 64 * 1024;

/// Installs the server's subscriber on standard output, filtered by `RUST_LOG` (default
/// `info`). Keep the guard it returns until `main` returns: dropping it writes out the
/// lines still buffered.
///
/// The lines are buffered rather than written one by one: each costs the request that logs
/// it a lock and a copy instead of a `write` to standard output, which took 5–9 µs of the
/// server's ~95 µs per request at 10,000 requests a second (BENCHMARKS.md). The buffer is
/// written when it is full, by a thread of its own every [`FLUSH_INTERVAL`], and when the
/// guard drops. (tracing-appender's non-blocking writer hands every line to a thread of its
/// own instead, which writes each; tried, that thread competed with the server on two
/// cores.) If the process is killed, the lines of the last [`FLUSH_INTERVAL`] are lost.
pub fn init() -> FlushOnDrop {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_owned());
    let output = Arc::new(Mutex::new(BufWriter::with_capacity(BUFFER, std::io::stdout())));
    let flusher = output.clone();
    let flushing = std::thread::Builder::new().name("log-flush".into()).spawn(move || {
        loop {
            std::thread::sleep(FLUSH_INTERVAL);
            flush(&flusher);
        }
    });
    if flushing.is_err() {
        // No thread, no buffering: every line at once, as a plain subscriber writes it.
        let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, &filter));
        return FlushOnDrop(None);
    }
    // A second call (only in tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(Shared(output.clone()), &filter));
    FlushOnDrop(Some(output))
}

/// A writer shared with others as the subscriber's writer (the buffer of [`init`]): each
/// line is written under its lock.
struct Shared<W>(Arc<Mutex<W>>);

impl<'a, W: std::io::Write + 'a> MakeWriter<'a> for Shared<W> {
    type Writer = <Mutex<W> as MakeWriter<'a>>::Writer;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }
}

/// Writes out the buffered log lines when dropped: see [`init`].
#[must_use = "dropped at once, it flushes at once; keep it until main returns"]
#[derive(Debug)]
pub struct FlushOnDrop(Option<Arc<Mutex<BufWriter<Stdout>>>>);

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        if let Some(output) = &self.0 {
            flush(output);
        }
    }
}

/// Writes out the buffer (a failed write is dropped, as the subscriber drops it).
fn flush(output: &Mutex<BufWriter<Stdout>>) {
    use std::io::Write as _;
    let _ = output.lock().unwrap_or_else(PoisonError::into_inner).flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines `filter` lets through of an event inside a `request` span and one outside.
    fn logged(filter: &str) -> String {
        let output = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(subscriber(Shared(output.clone()), filter), || {
            tracing::info_span!("request").in_scope(|| tracing::info!("inside"));
            tracing::info!("outside");
        });
        let bytes = output.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn filters_of_levels_and_of_spans_both_apply() {
        // A span directive, which only EnvFilter reads: inside the span only.
        let in_span = logged("warn,[request]=info");
        assert!(in_span.contains("inside") && !in_span.contains("outside"), "{in_span}");
        // Levels and targets only: the Targets filter.
        let all = logged("info");
        assert!(all.contains("inside") && all.contains("outside"), "{all}");
        assert_eq!(logged("warn"), "");
    }
}
