//! Request metrics, exposed in the Prometheus text format by the `prometheus`
//! crate, and one debug log line per request.
//!
//! Counts and latency histograms are kept per route template (`/api/v1/stations/{id}`,
//! not the concrete path), so the number of series stays bounded. The per-request
//! log line is at DEBUG level (`RUST_LOG=yizhan_server=debug`), so a server at INFO
//! does not format or write anything per request.
//!
//! [`Metrics`] is a handle: the router's [`track`] middleware records into it (it
//! is the middleware's own state), the `/metrics` route renders it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::state::Readiness;

/// Upper bounds of the latency histogram buckets, in seconds.
pub const BUCKETS_S: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Status classes counted separately.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Per-route request counters and latency histograms. Cheap to clone: clones
/// share the series.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    ready: IntGauge,
    snapshot_age: Gauge,
    last_seq: IntGauge,
    pool: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty series.
    pub fn new() -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "yizhan_http_requests_total",
                "HTTP requests answered, by route, method and status class.",
            ),
            &["route", "method", "status"],
        );
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "yizhan_http_request_duration_seconds",
                "Time to answer, by route and method.",
            )
            .buckets(BUCKETS_S.to_vec()),
            &["route", "method"],
        );
        // The names, labels and buckets are constants that prometheus accepts
        // (the tests register them), so neither constructor fails.
        let ready = IntGauge::new(
            "yizhan_ready",
            "1 when the server is ready for traffic (see /readyz), else 0.",
        );
        let snapshot_age = Gauge::new(
            "yizhan_replication_snapshot_age_seconds",
            "Seconds since a replica's snapshot was last known current (its replication lag's upper bound; 0 when not a replica).",
        );
        let last_seq = IntGauge::new(
            "yizhan_replication_last_seq",
            "The last store history record a replica applied (0 when not a replica).",
        );
        let pool = IntGaugeVec::new(
            Opts::new(
                "yizhan_store_pool_connections",
                "The PostGIS store's connection pool: open, idle and max connections.",
            ),
            &["state"],
        );
        let (Ok(requests), Ok(duration), Ok(ready), Ok(snapshot_age), Ok(last_seq), Ok(pool)) =
            (requests, duration, ready, snapshot_age, last_seq, pool)
        else {
            unreachable!("the metric descriptions are valid constants")
        };
        let registry = Registry::new();
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(ready.clone()),
            Box::new(snapshot_age.clone()),
            Box::new(last_seq.clone()),
            Box::new(pool.clone()),
        ] {
            // Distinct names in a new registry: registration cannot conflict.
            let _ = registry.register(c);
        }
        Self {
            registry,
            requests,
            duration,
            ready,
            snapshot_age,
            last_seq,
            pool,
        }
    }

    /// Set the readiness and replication gauges (before rendering).
    pub fn observe(&self, r: &Readiness) {
        self.ready.set(i64::from(r.ready));
        self.snapshot_age.set(r.snapshot_age_s.unwrap_or(0.0));
        self.last_seq.set(r.last_seq.unwrap_or(0));
        if let Some(p) = r.pool {
            for (state, v) in [("open", p.connections), ("idle", p.idle), ("max", p.max)] {
                self.pool.with_label_values(&[state]).set(i64::from(v));
            }
        }
    }

    /// Record one request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let class = CLASSES[usize::from(status / 100).clamp(1, 5) - 1];
        self.requests
            .with_label_values(&[route, method, class])
            .inc();
        self.duration
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# the metrics could not be written: {e}\n"))
    }
}

/// Middleware (its state is the router's [`Metrics`]): time the request, record
/// it, and log one line at DEBUG level.
pub async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    // The path is copied only when the log line will be written.
    let path = tracing::enabled!(tracing::Level::DEBUG).then(|| req.uri().path().to_owned());
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.record(method.as_str(), route, status, elapsed.as_secs_f64());
    if let Some(path) = path {
        tracing::debug!(
            method = %method,
            path = %path,
            status,
            latency_ms = format_args!("{:.3}", elapsed.as_secs_f64() * 1e3),
            "request"
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample named `series` (with its labels, as written).
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn renders_counts_and_histograms() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, 0.0002);
        m.record("GET", "/healthz", 404, 0.2);
        let t = m.render();
        assert!(
            t.contains("# TYPE yizhan_http_requests_total counter"),
            "{t}"
        );
        assert!(
            t.contains("# TYPE yizhan_http_request_duration_seconds histogram"),
            "{t}"
        );
        let count = |t: &str, class: &str| {
            sample(
                t,
                &format!(
                    "yizhan_http_requests_total{{method=\"GET\",route=\"/healthz\",status=\"{class}\"}}"
                ),
            )
        };
        assert_eq!(count(&t, "2xx"), Some(1.0), "{t}");
        assert_eq!(count(&t, "4xx"), Some(1.0), "{t}");
        assert_eq!(count(&t, "5xx"), None, "{t}");
        let bucket = |t: &str, route: &str, method: &str, le: &str| {
            sample(
                t,
                &format!("yizhan_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket(&t, "/healthz", "GET", "0.00025"), Some(1.0), "{t}");
        assert_eq!(bucket(&t, "/healthz", "GET", "+Inf"), Some(2.0), "{t}");
        // Buckets are cumulative, and a time above the last bound is only in +Inf.
        m.record("GET", "/healthz", 200, 0.003);
        m.record("GET", "/healthz", 200, 9.0);
        m.record("POST", "/api/v1/plan/compare", 200, 0.0001);
        let t = m.render();
        for (le, n) in [
            ("0.0001", 0.0),
            ("0.005", 2.0),
            ("0.5", 3.0),
            ("2.5", 3.0),
            ("+Inf", 4.0),
        ] {
            assert_eq!(bucket(&t, "/healthz", "GET", le), Some(n), "le {le}: {t}");
        }
        assert_eq!(
            bucket(&t, "/api/v1/plan/compare", "POST", "0.0001"),
            Some(1.0),
            "{t}"
        );
        let labels = "{method=\"GET\",route=\"/healthz\"}";
        assert_eq!(
            sample(
                &t,
                &format!("yizhan_http_request_duration_seconds_count{labels}")
            ),
            Some(4.0),
            "{t}"
        );
        let sum = sample(
            &t,
            &format!("yizhan_http_request_duration_seconds_sum{labels}"),
        );
        assert!(sum.is_some_and(|s| (s - 9.2032).abs() < 1e-9), "{t}");
        // Series sorted by their labels (method, then route), whatever the order
        // of the requests.
        assert!(t.find("method=\"GET\"").unwrap() < t.find("method=\"POST\"").unwrap());
    }

    #[test]
    fn clones_share_the_series() {
        let m = Metrics::default();
        m.clone().record("GET", "/healthz", 200, 0.001);
        assert!(m.render().contains("status=\"2xx\"} 1"));
    }
}
