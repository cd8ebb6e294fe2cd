//! The read models' progress and their rebuild (auditors and analysts).

use actix_web::{web, HttpResponse};
use serde::Serialize;
use services::analysis;
use utoipa::ToSchema;

use crate::answer::MinPosition;
use crate::error::{ApiError, Problem};
use crate::extract::Caller;
use crate::state::AppState;

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
    query: web::Query<MinPosition>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<ProjectionInfo>>, ApiError> {
    caller.require(&state, &["auditor", "analyst"]).await?;
    state.wait_for(query.min_position).await?;
    let statuses = analysis::projections(&state.runner).await?;
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
    caller: Caller,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["analyst"]).await?;
    let name = name.into_inner();
    analysis::rebuild(&state.runner, &name)?;
    Ok(HttpResponse::Accepted().json(RebuildAccepted {
        name,
        status: "rebuilding",
    }))
}
