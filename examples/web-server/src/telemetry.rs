//! Logs: one line per request with method, route template, status, latency and request id.
//!
//! Only those fields are recorded: never the URI (its query), headers, bodies, or anything
//! a user typed, so names, phone numbers, emails, addresses and tokens stay out of the logs.
//!
//! The server writes its lines to standard output in batches (see [`init`]): each line
//! reaches it within [`FLUSH_INTERVAL`], and every line by the time `main` returns.

use std::cell::Cell;
use std::fmt;
use std::io::{BufWriter, Stdout};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use tracing::{Event, Level};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::{LookupSpan, Scope};
use tracing_subscriber::{Layer, Registry};

use crate::metrics::Route;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// The header of the request id, taken from a proxy or made here, and sent back.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of a request: its incoming `x-request-id` (a proxy's, for correlation) if it looks
/// like an id (up to 64 letters, digits, `-`, `_`, `.`), else a fresh UUID, so a client
/// cannot write arbitrary text into the logs.
pub(crate) fn request_id(request: &Request) -> HeaderValue {
    let is_id = |v: &[u8]| {
        !v.is_empty() && v.len() <= 64 && v.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
    };
    match request.headers().get(&REQUEST_ID) {
        Some(id) if is_id(id.as_bytes()) => id.clone(),
        _ => {
            let mut text = uuid::Uuid::encode_buffer();
            let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
        }
    }
}

/// What the log lines written while serving a request say about it: method, route template
/// (never the URI, so ids and the query stay out) and request id.
#[derive(Debug)]
pub(crate) struct RequestContext {
    method: Method,
    route: Route,
    id: HeaderValue,
}

impl RequestContext {
    pub(crate) fn new(method: Method, route: Route, id: HeaderValue) -> Self {
        Self { method, route, id }
    }

    /// `request{method=GET route=/api/heartbeat request_id=…}:`, as tracing-subscriber
    /// writes a span of that name with those fields.
    fn write(&self, writer: &mut Writer<'_>) -> fmt::Result {
        writer.write_str("request{method=")?;
        writer.write_str(self.method.as_str())?;
        writer.write_str(" route=")?;
        writer.write_str(self.route.as_str())?;
        writer.write_str(" request_id=")?;
        // Only letters, digits, `-`, `_` and `.` (see `request_id`): nothing to escape.
        writer.write_str(self.id.to_str().unwrap_or("-"))?;
        writer.write_str("}:")
    }
}

tokio::task_local! {
    /// The request the current task is serving, while [`serving`] runs it.
    static REQUEST: RequestContext;
}

/// Runs `future`, the serving of one request, with `context` in every log line written
/// while it runs, where a `request` span with those fields would be.
///
/// A task-local rather than a span: a span costs its creation (its fields formatted into
/// a `String`), an entry and exit in the registry at every poll (sqlx enters the current
/// span at each poll of a row stream) and its closing: 7,800 of the 148,000 instructions
/// of a JSON get. The task-local costs a copy per poll, and its fields are written only
/// into lines that are written (BENCHMARKS.md, issue 16).
pub(crate) async fn serving<F: Future>(context: RequestContext, future: F) -> F::Output {
    REQUEST.scope(context, future).await
}

/// The one log line of a request, written inside [`serving`], which adds its fields.
pub(crate) fn finished(status: StatusCode, latency: Duration) {
    tracing::info!(status = status.as_u16(), latency_ms = latency.as_millis() as u64, "finished");
}

/// The server's log line: tracing-subscriber's full format (time, level, spans, fields)
/// without colours or targets, with the fields of the request being served (see
/// [`serving`]) in front of the spans.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if write_time(&mut writer, std::time::SystemTime::now()).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str(match *event.metadata().level() {
            Level::ERROR => " ERROR ",
            Level::WARN => "  WARN ",
            Level::INFO => "  INFO ",
            Level::DEBUG => " DEBUG ",
            Level::TRACE => " TRACE ",
        })?;
        let mut prefixed = match REQUEST.try_with(|request| request.write(&mut writer)) {
            Ok(written) => {
                written?;
                true
            }
            // Not serving a request.
            Err(_) => false,
        };
        for span in ctx.event_scope().into_iter().flat_map(Scope::from_root) {
            writer.write_str(span.metadata().name())?;
            if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                && !fields.is_empty()
            {
                write!(writer, "{{{fields}}}")?;
            }
            writer.write_char(':')?;
            prefixed = true;
        }
        if prefixed {
            writer.write_char(' ')?;
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Writes `now` as tracing-subscriber's `SystemTime` does: `2026-11-28T23:42:54.898858Z`.
///
/// The date and time of day are formatted once per second and thread, not for every line:
/// tracing-subscriber's formatting of the whole time took 2,300 instructions, a sixth of a
/// request's log line (BENCHMARKS.md, issue 16).
fn write_time(writer: &mut impl fmt::Write, now: std::time::SystemTime) -> fmt::Result {
    thread_local! {
        /// A second since the epoch and its `2026-11-28T23:42:54.` (that second's text).
        static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
    }
    let since_epoch = now.duration_since(std::time::UNIX_EPOCH).map_err(|_| fmt::Error)?;
    let second = since_epoch.as_secs();
    let mut text = SECOND.get();
    if text.0 != second {
        text = (second, date_and_time(second)?);
        SECOND.set(text);
    }
    let mut fraction = *b"000000Z";
    let mut micros = since_epoch.subsec_micros();
    for digit in fraction[..6].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    writer.write_str(std::str::from_utf8(&text.1).map_err(|_| fmt::Error)?)?;
    writer.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
}

/// `2026-11-28T23:42:54.`: the date and time of day of `second` (since the epoch), UTC;
/// an error after the year 9999.
fn date_and_time(second: u64) -> Result<[u8; 20], fmt::Error> {
    let time = i64::try_from(second)
        .ok()
        .and_then(|second| time::OffsetDateTime::from_unix_timestamp(second).ok())
        .filter(|time| time.year() <= 9999)
        .ok_or(fmt::Error)?;
    let mut text = [0; 20];
    let mut cursor = std::io::Cursor::new(&mut text[..]);
    std::io::Write::write_fmt(
        &mut cursor,
        format_args!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.",
            time.year(),
            u8::from(time.month()),
            time.day(),
            time.hour(),
            time.minute(),
            time.second()
        ),
    )
    .map_err(|_| fmt::Error)?;
    Ok(text)
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
    let format = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).event_format(Line);
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
    use std::time::UNIX_EPOCH;

    use axum::body::Body;
    use chrono::{DateTime, SecondsFormat, Utc};

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

    /// Seven events: every level, every kind of field, in spans and outside.
    fn events() {
        tracing::error!(error = %"disk full", "a handler failed");
        tracing::warn!(count = 3_u64, delta = -2_i64, ok = true, ratio = 0.5, "numbers");
        tracing::info!(name = "quoted \"text\"", debug = ?Some(1), "a message with \x1b[31m an escape");
        tracing::info!(r#type = "raw", "a raw identifier");
        tracing::debug_span!("outer", case = "c1").in_scope(|| {
            tracing::info_span!("inner").in_scope(|| tracing::debug!(version = 2_u64, "nested"));
            tracing::trace!("in the outer span only");
        });
        tracing::info!("no fields");
    }

    /// Each line of `output`, split into its time and the rest.
    fn lines(output: &Mutex<Vec<u8>>) -> Vec<(String, String)> {
        let text = String::from_utf8(output.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| line.split_once(' ').map(|(t, rest)| (t.to_owned(), rest.to_owned())).unwrap())
            .collect()
    }

    /// What `events` writes through the server's subscriber.
    fn ours(events: impl FnOnce()) -> Vec<(String, String)> {
        let output = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(subscriber(Shared(output.clone()), "trace"), events);
        lines(&output)
    }

    /// What `events` writes through tracing-subscriber's own full format without colours and
    /// targets: the reference.
    fn reference(events: impl FnOnce()) -> Vec<(String, String)> {
        let output = Arc::new(Mutex::new(Vec::new()));
        let reference = tracing_subscriber::fmt()
            .with_writer(Shared(output.clone()))
            .with_ansi(false)
            .with_target(false)
            .with_max_level(Level::TRACE)
            .finish();
        tracing::subscriber::with_default(reference, events);
        lines(&output)
    }

    fn rest(lines: &[(String, String)]) -> Vec<&str> {
        lines.iter().map(|(_, rest)| rest.as_str()).collect()
    }

    #[test]
    fn lines_are_written_as_tracing_subscriber_writes_them() {
        let ours = ours(events);
        assert_eq!(ours.len(), 7, "{ours:?}");
        assert_eq!(rest(&ours), rest(&reference(events)));
        for (time, _) in &ours {
            assert!(time.len() == 27 && DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
        }
    }

    #[tokio::test]
    async fn lines_while_serving_a_request_have_its_fields_where_a_request_span_would() {
        let output = Arc::new(Mutex::new(Vec::new()));
        let guard = tracing::subscriber::set_default(subscriber(Shared(output.clone()), "trace"));
        let route = Route::of(&Request::new(Body::empty()));
        let context = RequestContext::new(Method::POST, route, HeaderValue::from_static("proxy-4711"));
        serving(context, async { events() }).await;
        tracing::info!("after the request");
        drop(guard);
        let ours = lines(&output);
        let reference = reference(|| {
            tracing::info_span!("request", method = %Method::POST, route = %"<unmatched>", request_id = %"proxy-4711")
                .in_scope(events);
            tracing::info!("after the request");
        });
        assert_eq!(ours.len(), 8, "{ours:?}");
        assert_eq!(rest(&ours), rest(&reference));
        assert!(
            ours[0].1.contains("request{method=POST route=<unmatched> request_id=proxy-4711}: "),
            "{ours:?}"
        );
    }

    #[test]
    fn times_are_written_as_chrono_writes_rfc_3339_with_microseconds() {
        // The end of the year 9999, after which no time is written.
        let end = Duration::from_secs(253_402_300_800);
        let mut instants =
            vec![Duration::ZERO, Duration::from_secs(951_782_400), end - Duration::from_micros(1)];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..5_000 {
            // xorshift64: instants spread over ten millennia, the same in every run.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            instants.push(Duration::new(state % end.as_secs(), (state >> 34) as u32 % 1_000_000_000));
        }
        for instant in instants {
            // The same second again (from the thread's cache) and the next one.
            for at in [instant, instant + Duration::from_micros(1), instant + Duration::from_secs(1)] {
                let now = UNIX_EPOCH + at;
                let mut written = String::new();
                if at >= end {
                    assert!(write_time(&mut written, now).is_err());
                    continue;
                }
                write_time(&mut written, now).unwrap();
                assert_eq!(written, DateTime::<Utc>::from(now).to_rfc3339_opts(SecondsFormat::Micros, true));
            }
        }
        assert!(write_time(&mut String::new(), UNIX_EPOCH - Duration::from_secs(1)).is_err());
    }
}
