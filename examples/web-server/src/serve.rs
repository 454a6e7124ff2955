//! Serving over TCP with limits: how many connections may be open, how long a request's
//! head and body may take to arrive, and how long a connection may sit idle.
//!
//! axum's `serve` has none of these knobs, so the accept loop is written here with hyper's
//! HTTP/1 connection and hyper-util's graceful shutdown. hyper has a header-read timeout,
//! but its timer also runs while a keep-alive connection waits idle for the next request,
//! so it cannot tell a slow client from an idle one. The two are told apart the way Go's
//! `net/http` and nginx do: the clock of a request's head starts at its first byte (at
//! accept for a new connection), the idle clock when the previous response was written.
//! Both are kept by `Watched`, a wrapper of the socket that fails a read whose deadline
//! has passed, which makes hyper close the connection.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::{Layer as _, ServiceExt as _};
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::metrics::ConnectionStats;

/// The limits of [`serve`]; the defaults are the server's defaults (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How many connections may be open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// How long the head (request line and headers) of a request may take to arrive,
    /// from its first byte (from accept on a new connection).
    pub header_timeout: Duration,
    /// How long a connection may wait for its next request once a response is written.
    pub idle_timeout: Duration,
    /// How long the body of a request may take to arrive, in all; then the request
    /// answers 408.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// File descriptors kept free for everything but client connections: the listeners, the
/// database pool, logs.
const RESERVED_FILES: u64 = 64;

impl Limits {
    /// The limits with `max_connections` lowered, if need be, to stay below the process's
    /// open-file limit (`ulimit -n`), so that a flood of connections is refused by the cap
    /// instead of exhausting the descriptors that the listener and the database need.
    /// Returns the limits and, if lowered, the open-file limit.
    #[must_use]
    pub fn within_open_file_limit(self) -> (Self, Option<u64>) {
        // `current` is the soft limit, the one that makes accept fail; `None` is unlimited.
        match rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
            Some(files) => {
                let room = usize::try_from(files.saturating_sub(RESERVED_FILES).max(1)).unwrap_or(usize::MAX);
                if self.max_connections > room {
                    (Self { max_connections: room, ..self }, Some(files))
                } else {
                    (self, None)
                }
            }
            None => (self, None),
        }
    }
}

/// The answer to a connection beyond the cap: written without reading the request, then
/// the connection is closed. It carries the headers every response of the server has.
static REFUSED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\nretry-after: 1\r\n\
         content-security-policy: {}\r\nx-content-type-options: nosniff\r\nx-frame-options: DENY\r\n\
         referrer-policy: no-referrer\r\ncache-control: no-store\r\n\r\n",
        crate::CONTENT_SECURITY_POLICY
    )
    .into_bytes()
});

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then stops
/// accepting, lets the requests in flight finish, and returns.
///
/// Accept errors never end it: when the process runs out of file descriptors it logs
/// once, waits a moment and accepts again.
///
/// # Errors
/// None at present (accept errors are handled inside); the `Result` is that of
/// `axum::serve`, which this replaces.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stats: Option<ConnectionStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // Around the whole router, not each route (`Router::layer`): one service less to clone
    // per request.
    let service = RequestBodyDeadlineLayer::new(limits.body_timeout).layer(router);
    let mut out_of_files = false;
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                if out_of_files {
                    tracing::info!("accepting connections again");
                    out_of_files = false;
                }
                stream
            }
            Err(err) => {
                backoff(&err, &mut out_of_files).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            // Full: answer at once (a best-effort write that never waits), then close.
            let _ = stream.try_write(&REFUSED);
            if let Some(stats) = &stats {
                stats.refused();
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let phase = Arc::new(Mutex::new(Phase::Head(Instant::now())));
        let io = TokioIo::new(Watched::new(stream, phase.clone(), limits));
        let service = service.clone().map_request(move |request: Request<Incoming>| {
            // The head is in: from here the body deadline and the request timeout apply.
            *phase.lock().unwrap_or_else(PoisonError::into_inner) = Phase::Busy;
            request
        });
        let connection = hyper::server::conn::http1::Builder::new()
            // Off: `Watched` keeps the head and idle timeouts (see the module docs).
            .header_read_timeout(None)
            .serve_connection(io, TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        let stats = stats.clone();
        tokio::spawn(async move {
            let _open = stats.as_ref().map(ConnectionStats::opened);
            if let Err(err) = connection.await {
                // Timeouts, resets and malformed requests: the client's business.
                tracing::debug!(error = %err, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// What to do after a failed accept: a connection that failed before it was accepted is
/// skipped; running out of file descriptors (or memory) is logged once while it lasts,
/// and the loop waits a moment, since nothing can be accepted until something closes.
async fn backoff(err: &io::Error, out_of_files: &mut bool) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted) {
        return;
    }
    if !*out_of_files {
        tracing::warn!(
            error = %err,
            "cannot accept connections; retrying every 100 ms (lower RENRAKU_MAX_CONNECTIONS if this repeats)"
        );
        *out_of_files = true;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Where a connection is in its request cycle, and since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Reading a request's head, since its first byte (or since accept).
    Head(Instant),
    /// A request is being handled: its body and the request timeout bound it.
    Busy,
    /// Waiting for the next request since the last response was written.
    Idle(Instant),
}

/// A socket whose reads fail once the deadline of its connection's [`Phase`] has passed.
struct Watched {
    inner: TcpStream,
    phase: Arc<Mutex<Phase>>,
    limits: Limits,
    timer: Pin<Box<Sleep>>,
}

impl Watched {
    fn new(inner: TcpStream, phase: Arc<Mutex<Phase>>, limits: Limits) -> Self {
        let timer = Box::pin(tokio::time::sleep(limits.header_timeout));
        Self { inner, phase, limits, timer }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A response is going out: the idle clock starts (again) from here.
    fn wrote(&self) {
        let mut phase = self.phase();
        if matches!(*phase, Phase::Busy | Phase::Idle(_)) {
            *phase = Phase::Idle(Instant::now());
        }
    }

    /// When the current phase runs out, if it can.
    fn deadline(&self) -> Option<Instant> {
        match *self.phase() {
            Phase::Head(since) => Some(since + self.limits.header_timeout),
            Phase::Idle(since) => Some(since + self.limits.idle_timeout),
            Phase::Busy => None,
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let mut phase = self.phase();
                if buf.filled().len() > before && matches!(*phase, Phase::Idle(_)) {
                    // The first byte of the next request: its head's clock starts.
                    *phase = Phase::Head(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                let Some(deadline) = self.deadline() else { return Poll::Pending };
                if self.timer.deadline() != deadline {
                    self.timer.as_mut().reset(deadline);
                }
                match self.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client sent nothing in time (head or idle timeout)",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(1..)) = written {
            self.wrote();
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(1..)) = written {
            self.wrote();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
