//! Venues: creation (the caller becomes the admin and gets the venue code), the venue as its
//! admin sees it, weekly-limited edits, handover, and the admin's statistics.

use actix_web::{web, HttpResponse};
use domain::week::cst_rfc3339;
use serde::{Deserialize, Serialize};
use services::calendar::asked_day;
use services::venues::{self, AdminAction};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::answer::{created, done, MinPosition, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::routes::feed::DocumentInput;
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

/// The venue created.
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueCreatedView {
    pub venue_id: Uuid,
    /// The venue code: 8 digits, first `3`, last a check digit.
    pub code: String,
}

impl From<venues::VenueCreated> for VenueCreatedView {
    fn from(c: venues::VenueCreated) -> Self {
        VenueCreatedView {
            venue_id: c.venue_id,
            code: c.code,
        }
    }
}

/// Creates a venue; the caller becomes its admin and gets its venue code.
#[utoipa::path(post, path = "/v1/venues", tag = "venues", request_body = VenueInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Positioned<VenueCreatedView>),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "The caller already administers a venue (`venue.admin_has_venue`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No free binding code of this kind was found: the code space is (nearly) full (`code.exhausted`; capacity in docs/codes.md)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, e.g. a region that is not a Guangdong town", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    SignedIn(admin): SignedIn,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let input: VenueInput = body.parse()?;
    let ctx = body.context(services::auth::person_actor(admin))?;
    let outcome = venues::create(&state.services, &ctx, admin, &input.into()).await?;
    Ok(created(outcome, VenueCreatedView::from))
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
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    query: web::Query<MinPosition>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<web::Json<VenueView>, ApiError> {
    let admin =
        venues::authorize_admin(&state.services, &venue_id, person, AdminAction::SeeDetails)
            .await?;
    state.wait_for(query.min_position).await?;
    let v = venues::show(&state.services, &admin).await?;
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

/// Edits region, address, type, name or phone: the admin only, once per natural week (CST).
#[utoipa::path(patch, path = "/v1/venues/{venue_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    request_body = VenuePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Edited", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already edited this week (`venue.weekly_edit_limit`, with `next_allowed_at`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or nothing to change", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let admin =
        venues::authorize_admin(&state.services, &venue_id, person, AdminAction::Edit).await?;
    let patch: VenuePatch = body.parse()?;
    let ctx = body.context(services::auth::person_actor(person))?;
    let outcome = venues::edit(&state.services, &ctx, admin, &patch.into()).await?;
    Ok(done(&outcome))
}

/// `POST /v1/venues/{id}/handover`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HandoverRequest {
    /// The successor's document (`{"type","number"}`).
    pub successor: DocumentInput,
}

/// Offers the venue to a successor: a one-time token (24 hours; a new one voids it) with its
/// QR image, to give them; signed in with the named document, they accept it with `POST
/// /v1/venue-handovers/acceptance` and become the admin. The answer is the same whether or
/// not anyone has registered with the document.
#[utoipa::path(post, path = "/v1/venues/{venue_id}/handover", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    request_body = HandoverRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Offered: the token for the successor", body = crate::routes::grids::HandoverCreated),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid document", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn hand_over(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let admin =
        venues::authorize_admin(&state.services, &venue_id, person, AdminAction::HandOver).await?;
    let request: HandoverRequest = body.parse()?;
    let ctx = body.context(services::auth::person_actor(person))?;
    let offered = venues::offer_handover(
        &state.services,
        &ctx,
        admin,
        &request.successor.kind,
        &request.successor.number,
    )
    .await?;
    crate::routes::grids::handover_created(offered, HttpResponse::Ok())
}

/// The successor, signed in with the named document, accepts a venue handover and becomes its
/// admin.
#[utoipa::path(post, path = "/v1/venue-handovers/acceptance", tag = "venues",
    request_body = crate::routes::grids::AcceptanceRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Accepted: the caller administers the venue", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The token names another person", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Token invalid, used, replaced (`handover.invalid_token`) or expired (`handover.expired`); or the caller already administers a venue (`venue.successor_has_venue`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept_handover(
    state: web::Data<AppState>,
    successor: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: crate::routes::grids::AcceptanceRequest = body.parse()?;
    let ctx = body.context(successor.actor())?;
    let outcome =
        venues::accept_handover(&state.services, &ctx, successor.0, &request.handover_token)
            .await?;
    Ok(done(&outcome))
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
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad or future date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats(
    query: web::Query<StatsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<web::Json<VenueStats>, ApiError> {
    let admin = venues::authorize_admin(
        &state.services,
        &venue_id,
        person,
        AdminAction::SeeStatistics,
    )
    .await?;
    let date = asked_day(query.date.as_deref(), state.clock.now())?;
    state.wait_for(query.min_position).await?;
    let stats = venues::stats(&state.services, &admin, date).await?;
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
