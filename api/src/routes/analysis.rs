//! Audit and analysis: projection status and rebuild, chain verification, pseudonymised
//! export. Service accounts with the auditor or analyst role only.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use services::audit::export;

/// Read-your-writes for queries.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MinPosition {
    /// Wait (up to 5 s, else 503 `projection.lagging`) until the projections have applied
    /// this log position.
    pub min_position: Option<u64>,
}

/// One projection's progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionInfo {
    pub name: String,
    /// Log position the serving read model has applied.
    pub position: u64,
    /// Events in the log not yet applied.
    pub lag: u64,
    /// `live`, `catching_up`, `rebuilding`, `failed` or `idle`.
    pub status: String,
    /// Generation of the serving tables (rises by one with each rebuild).
    pub generation: u64,
    /// How far a rebuild in progress has got.
    pub rebuild_position: Option<u64>,
}

/// Every projection's position, lag and status.
#[utoipa::path(get, path = "/v1/projections", tag = "analysis",
    params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Projections", body = [ProjectionInfo]),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an auditor or analyst", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "min_position not reached in time", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_projections(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<Vec<ProjectionInfo>>, ApiError> {
    auth::require(&req, &state, &["auditor", "analyst"]).await?;
    state.wait_for(query.min_position).await?;
    let statuses = state.runner.status().await.map_err(ApiError::internal)?;
    Ok(web::Json(
        statuses
            .into_iter()
            .map(|s| ProjectionInfo {
                name: s.name,
                position: s.position,
                lag: s.lag,
                status: s.status,
                generation: s.generation,
                rebuild_position: s.rebuild_position,
            })
            .collect(),
    ))
}

/// A rebuild has started.
#[derive(Debug, Serialize, ToSchema)]
pub struct RebuildAccepted {
    pub name: String,
    /// Always `rebuilding`; follow progress in `GET /v1/projections`.
    pub status: &'static str,
}

/// Rebuilds a projection from the whole log beside the serving one, then swaps it in.
#[utoipa::path(post, path = "/v1/projections/{name}/rebuild", tag = "analysis",
    params(("name" = String, Path, description = "Projection name")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Rebuild started", body = RebuildAccepted),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such projection", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already rebuilding", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rebuild_projection(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth::require(&req, &state, &["analyst"]).await?;
    let name = name.into_inner();
    if !state.runner.names().contains(&name.as_str()) {
        return Err(ApiError::NotFound {
            code: "projection.unknown",
            detail: format!(
                "no projection is named {name:?} (known: {})",
                state.runner.names().join(", ")
            ),
        });
    }
    match state.runner.spawn_rebuild(&name) {
        Ok(()) => {}
        Err(projections::RunnerError::AlreadyRebuilding(_)) => {
            return Err(ApiError::conflict(
                "projection.rebuilding",
                format!("projection {name} is already being rebuilt"),
            ))
        }
        Err(error) => return Err(ApiError::internal(error)),
    }
    Ok(HttpResponse::Accepted().json(RebuildAccepted {
        name,
        status: "rebuilding",
    }))
}

/// The result of walking the hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub checked: u64,
    pub first_bad_position: Option<u64>,
    /// `missing` or `hash mismatch`, when not ok.
    pub problem: Option<String>,
}

/// Verifies the whole log's hash chain.
#[utoipa::path(post, path = "/v1/audit/verification", tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Verification result", body = Verification),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an auditor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<web::Json<Verification>, ApiError> {
    auth::require(&req, &state, &["auditor"]).await?;
    // Projection checkpoints witness how far the log once reached.
    let anchor = state
        .runner
        .status()
        .await
        .map_err(ApiError::internal)?
        .iter()
        .map(|s| s.position)
        .max()
        .unwrap_or(0);
    let report = state
        .store
        .verify_reaching(anchor)
        .await
        .map_err(ApiError::internal)?;
    Ok(web::Json(Verification {
        ok: report.ok,
        checked: report.checked,
        first_bad_position: report.first_bad_position,
        problem: report.problem,
    }))
}

/// Where an export starts.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Only events after this position.
    pub after: Option<u64>,
}

/// Pseudonymised events, one JSON object per line, streamed.
#[utoipa::path(get, path = "/v1/exports/events.ndjson", tag = "analysis",
    params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "NDJSON: position, stream and actor pseudonymised, type, schema_version, recorded_at, data", body = String, content_type = "application/x-ndjson"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an analyst", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    auth::require(&req, &state, &["analyst"]).await?;
    let key = export::pseudonym_key(&state.settings.data_dir).map_err(ApiError::internal)?;
    let lines = state
        .store
        .read_all_stream(query.after.unwrap_or(0), 2_000)
        .map(move |event| {
            let event = event.map_err(ApiError::internal)?;
            let mut line = export::line(&key, &event).map_err(ApiError::internal)?;
            line.push('\n');
            Ok::<_, ApiError>(web::Bytes::from(line))
        });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(lines))
}
