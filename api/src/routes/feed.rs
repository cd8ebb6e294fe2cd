//! Red-code feed routes (feed service accounts only): record batches and appeal decisions.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::feed;
use utoipa::ToSchema;

use crate::answer::{done, ok, PositionView, Positioned};
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, CommandBody};
use crate::paging::{PageQuery, PageView};
use crate::state::AppState;

/// A feed record as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FeedRecordInput {
    pub record_id: String,
    pub document: DocumentInput,
    pub name: String,
    /// `confirmed`, `suspected`, `close_contact`, `high_risk_arrival`,
    /// `centralised_quarantine` or `home_quarantine`.
    pub reason: String,
    /// `hit` or `release`.
    pub action: String,
    /// RFC 3339 instant the status takes effect.
    pub effective_at: String,
    /// Division code of the region of residence.
    pub region: Option<String>,
}

/// `{"type","number"}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DocumentInput {
    /// `resident_id`, `hk_macao_permit`, `passport` or `birth_certificate`.
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

impl From<DocumentInput> for services::feed::DocumentInput {
    fn from(d: DocumentInput) -> Self {
        Self {
            kind: d.kind,
            number: d.number,
        }
    }
}

impl From<FeedRecordInput> for services::feed::FeedRecordInput {
    fn from(r: FeedRecordInput) -> Self {
        Self {
            record_id: r.record_id,
            document: r.document.into(),
            name: r.name,
            reason: r.reason,
            action: r.action,
            effective_at: r.effective_at,
            region: r.region,
        }
    }
}

/// A refused record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedRecord {
    pub record_id: String,
    pub code: String,
    pub detail: String,
}

/// `POST /v1/feed/batches`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// At most 1000 records.
    pub records: Vec<FeedRecordInput>,
}

/// Each record's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    pub accepted: Vec<String>,
    pub duplicates: Vec<String>,
    pub refused: Vec<RefusedRecord>,
}

impl From<feed::BatchOutcome> for BatchAnswer {
    fn from(outcome: feed::BatchOutcome) -> Self {
        BatchAnswer {
            accepted: outcome.accepted,
            duplicates: outcome.duplicates,
            refused: outcome
                .refused
                .into_iter()
                .map(|r| RefusedRecord {
                    record_id: r.record_id,
                    code: r.code,
                    detail: r.detail,
                })
                .collect(),
        }
    }
}

/// Posts red-code hits and releases. Idempotent by record id: a replayed record is a
/// duplicate and changes nothing; a refused record changes nothing.
#[utoipa::path(post, path = "/v1/feed/batches", tag = "feed", request_body = BatchRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each record's outcome", body = Positioned<BatchAnswer>),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a feed account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed batch (too many records, wrong shape)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_batch(
    caller: Caller,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let feed = caller.require(&state, &["feed"]).await?;
    let request: BatchRequest = body.parse()?;
    let ctx = body.context(feed.actor())?;
    let records: Vec<services::feed::FeedRecordInput> =
        request.records.into_iter().map(Into::into).collect();
    let outcome = feed::apply_batch(&state.services, &ctx, &records).await?;
    Ok(ok(outcome, BatchAnswer::from))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealView {
    pub appeal_id: String,
    pub reason: String,
    /// The feed record the appealed reason came from.
    pub record_id: String,
    pub filed_at: String,
}

/// Open appeals, oldest first.
#[utoipa::path(get, path = "/v1/feed/appeals", tag = "feed", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Open appeals", body = PageView<AppealView>),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a feed account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_appeals(
    query: web::Query<PageQuery>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<web::Json<PageView<AppealView>>, ApiError> {
    caller.require(&state, &["feed"]).await?;
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = feed::open_appeals(&state.services, page).await?;
    Ok(web::Json(PageView::of(page, |a| AppealView {
        filed_at: domain::week::cst_rfc3339(a.filed_at),
        appeal_id: a.appeal_id,
        reason: a.reason,
        record_id: a.record_id,
    })))
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
        (status = 200, description = "Decided", body = PositionView),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a feed account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown appeal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided (`appeal.already_decided`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing detail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide_appeal(
    caller: Caller,
    state: web::Data<AppState>,
    appeal_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let feed = caller.require(&state, &["feed"]).await?;
    let request: DecisionRequest = body.parse()?;
    let ctx = body.context(feed.actor())?;
    let outcome = feed::decide_appeal(
        &state.services,
        &ctx,
        &appeal_id,
        request.granted,
        request.detail,
    )
    .await?;
    Ok(done(&outcome))
}
