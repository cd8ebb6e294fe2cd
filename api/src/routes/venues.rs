//! Venue routes: venues, inspectors, scans, temperature checks, posters, quick check-ins and
//! statistics.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use domain::identity::PersonId;
use domain::venue::VenueId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crypto::qr;
use domain::week::cst_rfc3339;
use services::page::PageRequest;
use services::venues;

use crate::auth;
use crate::error::{ApiError, Problem};
use crate::routes::citizens::{MinPosition, PageQuery};
use crate::routes::feed::DocumentInput;
use crate::routes::{bound_answer, command_context, created, ok, parse_body};
use crate::state::AppState;

/// A venue as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VenueInput {
    /// A town-level division code of Guangdong (9 digits).
    pub region: String,
    pub address: String,
    /// `residential`, `office`, `retail`, `dining`, `lodging`, `entertainment`, `sports`,
    /// `transport` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The admin's mobile phone.
    pub phone: String,
}

impl From<VenueInput> for venues::VenueInput {
    fn from(i: VenueInput) -> Self {
        Self {
            region: i.region,
            address: i.address,
            kind: i.kind,
            name: i.name,
            phone: i.phone,
        }
    }
}

/// An edit as sent: any of the fields.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct VenuePatch {
    pub region: Option<String>,
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

impl From<VenuePatch> for venues::VenuePatch {
    fn from(p: VenuePatch) -> Self {
        Self {
            region: p.region,
            address: p.address,
            kind: p.kind,
            name: p.name,
            phone: p.phone,
        }
    }
}

/// What a scanner sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanAnswer {
    pub scan_id: Uuid,
    pub person_id: Uuid,
    /// `张*强`
    pub name_masked: String,
    /// `139****5678`, empty when unknown
    pub phone_masked: String,
    /// `green` or `red`
    pub colour: String,
    /// The active red reasons' labels.
    pub reason_labels: Vec<String>,
    pub position: u64,
}

// The documented answer shapes (the handlers build them from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueCreatedView {
    pub venue_id: Uuid,
    /// The venue code: 8 digits, first `3`, last a check digit.
    pub code: String,
    pub position: u64,
}

/// Creates a venue; the caller becomes its admin and gets its venue code.
#[utoipa::path(post, path = "/v1/venues", tag = "venues", request_body = VenueInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = VenueCreatedView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller already administers a venue (`venue.admin_has_venue`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, e.g. a region that is not a Guangdong town", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let admin = auth::person(&req, &state).await?;
    let input: VenueInput = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{admin}"))?;
    let outcome = venues::create(&state.services, &ctx, admin, &input.into()).await?;
    created(&outcome)
}

/// Edits region, address, type, name or phone: the admin only, once per natural week (CST).
#[utoipa::path(patch, path = "/v1/venues/{venue_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    request_body = VenuePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Edited", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already edited this week (`venue.weekly_edit_limit`, with `next_allowed_at`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or nothing to change", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let venue_id = venues::authorize_admin(
        &state.services,
        &venue_id,
        person,
        "only the venue's admin may edit it",
    )
    .await?;
    let patch: VenuePatch = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let outcome = venues::edit(&state.services, &ctx, person, venue_id, &patch.into()).await?;
    ok(&outcome)
}

/// `POST /v1/venues/{id}/handover`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HandoverRequest {
    /// The successor's document (`{"type","number"}`); they must have logged in once.
    pub successor: DocumentInput,
}

/// Hands the venue over: the successor becomes its admin, the caller loses the role.
#[utoipa::path(post, path = "/v1/venues/{venue_id}/handover", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    request_body = HandoverRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Handed over", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue, or nobody registered with the document", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The successor already administers a venue (`venue.successor_has_venue`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid document", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn hand_over(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let venue_id = venues::authorize_admin(
        &state.services,
        &venue_id,
        person,
        "only the venue's admin hands it over",
    )
    .await?;
    let request: HandoverRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let outcome = venues::hand_over(
        &state.services,
        &ctx,
        person,
        venue_id,
        &request.successor.kind,
        &request.successor.number,
    )
    .await?;
    ok(&outcome)
}

/// `POST /v1/venue-bindings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VenueBindRequest {
    /// The venue code.
    pub code: String,
}

#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueBoundView {
    pub venue_id: Uuid,
    pub position: u64,
    pub already_bound: bool,
}

/// Binds the caller as an inspector of the venue of a venue code (many venues per
/// inspector, many inspectors per venue; the admin may bind too). Again: `200`, no change.
#[utoipa::path(post, path = "/v1/venue-bindings", tag = "venues", request_body = VenueBindRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Bound", body = VenueBoundView),
        (status = 200, description = "Already bound: nothing changed", body = VenueBoundView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No venue has this code (`venue.unknown_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed or mistyped code, or an org or grid code (`code.wrong_kind`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bind(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let request: VenueBindRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{person}"))?;
    let outcome = venues::bind(&state.services, &ctx, person, &request.code).await?;
    Ok(bound_answer(
        &outcome,
        "venue_id",
        outcome.response().venue_id,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyVenue {
    pub venue_id: String,
    pub name: String,
    pub code: String,
    pub region: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub bound_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyVenues {
    pub items: Vec<MyVenue>,
    pub next: Option<String>,
}

/// The venues the caller inspects, oldest binding first.
#[utoipa::path(get, path = "/v1/me/venues", tag = "venues", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Venues inspected", body = MyVenues),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_venues(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<MyVenues>, ApiError> {
    let person = auth::person(&req, &state).await?;
    let page = PageRequest::parse(query.limit, query.after.as_deref())?;
    state.wait_for(query.min_position).await?;
    let page = venues::my_venues(&state.services, person, page).await?;
    Ok(web::Json(MyVenues {
        items: page
            .items
            .into_iter()
            .map(|r| MyVenue {
                bound_at: cst_rfc3339(r.bound_at),
                venue_id: r.venue_id,
                name: r.name,
                code: r.code,
                region: r.region,
                kind: r.kind,
            })
            .collect(),
        next: page.next,
    }))
}

/// Unbinds the caller from a venue they inspect.
#[utoipa::path(delete, path = "/v1/me/venues/{venue_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not bound (`venue.not_bound`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind_self(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let venue_id = Uuid::parse_str(&venue_id)
        .map(VenueId::new)
        .map_err(|_| ApiError::not_found("venue.not_bound", "you do not inspect this venue"))?;
    let ctx = command_context(&req, &[], format!("person-{person}"))?;
    let outcome = venues::unbind(&state.services, &ctx, person, venue_id, person).await?;
    ok(&outcome)
}

/// The admin unbinds an inspector.
#[utoipa::path(delete, path = "/v1/venues/{venue_id}/inspectors/{person_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), ("person_id" = Uuid, Path, description = "The inspector")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = crate::routes::PositionView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue, or not an inspector of it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind_inspector(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let person = auth::person(&req, &state).await?;
    let (venue_id, inspector) = path.into_inner();
    let venue_id = venues::authorize_admin(
        &state.services,
        &venue_id,
        person,
        "only the venue's admin unbinds inspectors",
    )
    .await?;
    let inspector = PersonId::parse(&inspector)
        .ok_or_else(|| ApiError::not_found("venue.not_bound", "no such inspector"))?;
    let ctx = command_context(&req, &[], format!("person-{person}"))?;
    let outcome = venues::unbind(&state.services, &ctx, person, venue_id, inspector).await?;
    ok(&outcome)
}

/// Where a scan happens.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScanContext {
    pub venue_id: Option<Uuid>,
    pub grid_id: Option<Uuid>,
    #[serde(default)]
    pub medical: bool,
}

/// `POST /v1/scans`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScanRequest {
    /// The QR payload of the citizen's code.
    pub token: String,
    pub context: ScanContext,
}

/// Scans a citizen's code: masked name and phone, colour and reason labels; the access is
/// recorded in the citizen's access log.
#[utoipa::path(post, path = "/v1/scans", tag = "venues", request_body = ScanRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the scanner sees", body = ScanAnswer),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The scanner has no right in this context (not an inspector bound to the venue)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The code names nobody registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Forged or altered code (`code_token.*`), or a bad context", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scan(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let scanner = auth::person(&req, &state).await?;
    let request: ScanRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{scanner}"))?;
    let place = venues::ScanPlace {
        venue_id: request.context.venue_id,
        grid_id: request.context.grid_id,
        medical: request.context.medical,
    };
    let outcome = venues::scan(&state.services, &ctx, scanner, &request.token, place).await?;
    ok(&outcome)
}

/// The latest health declaration of the person a scan names: to the same scanner only,
/// within 30 minutes of the scan. The access is recorded.
#[utoipa::path(get, path = "/v1/scans/{scan_id}/declaration", tag = "venues",
    params(("scan_id" = Uuid, Path, description = "The scan"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest declaration", body = Object),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the scanner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown scan, or no declaration (`declaration.none`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The scan is older than 30 minutes (`scan.expired`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scan_declaration(
    req: HttpRequest,
    state: web::Data<AppState>,
    scan_id: web::Path<String>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let scanner = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    Ok(web::Json(
        venues::scanned_declaration(&state.services, scanner, &scan_id).await?,
    ))
}

/// `POST /v1/venues/{id}/checks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    pub scan_id: Uuid,
    /// `normal` or `fever`.
    pub band: String,
}

#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckCreated {
    pub check_id: Uuid,
    pub position: u64,
}

/// Records a temperature check for a scan (the same inspector, this venue, within 30
/// minutes, once per scan). Immutable: a later check supersedes it for the fever figures.
#[utoipa::path(post, path = "/v1/venues/{venue_id}/checks", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    request_body = CheckRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = CheckCreated),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the inspector who scanned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown scan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Scan of another venue, too old, or already checked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad band", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let inspector = auth::person(&req, &state).await?;
    let permit = venues::permit_check(&state.services, &venue_id, inspector).await?;
    let request: CheckRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{inspector}"))?;
    let outcome = venues::record_check(
        &state.services,
        &ctx,
        permit,
        request.scan_id,
        &request.band,
    )
    .await?;
    created(&outcome)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Poster {
    /// The signed poster token (葵花码) citizens scan to check in.
    pub token: String,
}

async fn poster_token(
    req: &HttpRequest,
    state: &AppState,
    venue_id: &str,
) -> Result<String, ApiError> {
    let person = auth::person(req, state).await?;
    Ok(venues::poster(&state.services, person, venue_id).await?)
}

/// The venue's quick check-in poster token (admin and bound inspectors).
#[utoipa::path(get, path = "/v1/venues/{venue_id}/poster", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The poster token", body = Poster),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the admin nor a bound inspector", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn poster(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<web::Json<Poster>, ApiError> {
    Ok(web::Json(Poster {
        token: poster_token(&req, &state, &venue_id).await?,
    }))
}

/// The poster as a QR image to print.
#[utoipa::path(get, path = "/v1/venues/{venue_id}/poster.svg", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "SVG image", content_type = "image/svg+xml", body = String),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the admin nor a bound inspector", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn poster_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = poster_token(&req, &state, &venue_id).await?;
    let svg = qr::code_svg(&token, qr::QrColour::Green).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// `POST /v1/checkins`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckInRequest {
    pub poster_token: String,
    /// A member of the caller's family; the caller when absent.
    pub subject_id: Option<Uuid>,
}

#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInCreated {
    pub check_id: Uuid,
    pub venue_name: String,
    pub position: u64,
}

/// Quick check-in with a venue's poster, band normal, for oneself or a family member.
#[utoipa::path(post, path = "/v1/checkins", tag = "venues", request_body = CheckInRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Checked in", body = CheckInCreated),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`subject_id` is not a member of the caller's family", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The poster's venue does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Forged or altered poster (`code_token.*`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = auth::person(&req, &state).await?;
    let request: CheckInRequest = parse_body(&body)?;
    let ctx = command_context(&req, &body, format!("person-{actor}"))?;
    let outcome = venues::check_in(
        &state.services,
        &ctx,
        actor,
        &request.poster_token,
        request.subject_id,
    )
    .await?;
    created(&outcome)
}

/// `?date=` and read-your-writes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// A past day (`YYYY-MM-DD`, CST); today when absent.
    pub date: Option<String>,
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SexCounts {
    pub male: i64,
    pub female: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgeBands {
    #[serde(rename = "0-17")]
    pub under_18: i64,
    #[serde(rename = "18-39")]
    pub from_18_to_39: i64,
    #[serde(rename = "40-59")]
    pub from_40_to_59: i64,
    #[serde(rename = "60+")]
    pub from_60: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectorCounts {
    /// The inspector's person id (no name: statistics carry no personal data).
    pub inspector: String,
    pub today: i64,
    pub total: i64,
}

/// A venue's statistics for a day (CST), no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueStats {
    pub venue_id: String,
    pub date: String,
    /// Every check and quick check-in of the day.
    pub checks_today: i64,
    /// Distinct persons checked that day.
    pub persons_today: i64,
    pub checks_total: i64,
    /// Distinct persons checked up to and including the day.
    pub persons_total: i64,
    /// Persons whose latest check of the day at the venue is fever.
    pub fever_today: i64,
    /// Distinct persons whose latest check of some day (up to this one) was fever.
    pub fever_total: i64,
    pub sex: SexCounts,
    pub age_bands: AgeBands,
    /// Checks per hour of the day, 0 to 23 (CST).
    pub hourly: Vec<i64>,
    pub inspectors: Vec<InspectorCounts>,
}

/// The admin's statistics of the venue.
#[utoipa::path(get, path = "/v1/venues/{venue_id}/stats", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = VenueStats),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad or future date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    query: web::Query<StatsQuery>,
) -> Result<web::Json<VenueStats>, ApiError> {
    let person = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    let stats = venues::stats(&state.services, person, &venue_id, query.date.as_deref()).await?;
    let f = stats.figures;
    Ok(web::Json(VenueStats {
        venue_id: stats.venue_id,
        date: stats.date.to_string(),
        checks_today: f.checks_today,
        persons_today: f.persons_today,
        checks_total: f.checks_total,
        persons_total: f.persons_total,
        fever_today: f.fever_today,
        fever_total: f.fever_total,
        sex: SexCounts {
            male: f.sex.0,
            female: f.sex.1,
        },
        age_bands: AgeBands {
            under_18: f.age_bands[0],
            from_18_to_39: f.age_bands[1],
            from_40_to_59: f.age_bands[2],
            from_60: f.age_bands[3],
        },
        hourly: f.hourly.to_vec(),
        inspectors: stats
            .inspectors
            .into_iter()
            .map(|i| InspectorCounts {
                inspector: i.inspector,
                today: i.today,
                total: i.total,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyVenueStats {
    pub venue_id: String,
    pub date: String,
    /// The caller's checks at the venue today.
    pub today: i64,
    /// The caller's checks at the venue in all.
    pub total: i64,
}

/// An inspector's own counts at a venue.
#[utoipa::path(get, path = "/v1/me/venues/{venue_id}/stats", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Own counts", body = MyVenueStats),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an inspector of the venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_stats(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    query: web::Query<StatsQuery>,
) -> Result<web::Json<MyVenueStats>, ApiError> {
    let person = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    let (venue_id, date, today, total) =
        venues::my_stats(&state.services, person, &venue_id, query.date.as_deref()).await?;
    Ok(web::Json(MyVenueStats {
        venue_id: venue_id.to_string(),
        date: date.to_string(),
        today,
        total,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueView {
    pub venue_id: String,
    pub name: String,
    pub region: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
    /// The venue code to share with inspectors.
    pub code: String,
    pub created_at: String,
}

/// The venue as its admin sees it, with the code to share.
#[utoipa::path(get, path = "/v1/venues/{venue_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The venue", body = VenueView),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    query: web::Query<MinPosition>,
) -> Result<web::Json<VenueView>, ApiError> {
    let person = auth::person(&req, &state).await?;
    state.wait_for(query.min_position).await?;
    let v = venues::show(&state.services, person, &venue_id).await?;
    Ok(web::Json(VenueView {
        created_at: cst_rfc3339(v.created_at),
        venue_id: v.venue_id,
        name: v.name,
        region: v.region,
        kind: v.kind,
        address: v.address,
        code: v.code,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectorView {
    pub person_id: String,
    /// The inspector's name, masked (`张*强`).
    pub name_masked: String,
    pub bound_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectorList {
    pub items: Vec<InspectorView>,
    pub next: Option<String>,
}

/// The venue's inspectors (admin only), names masked, oldest binding first.
#[utoipa::path(get, path = "/v1/venues/{venue_id}/inspectors", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Inspectors", body = InspectorList),
        (status = 401, description = "No or bad session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inspectors(
    req: HttpRequest,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<InspectorList>, ApiError> {
    let person = auth::person(&req, &state).await?;
    let page = PageRequest::parse(query.limit, query.after.as_deref())?;
    state.wait_for(query.min_position).await?;
    let page = venues::inspectors(&state.services, person, &venue_id, page).await?;
    Ok(web::Json(InspectorList {
        items: page
            .items
            .into_iter()
            .map(|i| InspectorView {
                person_id: i.person_id,
                name_masked: i.name_masked,
                bound_at: cst_rfc3339(i.bound_at),
            })
            .collect(),
        next: page.next,
    }))
}
