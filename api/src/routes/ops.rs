//! Operations: liveness, readiness, Prometheus metrics.

use std::fmt::Write;

use actix_web::{web, HttpResponse};
use event_store::EventReader;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::metrics::escape;
use crate::state::AppState;

/// How long `/readyz` waits for the database to answer before answering 503.
const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The process is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// One projection's progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionLag {
    pub name: String,
    pub position: u64,
    pub lag: u64,
    pub status: String,
}

/// The store is reachable and every projection is within the lag bound.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Always `ready`.
    pub status: &'static str,
    /// The last position of the log.
    pub position: u64,
    pub projections: Vec<ProjectionLag>,
    /// Development mode (`serve --dev`): the development identity provider is trusted.
    pub dev: bool,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the store answers and the projections are caught up within the bound.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Store unreachable or projections lagging", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Readiness>, ApiError> {
    // A database out of reach makes the pool wait for a connection (up to its acquire
    // timeout); a readiness probe wants its answer sooner.
    match tokio::time::timeout(READY_WAIT, state.services.db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) | Err(_) => {
            return Err(ApiError::NotReady("the database does not answer".into()))
        }
    }
    let statuses = state
        .runner
        .status()
        .await
        .map_err(|_| ApiError::NotReady("projection status unavailable".into()))?;
    let position = state
        .store
        .last_position()
        .await
        .map_err(|_| ApiError::NotReady("the event log does not answer".into()))?;
    if let Some(s) = statuses
        .iter()
        .find(|s| s.lag > state.settings.readiness_max_lag || s.status == "failed")
    {
        return Err(ApiError::NotReady(format!(
            "projection {} is {} ({} events behind the log)",
            s.name, s.status, s.lag
        )));
    }
    Ok(web::Json(Readiness {
        status: "ready",
        dev: state.settings.dev,
        position,
        projections: statuses
            .into_iter()
            .map(|s| ProjectionLag {
                name: s.name,
                position: s.position,
                lag: s.lag,
                status: s.status,
            })
            .collect(),
    }))
}

/// Prometheus text exposition of the log, the projections and the HTTP traffic. Live counts
/// (red-code hits among them) are for operators: on the main address an auditor or analyst
/// token is needed; the metrics address (`--metrics-listen`) serves it alone without one.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, response = crate::answer::Unauthenticated),
        (status = 403, description = "Neither an auditor nor an analyst", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(
    req: actix_web::HttpRequest,
    caller: Option<crate::extract::Caller>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.on_metrics_address(&req) {
        caller
            .ok_or(ApiError::Unauthenticated)?
            .require(&state, &["auditor", "analyst"])
            .await?;
    }
    let head = state
        .store
        .last_position()
        .await
        .map_err(ApiError::internal)?;
    let counts = projections::event_counts::counts(&state.services.db)
        .await
        .map_err(ApiError::internal)?;
    let statuses = state.runner.status().await.map_err(ApiError::internal)?;
    let uptime = (state.clock.now() - state.started_at)
        .as_seconds_f64()
        .max(0.0);

    let mut out = String::with_capacity(2_048);
    out.push_str(
        "# HELP yuekang_up Whether the server is up.\n# TYPE yuekang_up gauge\nyuekang_up 1\n",
    );
    let _ = writeln!(out, "# HELP yuekang_uptime_seconds Seconds since the server started.\n# TYPE yuekang_uptime_seconds gauge\nyuekang_uptime_seconds {uptime:.3}");
    let _ = writeln!(out, "# HELP yuekang_log_position Position of the last event in the log.\n# TYPE yuekang_log_position gauge\nyuekang_log_position {head}");
    out.push_str("# HELP yuekang_events_total Events in the log, by type (from the event_counts projection); a type with 1 to k-1 events shows 0 (k_anonymity).\n# TYPE yuekang_events_total counter\n");
    for (event_type, n) in counts {
        // A rare event (one red-code hit in the province) could single someone out.
        let n = match state.services.figure(i64::try_from(n).unwrap_or(i64::MAX)) {
            services::figures::Figure::Count(_) => n,
            services::figures::Figure::FewerThan(_) => 0,
        };
        let _ = writeln!(
            out,
            "yuekang_events_total{{type=\"{}\"}} {n}",
            escape(&event_type)
        );
    }
    out.push_str("# HELP yuekang_projection_position Log position each projection has applied.\n# TYPE yuekang_projection_position gauge\n");
    for s in &statuses {
        let _ = writeln!(
            out,
            "yuekang_projection_position{{projection=\"{}\"}} {}",
            s.name, s.position
        );
    }
    out.push_str("# HELP yuekang_projection_lag Events each projection has yet to apply.\n# TYPE yuekang_projection_lag gauge\n");
    for s in &statuses {
        let _ = writeln!(
            out,
            "yuekang_projection_lag{{projection=\"{}\"}} {}",
            s.name, s.lag
        );
    }
    let codes = state.services.codes.counters();
    out.push_str("# HELP yuekang_code_draw_collisions_total Binding-code draws that hit a taken code, by kind (a kind filling up).\n# TYPE yuekang_code_draw_collisions_total counter\n");
    for (kind, collisions, _) in &codes {
        let _ = writeln!(
            out,
            "yuekang_code_draw_collisions_total{{kind=\"{kind}\"}} {collisions}"
        );
    }
    out.push_str("# HELP yuekang_code_exhausted_total Creations refused 503 code.exhausted: no free binding code found, by kind.\n# TYPE yuekang_code_exhausted_total counter\n");
    for (kind, _, exhausted) in &codes {
        let _ = writeln!(
            out,
            "yuekang_code_exhausted_total{{kind=\"{kind}\"}} {exhausted}"
        );
    }
    state.http_metrics.render(&mut out);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}
