//! Logging: structured tracing with no personal data, and the per-request log line.
//!
//! Request logs carry the method, the route *pattern* (`/v1/venues/{venue_id}`, never the
//! concrete path or query), the status and the latency, so that no identifier typed by a
//! citizen ends up in a log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::state::AppState;

/// Installs the global subscriber (`RUST_LOG` overrides the default `info` level).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Logs and counts every request; adds an `x-request-id` header to every answer.
pub(crate) async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = uuid::Uuid::now_v7();
    // Only standard methods become metric labels: arbitrary extension methods sent by
    // anyone must not grow the metrics without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m.to_owned(),
        _ => "OTHER".to_owned(),
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let took = started.elapsed();
    if let Some(state) = state {
        state.http_metrics.record(&method, &route, status, took);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    tracing::info!(
        %request_id,
        method,
        route,
        status,
        latency_ms = took.as_secs_f64() * 1_000.0,
        "request"
    );
    Ok(res)
}
