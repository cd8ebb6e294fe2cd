//! Red-code feed routes (feed service accounts only): record batches and appeal decisions.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth;
use crate::citizens::{self, BatchOutcome, FeedRecordInput};
use crate::error::{ApiError, Problem};
use crate::routes::audit::page_limit;
use crate::routes::{command_context, ok, parse_body};
use crate::server::AppState;

/// `POST /v1/feed/batches`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// At most 1000 records.
    pub records: Vec<FeedRecordInput>,
}

// The documented answer shape (the handler builds it from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    #[serde(flatten)]
    pub outcome: BatchOutcome,
    pub position: u64,
}

/// Posts red-code hits and releases. Idempotent by record id: a replayed record is a
/// duplicate and changes nothing; a refused record changes nothing.
#[utoipa::path(post, path = "/v1/feed/batches", tag = "feed", request_body = BatchRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each record's outcome", body = BatchAnswer),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a feed account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed batch (too many records, wrong shape)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let feed = auth::require(&req, &state, &["feed"]).await?;
    let request: BatchRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, feed.actor())?;
    let outcome = citizens::apply_feed_batch(
        &state.bus,
        &state.keys,
        &state.vault,
        &ctx,
        &request.records,
    )
    .await?;
    ok(&outcome)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AppealsQuery {
    /// 1 to 500, default 50.
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealView {
    pub appeal_id: String,
    pub reason: String,
    /// The feed record the appealed reason came from.
    pub record_id: String,
    pub filed_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealsPage {
    pub items: Vec<AppealView>,
    pub next: Option<String>,
}

/// Open appeals, oldest first.
#[utoipa::path(get, path = "/v1/feed/appeals", tag = "feed", params(AppealsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Open appeals", body = AppealsPage),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a feed account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_appeals(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AppealsQuery>,
) -> Result<web::Json<AppealsPage>, ApiError> {
    auth::require(&req, &state, &["feed"]).await?;
    let limit = page_limit(query.limit)?;
    let after = match query.after.as_deref() {
        None => 0,
        Some(raw) => raw.parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "after",
                "page.cursor",
                "after is a cursor from a previous page",
            )
        })?,
    };
    state.wait_for(query.min_position).await?;
    let rows = projections::appeals::open(&state.db, after, limit + 1)
        .await
        .map_err(ApiError::internal)?;
    let more = rows.len() > limit as usize;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let next = if more {
        rows.last().map(|r| r.position.to_string())
    } else {
        None
    };
    Ok(web::Json(AppealsPage {
        items: rows
            .into_iter()
            .map(|r| AppealView {
                filed_at: crate::routes::cst_unix(r.filed_at),
                appeal_id: r.appeal_id,
                reason: r.reason,
                record_id: r.record_id,
            })
            .collect(),
        next,
    }))
}

/// `POST /v1/feed/appeals/{appeal_id}/decision`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionRequest {
    pub granted: bool,
    /// Shown to the citizen, 1 to 500 characters.
    pub detail: String,
}

/// Decides an appeal: granted releases the reason, refused leaves it; the citizen sees the
/// decision in their notices.
#[utoipa::path(post, path = "/v1/feed/appeals/{appeal_id}/decision", tag = "feed",
    params(("appeal_id" = Uuid, Path, description = "The appeal")),
    request_body = DecisionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Decided", body = crate::routes::PositionView),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a feed account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown appeal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`appeal.already_decided`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing detail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide_appeal(
    req: HttpRequest,
    state: web::Data<AppState>,
    appeal_id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let feed = auth::require(&req, &state, &["feed"]).await?;
    let request: DecisionRequest = parse_body(&body)?;
    let unknown = || ApiError::not_found("appeal.unknown", "no such appeal");
    let appeal_id = Uuid::parse_str(&appeal_id).map_err(|_| unknown())?;
    let appeal = projections::appeals::by_id(&state.db, &appeal_id.to_string())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(unknown)?;
    let digest = domain::identity::DocumentDigest::parse(appeal.digest)
        .map_err(|why| ApiError::internal(anyhow::anyhow!(why)))?;
    let ctx = command_context(&req, &body, feed.actor())?;
    let outcome = citizens::decide_appeal(
        &state.bus,
        &ctx,
        &digest,
        appeal_id,
        request.granted,
        request.detail,
    )
    .await?;
    ok(&outcome)
}
