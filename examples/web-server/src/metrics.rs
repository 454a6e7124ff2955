//! Request metrics, served on a listener of their own (`--metrics-listen`) in the
//! OpenMetrics text format, which Prometheus scrapes.
//!
//! Labels are the route template (`/api/cases/{case_id}/contacts`, or `<unmatched>`), the
//! method (one of the standard ones, else `OTHER`) and the status: never an id, a query
//! string or anything a user typed, so no personal data, and a bounded number of series.
//! prometheus-client keeps the registry in the application state instead of a global, so
//! each test's app counts its own requests.

use std::fmt;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

/// The media type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: Route,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: Route,
}

/// The route template of a request (`/cases/{case_id}`), or `<unmatched>`: the router's
/// own text, shared rather than copied into each request's labels.
#[derive(Debug, Clone)]
pub(crate) struct Route(Option<MatchedPath>);

impl Route {
    /// The route the router matched for `request`.
    pub(crate) fn of(request: &Request) -> Self {
        Self(request.extensions().get::<MatchedPath>().cloned())
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.as_ref().map_or("<unmatched>", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> fmt::Result {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The server's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    connections: ConnectionStats,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("renraku");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let latency =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from the request's head to the response's head, by method and route",
            latency.clone(),
        );
        let connections = ConnectionStats::default();
        registry.register("http_connections_open", "Client connections open now", connections.open.clone());
        registry.register(
            "http_connections_refused",
            "Client connections refused because the connection limit was reached",
            connections.refused.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register("db_pool_connections", "PostgreSQL pool connections, idle or in use", pool.clone());
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "The PostgreSQL pool's maximum size", pool_max.clone());
        Self { registry, requests, latency, connections, pool, pool_max }
    }
}

impl Metrics {
    /// The counters of the accept loop (see [`serve`](crate::serve::serve)).
    #[must_use]
    pub fn connections(&self) -> ConnectionStats {
        self.connections.clone()
    }

    /// The metrics as an OpenMetrics text document, with the pool as it is now.
    fn render(&self, pool: Option<&sqlx::PgPool>) -> Result<String, fmt::Error> {
        if let Some(pool) = pool {
            let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
            let size = i64::from(pool.size());
            self.pool.get_or_create(&PoolLabels { state: "idle" }).set(idle);
            self.pool.get_or_create(&PoolLabels { state: "in_use" }).set((size - idle).max(0));
            self.pool_max.set(i64::from(pool.options().get_max_connections()));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The connection counters of the accept loop.
#[derive(Debug, Clone, Default)]
pub struct ConnectionStats {
    open: Gauge,
    refused: Counter,
}

impl ConnectionStats {
    /// Counts a connection as open until the returned guard is dropped.
    #[must_use]
    pub fn opened(&self) -> OpenConnection {
        self.open.inc();
        OpenConnection(self.open.clone())
    }

    /// Counts a refused connection.
    pub fn refused(&self) {
        self.refused.inc();
    }
}

/// An open connection, counted until dropped.
#[derive(Debug)]
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The method as a label: the standard methods by name, anything else as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN.iter().find(|m| *m == method).map_or("OTHER", Method::as_str)
}

impl Metrics {
    /// Counts an answered request and its time from head to response head.
    pub(crate) fn observe(&self, method: &Method, route: &Route, status: StatusCode, latency: Duration) {
        let method = method_label(method);
        self.latency
            .get_or_create(&RouteLabels { method, route: route.clone() })
            .observe(latency.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels { method, route: route.clone(), status: status.as_u16() })
            .inc();
    }
}

/// `GET /metrics` of the metrics listener.
async fn scrape(State(state): State<AppState>) -> Response {
    match state.metrics().render(state.database()) {
        Ok(text) => ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The router of the metrics listener: `GET /metrics`, nothing else, with the headers of
/// every response of the server.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(state).layer(
        axum::middleware::map_response(|mut response: Response| async move {
            crate::middleware::set_security_headers(response.headers_mut());
            response
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_of_one_route_count_in_one_series() {
        let metrics = Metrics::default();
        for _ in 0..2 {
            metrics.observe(&Method::GET, &Route(None), StatusCode::NOT_FOUND, Duration::from_millis(1));
        }
        let text = metrics.render(None).unwrap();
        assert!(
            text.contains(r#"renraku_http_requests_total{method="GET",route="<unmatched>",status="404"} 2"#),
            "{text}"
        );
    }

    #[test]
    fn odd_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
