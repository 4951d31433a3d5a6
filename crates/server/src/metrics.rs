//! Request metrics in the Prometheus text format, and one debug log line per request.
//!
//! Counts and latency histograms are kept per route template (`/api/v1/stations/{id}`,
//! not the concrete path), so the number of series stays bounded. Recording a
//! request allocates nothing and costs a read lock and four relaxed atomic adds;
//! the per-request log line is at DEBUG level (`RUST_LOG=yizhan_server=debug`), so
//! a server at INFO does not format or write anything per request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
pub const BUCKETS_S: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Status classes counted separately.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Debug, Default)]
struct RouteStats {
    by_class: [AtomicU64; 5],
    /// Requests per bucket, not cumulative: one add per request (rendering sums them).
    buckets: [AtomicU64; BUCKETS_S.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl RouteStats {
    fn record(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        if let Some(i) = BUCKETS_S.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Per-route request counters and latency histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Route template, then method.
    routes: RwLock<BTreeMap<String, BTreeMap<String, Arc<RouteStats>>>>,
}

impl Metrics {
    /// Record one request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        {
            let g = self
                .routes
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(s) = g.get(route).and_then(|m| m.get(method)) {
                s.record(status, seconds);
                return;
            }
        }
        // The first request of a route and method.
        let s = {
            let mut g = self
                .routes
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(
                g.entry(route.to_string())
                    .or_default()
                    .entry(method.to_string())
                    .or_default(),
            )
        };
        s.record(status, seconds);
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let g = self
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        out.push_str("# HELP yizhan_http_requests_total HTTP requests answered, by route, method and status class.\n");
        out.push_str("# TYPE yizhan_http_requests_total counter\n");
        let series = || {
            g.iter()
                .flat_map(|(route, m)| m.iter().map(move |(method, s)| (route, method, s)))
        };
        for (route, method, s) in series() {
            for (i, c) in CLASSES.iter().enumerate() {
                let n = s.by_class[i].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "yizhan_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{c}\"}} {n}",
                        escape(route),
                        escape(method)
                    );
                }
            }
        }
        out.push_str(
            "# HELP yizhan_http_request_duration_seconds Time to answer, by route and method.\n",
        );
        out.push_str("# TYPE yizhan_http_request_duration_seconds histogram\n");
        for (route, method, s) in series() {
            let labels = format!("route=\"{}\",method=\"{}\"", escape(route), escape(method));
            let mut cumulative = 0;
            for (i, b) in BUCKETS_S.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "yizhan_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "yizhan_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "yizhan_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "yizhan_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: time the request, record it, and log one line at DEBUG level.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    // The path is copied only when the log line will be written.
    let path = tracing::enabled!(tracing::Level::DEBUG).then(|| req.uri().path().to_owned());
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state
        .metrics()
        .record(method.as_str(), route, status, elapsed.as_secs_f64());
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

    #[test]
    fn renders_counts_and_histograms() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, 0.0002);
        m.record("GET", "/healthz", 404, 0.2);
        let t = m.render();
        assert!(t.contains(
            "yizhan_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"2xx\"} 1"
        ));
        assert!(t.contains("le=\"0.00025\"} 1"));
        assert!(t.contains("le=\"+Inf\"} 2"));
        // Buckets are cumulative, and a time above the last bound is only in +Inf.
        m.record("GET", "/healthz", 200, 0.003);
        m.record("GET", "/healthz", 200, 9.0);
        m.record("POST", "/api/v1/plan/compare", 200, 0.0001);
        let t = m.render();
        assert!(
            t.contains("/healthz\",method=\"GET\",le=\"0.0001\"} 0"),
            "{t}"
        );
        assert!(
            t.contains("/healthz\",method=\"GET\",le=\"0.005\"} 2"),
            "{t}"
        );
        assert!(t.contains("/healthz\",method=\"GET\",le=\"0.5\"} 3"), "{t}");
        assert!(t.contains("/healthz\",method=\"GET\",le=\"2.5\"} 3"), "{t}");
        assert!(
            t.contains("/healthz\",method=\"GET\",le=\"+Inf\"} 4"),
            "{t}"
        );
        assert!(
            t.contains("/api/v1/plan/compare\",method=\"POST\",le=\"0.0001\"} 1"),
            "{t}"
        );
        // Series in route order.
        assert!(t.find("/api/v1/plan/compare").unwrap() < t.find("/healthz").unwrap());
    }
}
