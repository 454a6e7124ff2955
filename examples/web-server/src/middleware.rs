//! What happens around every request, in one middleware: its id, its log line and metrics,
//! the refusals that need no handler (a remote host while authentication is disabled, a
//! body declared too large), the timeout, errors rendered in the surface's format, and the
//! security headers of every response. The HTML pages have one more inside it, for their
//! CSRF cookie and their flash.
//!
//! One function rather than a stack of tower layers (tower-http has one for most of these)
//! because on PostgreSQL a request waits for the database, and each wake-up polls it
//! through every layer again: fifteen layers cost a fifth to a quarter of renraku-web's
//! throughput there (BENCHMARKS.md, "Web: load test of renraku-web"). The steps keep the
//! order the layers had, outermost first.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::error::{HttpError, Surface};
use crate::metrics::Route;
use crate::{AppState, BODY_LIMIT, CONTENT_SECURITY_POLICY, auth, cookies, csrf, flash, telemetry, transfer};

/// How long a request may take before it answers 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The middleware around every route of [`app`](crate::app).
pub(crate) async fn around_each_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = telemetry::request_id(&request);
    let method = request.method().clone();
    // The route template (`/cases/{case_id}`), never the URI: ids and the query stay out of
    // the logs and the metrics' labels.
    let route = Route::of(&request);
    let context = telemetry::RequestContext::new(method.clone(), route.clone(), id.clone());

    let surface = Surface::of(&request);
    let (mut response, latency) = telemetry::serving(context, async {
        let response = answer(&state, request, next).await;
        let response = surface.render_errors(response, &state).await;
        let latency = started.elapsed();
        telemetry::finished(response.status(), latency);
        (response, latency)
    })
    .await;

    state.metrics().observe(&method, &route, response.status(), latency);
    let headers = response.headers_mut();
    set_security_headers(headers);
    headers.entry(telemetry::REQUEST_ID).or_insert(id);
    response
}

/// The middleware of the HTML pages, inside [`around_each_request`]: the CSRF cookie and
/// form token, and the flash, from one reading of the request's cookies.
pub(crate) async fn around_each_page(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let new_csrf_cookie = csrf::ensure_token(&state, &jar, &mut request);
    let had_flash = flash::take(&jar, &mut request);
    let mut response = next.run(request).await;
    flash::clear_if_shown(&state, had_flash, &mut response);
    if let Some(cookie) = new_csrf_cookie {
        cookies::append(response.headers_mut(), cookie);
    }
    response
}

/// The handler's answer, unless the request is refused first or runs out of time.
async fn answer(state: &AppState, request: Request, next: Next) -> Response {
    if let Err(refused) = auth::loopback_hosts_only(state, &request) {
        return refused.into_response();
    }
    if let Some(refused) = refuse_oversized_body(&request) {
        return refused;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// A body whose declared length is over [`BODY_LIMIT`] (a CSV import's: its own larger
/// limit) answers 413 at once, before any of it is read (or waited for), and the
/// connection is closed.
fn refuse_oversized_body(request: &Request) -> Option<Response> {
    let limit = if transfer::is_import(request.uri().path()) { transfer::IMPORT_LIMIT } else { BODY_LIMIT };
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|length| length > limit as u64) {
        let mut response = HttpError::too_large().into_response();
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Some(response);
    }
    None
}

/// The headers of every response of the server: no scripts, no sniffing, no framing, no
/// referrer, and (unless a route allows it, as the stylesheet does) no cache, since pages
/// show personal data.
pub(crate) fn set_security_headers(headers: &mut HeaderMap) {
    // Room for all of them and the request id at once, rather than growing the map twice.
    headers.reserve(6);
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
}
