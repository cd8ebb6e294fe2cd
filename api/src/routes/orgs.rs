//! Organisation routes: registration, edits, member bindings, the admin dashboard.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use domain::identity::PersonId;
use domain::org::OrgId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth;
use crate::error::{ApiError, Problem};
use crate::orgs::{self, OrgInput, OrgPatch, OrgStats};
use crate::routes::audit::page_limit;
use crate::routes::citizens::{MinPosition, PageQuery};
use crate::routes::{bound_answer, command_context, created, cst_unix, ok, parse_body, person_row};
use crate::server::AppState;

/// The subject (document digest) of a logged-in person, whose key seals their phone.
async fn subject_of(state: &AppState, person: PersonId) -> Result<String, ApiError> {
    Ok(person_row(state, person).await?.digest)
}

fn path_org(raw: &str) -> Result<OrgId, ApiError> {
    Uuid::parse_str(raw)
        .map(OrgId::new)
        .map_err(|_| ApiError::not_found("org.unknown", format!("no organisation {raw:?}")))
}

// The documented answer shapes (the handlers build them from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgCreated {
    pub org_id: Uuid,
    /// The declaration code: 8 digits, first `1`, last a check digit.
    pub code: String,
    pub position: u64,
}

/// Registers an organisation; the caller becomes its admin and gets its declaration code.
#[utoipa::path(post, path = "/v1/orgs", tag = "organisations", request_body = OrgInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = OrgCreated),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller already administers an organisation (`org.admin_has_org`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (each listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::person(&req, &state).await?;
    let input: OrgInput = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{admin}"))?;
    let subject = subject_of(&state, admin).await?;
    let outcome = orgs::register(&state.bus, &state.vault, &ctx, admin, &subject, &input).await?;
    created(&outcome)
}

/// Edits name, address, level or phone: the admin only, once per natural week (CST).
#[utoipa::path(patch, path = "/v1/orgs/{org_id}", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation")),
    request_body = OrgPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Edited", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already edited this week (`org.weekly_edit_limit`, with `next_allowed_at`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or nothing to change", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let org_id = path_org(&org_id)?;
    // Who may edit comes before what the edit says.
    if orgs::admin_of(&state.bus, org_id).await? != person {
        return Err(ApiError::Forbidden(
            "only the organisation's admin may edit it".into(),
        ));
    }
    let patch: OrgPatch = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let subject = subject_of(&state, person).await?;
    let outcome = orgs::edit(
        &state.bus,
        &state.vault,
        &ctx,
        person,
        &subject,
        org_id,
        &patch,
    )
    .await?;
    ok(&outcome)
}

/// `POST /v1/org-bindings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BindRequest {
    /// The organisation's declaration code.
    pub code: String,
    /// Bind a member of the caller's family instead of the caller.
    pub subject_id: Option<Uuid>,
}

#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct BoundView {
    pub org_id: Uuid,
    pub position: u64,
    /// True when the caller was already bound (nothing changed).
    pub already_bound: bool,
}

/// Binds the caller to the organisation of a declaration code (many orgs per member).
/// Binding again is a no-op answered `200`.
#[utoipa::path(post, path = "/v1/org-bindings", tag = "organisations", request_body = BindRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Bound", body = BoundView),
        (status = 200, description = "Already bound: nothing changed", body = BoundView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`subject_id` is not a member of the caller's family", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No organisation has this code (`org.unknown_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed or mistyped code, or a venue or grid code (`code.wrong_kind`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bind(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let request: BindRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let subject = request.subject_id.map_or(person, PersonId::new);
    let outcome = orgs::bind(&state.bus, &ctx, person, subject, &request.code).await?;
    Ok(bound_answer(&outcome, "org_id", outcome.response().org_id))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrg {
    pub org_id: String,
    pub name: String,
    pub code: String,
    pub bound_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrgs {
    pub items: Vec<MyOrg>,
    pub next: Option<String>,
}

/// The organisations the caller is bound to, oldest binding first.
#[utoipa::path(get, path = "/v1/me/orgs", tag = "organisations", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Bound organisations", body = MyOrgs),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_orgs(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<MyOrgs>, ApiError> {
    let person = auth::person(&req, &state).await?;
    let limit = page_limit(query.limit)? as usize;
    let offset = crate::routes::citizens::cursor(query.after.as_deref())?.unwrap_or(0);
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    state.wait_for(query.min_position).await?;
    let rows = projections::orgs::of_member(&state.db, &person.to_string())
        .await
        .map_err(ApiError::internal)?;
    let more = rows.len() > offset.saturating_add(limit);
    Ok(web::Json(MyOrgs {
        items: rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| MyOrg {
                bound_at: cst_unix(r.bound_at),
                org_id: r.org_id,
                name: r.name,
                code: r.code,
            })
            .collect(),
        next: more.then(|| (offset + limit).to_string()),
    }))
}

/// Unbinds the caller from an organisation.
#[utoipa::path(delete, path = "/v1/me/orgs/{org_id}", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not bound (`org.not_bound`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind(
    req: HttpRequest,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let org_id = Uuid::parse_str(&org_id).map(OrgId::new).map_err(|_| {
        ApiError::not_found("org.not_bound", "you are not bound to this organisation")
    })?;
    let ctx = command_context(&req, &[], format!("person-{person}"))?;
    let outcome = orgs::unbind(&state.bus, &ctx, person, org_id).await?;
    ok(&outcome)
}

/// `?date=` and read-your-writes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// A past day (`YYYY-MM-DD`, CST); today when absent.
    pub date: Option<String>,
    pub min_position: Option<u64>,
}

async fn admin_stats(
    req: &HttpRequest,
    state: &AppState,
    org_id: &str,
    query: &StatsQuery,
) -> Result<OrgStats, ApiError> {
    let person = auth::person(req, state).await?;
    let org_id = path_org(org_id)?;
    if orgs::admin_of(&state.bus, org_id).await? != person {
        return Err(ApiError::Forbidden(
            "only the organisation's admin sees its dashboard".into(),
        ));
    }
    let date = orgs::parse_date(query.date.as_deref(), state.clock.now())?;
    state.wait_for(query.min_position).await?;
    orgs::stats(&state.db, &org_id.to_string(), date).await
}

/// The admin dashboard: members, declarations and fever and symptom counts of the day, and a
/// 14-day series. No personal data.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/stats", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = OrgStats),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad or future date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats(
    req: HttpRequest,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    query: web::Query<StatsQuery>,
) -> Result<web::Json<OrgStats>, ApiError> {
    Ok(web::Json(admin_stats(&req, &state, &org_id, &query).await?))
}

/// The dashboard's series as CSV with a header row.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/stats.csv", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV: date,members,declared,not_declared,declarations,fever,symptoms", content_type = "text/csv", body = String),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let stats = admin_stats(&req, &state, &org_id, &query).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"org-stats-{}.csv\"", stats.date),
        ))
        .body(orgs::stats_csv(&stats)))
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
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<OrgView>, ApiError> {
    let person = auth::person(&req, &state).await?;
    let org_id = path_org(&org_id)?;
    if orgs::admin_of(&state.bus, org_id).await? != person {
        return Err(ApiError::Forbidden(
            "only the organisation's admin sees its details".into(),
        ));
    }
    state.wait_for(query.min_position).await?;
    let org = projections::orgs::org(&state.db, &org_id.to_string())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("org.unknown", "no such organisation"))?;
    let subject = subject_of(&state, person).await?;
    let phone = state
        .vault
        .open(&subject, &crate::crypto::vault::Sealed(org.phone.clone()))
        .await
        .map_err(ApiError::internal)?
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let now = state.clock.now();
    let next_edit_allowed_at = org
        .last_edit_at
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|last| domain::week::weekly_edit_allowed(Some(last), now).err())
        .map(|next| cst_unix(next.unix_timestamp()));
    Ok(web::Json(OrgView {
        registered_at: cst_unix(org.registered_at),
        org_id: org.org_id,
        name: org.name,
        address: org.address,
        level: org.level,
        phone,
        code: org.code,
        next_edit_allowed_at,
    }))
}
