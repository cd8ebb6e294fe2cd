//! Request counters for `/metrics`, kept in memory by the request middleware.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
struct RouteStats {
    count: u64,
    seconds: f64,
}

/// HTTP request counts and durations by method, route pattern and status.
#[derive(Debug, Default)]
pub(crate) struct HttpMetrics {
    routes: Mutex<BTreeMap<(String, String, u16), RouteStats>>,
}

impl HttpMetrics {
    pub(crate) fn record(&self, method: &str, route: &str, status: u16, took: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = routes
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        stats.count += 1;
        stats.seconds += took.as_secs_f64();
    }

    /// Appends the Prometheus text of these counters to `out`.
    pub(crate) fn render(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP yuekang_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE yuekang_http_requests_total counter\n");
        for ((method, route, status), s) in routes.iter() {
            let _ = writeln!(
                out,
                "yuekang_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str(
            "# HELP yuekang_http_request_seconds_sum Time spent answering HTTP requests.\n",
        );
        out.push_str("# TYPE yuekang_http_request_seconds_sum counter\n");
        for ((method, route, status), s) in routes.iter() {
            let _ = writeln!(
                out,
                "yuekang_http_request_seconds_sum{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {:.6}",
                escape(route),
                s.seconds
            );
        }
    }
}

/// Escapes a Prometheus label value.
pub(crate) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
