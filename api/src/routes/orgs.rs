//! Organisations: registration, edits, the organisation as its admin sees it, and the admin
//! dashboard (JSON and CSV).

use actix_web::{web, HttpResponse};
use domain::identity::PersonId;
use domain::week::cst_rfc3339;
use serde::{Deserialize, Serialize};
use services::calendar::asked_day;
use services::orgs::{self, AdminAction};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::answer::{created, done, MinPosition, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::state::AppState;

/// The org registration as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OrgInput {
    pub name: String,
    pub address: String,
    /// `province`, `city`, `county`, `town`, `village`, or the division code of the region the
    /// org belongs to (行政归属层级).
    pub level: String,
    /// The admin's mobile phone.
    pub phone: String,
}

impl From<OrgInput> for orgs::OrgInput {
    fn from(i: OrgInput) -> Self {
        Self {
            name: i.name,
            address: i.address,
            level: i.level,
            phone: i.phone,
        }
    }
}

/// An edit as sent: any of the fields.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub address: Option<String>,
    pub level: Option<String>,
    pub phone: Option<String>,
}

impl From<OrgPatch> for orgs::OrgPatch {
    fn from(p: OrgPatch) -> Self {
        Self {
            name: p.name,
            address: p.address,
            level: p.level,
            phone: p.phone,
        }
    }
}

/// One day of the dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayStats {
    /// `YYYY-MM-DD`, China Standard Time.
    pub date: String,
    /// Members bound at the end of the day.
    pub members: i64,
    /// Distinct persons who declared for the org that day.
    pub declared: i64,
    /// Members bound that day who did not declare.
    pub not_declared: i64,
    /// Declarations filed.
    pub declarations: i64,
    /// Persons whose latest declaration of the day has fever.
    pub fever: i64,
    /// Persons whose latest declaration of the day reports a symptom.
    pub symptoms: i64,
}

/// The admin dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgStats {
    pub org_id: String,
    pub date: String,
    pub members: i64,
    pub declared_today: i64,
    pub not_declared_today: i64,
    pub declarations_today: i64,
    pub fever_today: i64,
    pub symptoms_today: i64,
    /// The 14 days ending at `date`, oldest first.
    pub series: Vec<DayStats>,
}

impl From<orgs::OrgStats> for OrgStats {
    fn from(s: orgs::OrgStats) -> Self {
        Self {
            org_id: s.org_id,
            date: s.date,
            members: s.members,
            declared_today: s.declared_today,
            not_declared_today: s.not_declared_today,
            declarations_today: s.declarations_today,
            fever_today: s.fever_today,
            symptoms_today: s.symptoms_today,
            series: s
                .series
                .into_iter()
                .map(|d| DayStats {
                    date: d.date,
                    members: d.members,
                    declared: d.declared,
                    not_declared: d.not_declared,
                    declarations: d.declarations,
                    fever: d.fever,
                    symptoms: d.symptoms,
                })
                .collect(),
        }
    }
}

/// The organisation registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgCreated {
    pub org_id: Uuid,
    /// The declaration code: 8 digits, first `1`, last a check digit.
    pub code: String,
}

impl From<orgs::OrgRegistered> for OrgCreated {
    fn from(r: orgs::OrgRegistered) -> Self {
        OrgCreated {
            org_id: r.org_id,
            code: r.code,
        }
    }
}

/// Registers an organisation; the caller becomes its admin and gets its declaration code.
#[utoipa::path(post, path = "/v1/orgs", tag = "organisations", request_body = OrgInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = Positioned<OrgCreated>),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "The caller already administers an organisation (`org.admin_has_org`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No free binding code of this kind was found: the code space is (nearly) full (`code.exhausted`; capacity in docs/codes.md)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (each listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    SignedIn(admin): SignedIn,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let input: OrgInput = body.parse()?;
    let ctx = body.context(services::auth::person_actor(admin))?;
    let outcome = orgs::register(&state.services, &ctx, admin, &input.into()).await?;
    Ok(created(outcome, OrgCreated::from))
}

/// Edits name, address, level or phone: the admin only, once per natural week (CST).
#[utoipa::path(patch, path = "/v1/orgs/{org_id}", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation")),
    request_body = OrgPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Edited", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already edited this week (`org.weekly_edit_limit`, with `next_allowed_at`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or nothing to change", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    // Who may edit comes before what the edit says.
    let admin = orgs::authorize_admin(&state.services, &org_id, person, AdminAction::Edit).await?;
    let patch: OrgPatch = body.parse()?;
    let ctx = body.context(services::auth::person_actor(person))?;
    let outcome = orgs::edit(&state.services, &ctx, admin, &patch.into()).await?;
    Ok(done(&outcome))
}

/// `?date=` and read-your-writes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// A past day (`YYYY-MM-DD`, CST); today when absent.
    pub date: Option<String>,
    pub min_position: Option<u64>,
}

async fn admin_stats(
    person: PersonId,
    state: &AppState,
    org_id: &str,
    query: &StatsQuery,
) -> Result<orgs::OrgStats, ApiError> {
    let admin =
        orgs::authorize_admin(&state.services, org_id, person, AdminAction::SeeDashboard).await?;
    let date = asked_day(query.date.as_deref(), state.clock.now())?;
    state.wait_for(query.min_position).await?;
    Ok(orgs::dashboard(&state.services, &admin, date).await?)
}

/// The admin dashboard: members, declarations and fever and symptom counts of the day, and a
/// 14-day series. No personal data.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/stats", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = OrgStats),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad or future date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats(
    query: web::Query<StatsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
) -> Result<web::Json<OrgStats>, ApiError> {
    Ok(web::Json(
        admin_stats(person, &state, &org_id, &query).await?.into(),
    ))
}

/// The dashboard's series as CSV with a header row.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/stats.csv", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV: date,members,declared,not_declared,declarations,fever,symptoms", content_type = "text/csv", body = String),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats_csv(
    query: web::Query<StatsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let stats = admin_stats(person, &state, &org_id, &query).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"org-stats-{}.csv\"", stats.date),
        ))
        .body(services::orgs::series_csv(&stats)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub org_id: String,
    pub name: String,
    pub address: String,
    pub level: String,
    /// The admin's phone (the admin's own data, unmasked).
    pub phone: Option<String>,
    /// The declaration code to share with members.
    pub code: String,
    pub registered_at: String,
    /// When the next edit is allowed (null: now).
    pub next_edit_allowed_at: Option<String>,
}

/// The organisation as its admin sees it: details, the code to share, when the next edit
/// is allowed.
#[utoipa::path(get, path = "/v1/orgs/{org_id}", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation", body = OrgView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    query: web::Query<MinPosition>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
) -> Result<web::Json<OrgView>, ApiError> {
    let admin =
        orgs::authorize_admin(&state.services, &org_id, person, AdminAction::SeeDetails).await?;
    state.wait_for(query.min_position).await?;
    let org = orgs::show(&state.services, &admin).await?;
    Ok(web::Json(OrgView {
        registered_at: cst_rfc3339(org.registered_at),
        org_id: org.org_id,
        name: org.name,
        address: org.address,
        level: org.level,
        phone: org.phone,
        code: org.code,
        next_edit_allowed_at: org.next_edit_allowed_at.map(cst_rfc3339),
    }))
}
