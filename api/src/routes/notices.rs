//! Release-from-medical-observation notices (解除隔离医学观察电子告知书): issued by granted
//! staff on their own scan, withdrawn by the issuer or the province admin, seen by their
//! person (JSON and a printable page) and listed by the issuer.

use actix_web::{http::header, web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::medical::{self, IssuedNotice, NoticeInput, NoticeView};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, done, MinPosition, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::paging::{BadPage, PageQuery, PageView};
use crate::state::AppState;
use domain::week::cst_rfc3339;

/// `POST /v1/notices`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NoticeRequest {
    /// The staff member's own medical scan, under 30 minutes old.
    pub scan_id: String,
    /// First day of the observation, `YYYY-MM-DD`.
    pub observation_from: String,
    /// Last day of the observation, `YYYY-MM-DD`, today or earlier.
    pub observation_to: String,
    /// The reasons released: `close_contact`, `high_risk_arrival`, `centralised_quarantine`,
    /// `home_quarantine` (each active on the person's code).
    pub reasons: Vec<String>,
}

/// The notice issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedView {
    pub notice_id: Uuid,
    /// `YK2026-000123`: unique and gap-free per year.
    pub number: String,
    /// The reasons released.
    pub released: Vec<String>,
}

/// Issues a release-from-medical-observation notice on the staff member's scan (within 30
/// minutes): the reasons it names are released in the same commit; the code turns green when
/// nothing else is active.
#[utoipa::path(post, path = "/v1/notices", tag = "medical",
    request_body = NoticeRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Issued", body = Positioned<IssuedView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not granted medical staff, or someone else's scan", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scan (`scan.unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Scan older than 30 minutes (`scan.expired`), already used (`notice.already_issued`), the staff member's own code (`notice.own_code`), or a reason a notice may not release (`notice.reason_not_releasable`) or not active (`notice.reason_not_active`), named in `reason`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad dates or period (`notice.period`), unknown, missing or repeated reasons", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue(
    state: web::Data<AppState>,
    staff: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let permit = medical::permit_staff(&state.services, staff.0).await?;
    let request: NoticeRequest = body.parse()?;
    let ctx = body.context(staff.actor())?;
    let input = NoticeInput {
        scan_id: request.scan_id,
        observation_from: request.observation_from,
        observation_to: request.observation_to,
        reasons: request.reasons,
    };
    let outcome = medical::issue(&state.services, &ctx, permit, &input).await?;
    Ok(created(outcome, |i| IssuedView {
        notice_id: i.notice_id,
        number: i.number,
        released: i
            .released
            .into_iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
    }))
}

/// `POST /v1/notices/{notice_id}/withdrawal`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WithdrawalRequest {
    /// Why, 1 to 500 characters.
    pub detail: String,
}

/// Withdraws a mistaken notice (the issuing staff member while granted, or the province
/// admin): the notice stays, marked withdrawn; the reasons it released come back, and the
/// colour with them.
#[utoipa::path(post, path = "/v1/notices/{notice_id}/withdrawal", tag = "medical",
    params(("notice_id" = Uuid, Path, description = "The notice")),
    request_body = WithdrawalRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither its granted issuer nor the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notice (`notice.unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already withdrawn (`notice.already_withdrawn`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or long detail (`withdrawal.detail`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw(
    state: web::Data<AppState>,
    by: SignedIn,
    notice_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: WithdrawalRequest = body.parse()?;
    let ctx = body.context(by.actor())?;
    let outcome =
        medical::withdraw(&state.services, &ctx, by.0, &notice_id, &request.detail).await?;
    Ok(done(&outcome))
}

/// A reason on a notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeReasonView {
    pub reason: String,
    pub label: String,
}

/// How a notice was withdrawn.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalView {
    pub withdrawn_at: String,
    /// `issuer` or `province_admin`
    pub by: String,
    pub detail: String,
}

/// A notice as its person and its issuer see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeDetail {
    pub notice_id: String,
    pub number: String,
    pub person_id: String,
    /// `张*三`
    pub name_masked: String,
    pub unit: String,
    pub position: String,
    /// The issuing staff member, masked.
    pub staff_masked: String,
    pub observation_from: String,
    pub observation_to: String,
    pub reasons: Vec<NoticeReasonView>,
    pub issued_at: String,
    /// Null unless withdrawn.
    pub withdrawal: Option<WithdrawalView>,
    /// The printable page.
    pub printable: String,
}

impl From<NoticeView> for NoticeDetail {
    fn from(v: NoticeView) -> Self {
        NoticeDetail {
            printable: format!("/v1/notices/{}/printable", v.notice_id),
            notice_id: v.notice_id,
            number: v.number,
            person_id: v.person_id,
            name_masked: v.name_masked,
            unit: v.unit,
            position: v.position,
            staff_masked: v.staff_masked,
            observation_from: v.observation_from,
            observation_to: v.observation_to,
            reasons: v
                .reasons
                .into_iter()
                .map(|r| NoticeReasonView {
                    reason: r.reason.as_str().into(),
                    label: r.label.into(),
                })
                .collect(),
            issued_at: cst_rfc3339(v.issued_at),
            withdrawal: v.withdrawal.map(|w| WithdrawalView {
                withdrawn_at: cst_rfc3339(w.at),
                by: w.by_role,
                detail: w.detail,
            }),
        }
    }
}

/// A notice, to its person or its issuer (`404` for anyone else).
#[utoipa::path(get, path = "/v1/notices/{notice_id}", tag = "medical",
    params(("notice_id" = Uuid, Path, description = "The notice"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notice", body = NoticeDetail),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "No such notice for this person (`notice.unknown`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    query: web::Query<MinPosition>,
    state: web::Data<AppState>,
    viewer: SignedIn,
    notice_id: web::Path<String>,
) -> Result<web::Json<NoticeDetail>, ApiError> {
    state.wait_for(query.min_position).await?;
    let view = medical::view(&state.services, viewer.0, &notice_id).await?;
    Ok(web::Json(NoticeDetail::from(view)))
}

/// The notice as a printable page (A4, HTML, nothing loaded from elsewhere): number, the
/// person's masked name, the period, the reasons, unit, staff and date.
#[utoipa::path(get, path = "/v1/notices/{notice_id}/printable", tag = "medical",
    params(("notice_id" = Uuid, Path, description = "The notice"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The printable notice", content_type = "text/html", body = String),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "No such notice for this person (`notice.unknown`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn printable(
    query: web::Query<MinPosition>,
    state: web::Data<AppState>,
    viewer: SignedIn,
    notice_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.wait_for(query.min_position).await?;
    let view = medical::view(&state.services, viewer.0, &notice_id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(yuekang_pages::printable::notice(&view)))
}

/// A notice in its issuer's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedNoticeView {
    pub notice_id: String,
    pub number: String,
    pub person_id: String,
    pub observation_from: String,
    pub observation_to: String,
    pub reasons: Vec<String>,
    pub issued_at: String,
    /// Null unless withdrawn.
    pub withdrawn_at: Option<String>,
}

impl From<IssuedNotice> for IssuedNoticeView {
    fn from(n: IssuedNotice) -> Self {
        IssuedNoticeView {
            notice_id: n.notice_id,
            number: n.number,
            person_id: n.person_id,
            observation_from: n.observation_from,
            observation_to: n.observation_to,
            reasons: n.reasons.iter().map(|r| r.as_str().to_owned()).collect(),
            issued_at: cst_rfc3339(n.issued_at),
            withdrawn_at: n.withdrawn_at.map(cst_rfc3339),
        }
    }
}

/// The notices the signed-in staff member issued, newest first (已出具的电子告知书).
#[utoipa::path(get, path = "/v1/me/issued-notices", tag = "medical",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Issued notices", body = PageView<IssuedNoticeView>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = BadPage),
    ))]
pub async fn issued(
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
    staff: SignedIn,
) -> Result<web::Json<PageView<IssuedNoticeView>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = medical::issued_by(&state.services, staff.0, page).await?;
    Ok(web::Json(PageView::of(page, IssuedNoticeView::from)))
}
