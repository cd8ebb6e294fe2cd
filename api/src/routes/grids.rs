//! Grids: creation (the caller becomes the grid's admin and gets its grid code), edits, the
//! region admin's confirmation, and the admin's management of workers.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::grids::{self, WorkerAction};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, done, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::state::AppState;

/// `POST /v1/grids`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GridInput {
    /// A division code of Guangdong below the province (a town's 9 digits, or a village's 12).
    pub region: String,
    pub name: String,
}

/// The grid created.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridCreatedView {
    pub grid_id: Uuid,
    /// The grid code: 8 digits, first `6`, last a check digit.
    pub code: String,
    /// `pending` until a region admin confirms the grid.
    pub status: String,
}

/// Creates a grid; the caller becomes its admin (one grid per admin) and gets its code.
#[utoipa::path(post, path = "/v1/grids", tag = "grids", request_body = GridInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, pending", body = Positioned<GridCreatedView>),
        (status = 401, response = Unauthenticated),
        (status = 409, description = "The caller already administers a grid (`grid.admin_has_grid`, with `grid_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No free binding code of this kind was found: the code space is (nearly) full (`code.exhausted`; capacity in docs/codes.md)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (each listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    admin: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let input: GridInput = body.parse()?;
    let ctx = body.context(admin.actor())?;
    let input = grids::GridInput {
        region: input.region,
        name: input.name,
    };
    let outcome = grids::create(&state.services, &ctx, admin.0, &input).await?;
    Ok(created(outcome, |c| GridCreatedView {
        grid_id: c.grid_id,
        code: c.code,
        status: c.status,
    }))
}

/// `PATCH /v1/grids/{grid_id}`: any of the fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct GridPatch {
    pub region: Option<String>,
    pub name: Option<String>,
}

/// Edits the grid's region or name: its admin only, once per natural week (CST).
#[utoipa::path(patch, path = "/v1/grids/{grid_id}", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid")),
    request_body = GridPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Edited", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the grid's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already edited this week (`grid.weekly_edit_limit`, with `next_allowed_at`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or nothing to change", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit(
    state: web::Data<AppState>,
    person: SignedIn,
    grid_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let admin = grids::authorize_admin(&state.services, &grid_id, person.0).await?;
    let patch: GridPatch = body.parse()?;
    let ctx = body.context(person.actor())?;
    let patch = grids::GridPatch {
        region: patch.region,
        name: patch.name,
    };
    let outcome = grids::edit(&state.services, &ctx, admin, &patch).await?;
    Ok(done(&outcome))
}

/// A region admin whose region encloses the grid's region confirms the grid: it then takes
/// visits. Confirming again changes nothing.
#[utoipa::path(post, path = "/v1/grids/{grid_id}/confirmation", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Confirmed", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin of a region enclosing the grid's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    state: web::Data<AppState>,
    by: SignedIn,
    grid_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let ctx = body.bodiless_context(by.actor())?;
    let outcome = grids::confirm(&state.services, &ctx, by.0, &grid_id).await?;
    Ok(done(&outcome))
}

async fn manage(
    state: &AppState,
    by: SignedIn,
    path: (String, String),
    body: &CommandBody,
    action: WorkerAction,
) -> Result<HttpResponse, ApiError> {
    let (grid_id, worker) = path;
    let ctx = body.bodiless_context(by.actor())?;
    let outcome =
        grids::manage_worker(&state.services, &ctx, by.0, &grid_id, &worker, action).await?;
    Ok(done(&outcome))
}

/// The grid's admin authorises a bound worker (authorised workers see key persons and all
/// declarations of people visited in the grid).
#[utoipa::path(put, path = "/v1/grids/{grid_id}/workers/{person_id}/authorisation", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid"), ("person_id" = Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Authorised (again: no change)", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the grid's admin (a region admin included)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid, or the person is not bound to it (`grid.not_bound`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn authorise_worker(
    state: web::Data<AppState>,
    by: SignedIn,
    path: web::Path<(String, String)>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    manage(
        &state,
        by,
        path.into_inner(),
        &body,
        WorkerAction::Authorise,
    )
    .await
}

/// The grid's admin revokes a worker's authorisation.
#[utoipa::path(delete, path = "/v1/grids/{grid_id}/workers/{person_id}/authorisation", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid"), ("person_id" = Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked (not authorised: no change)", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the grid's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid, or not bound", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_worker(
    state: web::Data<AppState>,
    by: SignedIn,
    path: web::Path<(String, String)>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    manage(
        &state,
        by,
        path.into_inner(),
        &body,
        WorkerAction::RevokeAuthorisation,
    )
    .await
}

/// The grid's admin unbinds a worker.
#[utoipa::path(delete, path = "/v1/grids/{grid_id}/workers/{person_id}", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid"), ("person_id" = Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the grid's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid, or not bound", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind_worker(
    state: web::Data<AppState>,
    by: SignedIn,
    path: web::Path<(String, String)>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    manage(&state, by, path.into_inner(), &body, WorkerAction::Unbind).await
}

/// A person entered by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualPerson {
    pub name: String,
    /// `{"type","number"}`: resident ID, HK/Macao permit, passport, or a birth certificate
    /// for an infant.
    pub document: crate::routes::feed::DocumentInput,
    pub phone: Option<String>,
    pub address: String,
}

/// `POST /v1/grids/{grid_id}/visits`: a scan made in the grid, or a person entered by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VisitRequest {
    pub scan_id: Option<Uuid>,
    pub manual: Option<ManualPerson>,
    /// °C; gives the band (fever from 37.3).
    pub temperature_c: Option<f64>,
    /// `normal` or `fever`; required without a temperature.
    pub band: Option<String>,
    #[serde(default)]
    pub symptoms: Vec<String>,
    pub notes: Option<String>,
}

/// The visit recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitCreated {
    pub visit_id: Uuid,
}

/// Records a visit (上门核查): on a scan the worker made in the grid within 30 minutes, or a
/// person entered by hand (sealed under the grid's key). Bound workers (authorised or not) of
/// a confirmed grid only.
#[utoipa::path(post, path = "/v1/grids/{grid_id}/visits", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid")),
    request_body = VisitRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Positioned<VisitCreated>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not bound to the grid, or not the worker who scanned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid or scan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The grid is not confirmed yet (`grid.pending`); the scan is of another grid, too old, or already visited", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (each listed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn record_visit(
    state: web::Data<AppState>,
    worker: SignedIn,
    grid_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: VisitRequest = body.parse()?;
    let ctx = body.context(worker.actor())?;
    let input = grids::VisitInput {
        scan_id: request.scan_id,
        manual: request.manual.map(|m| grids::ManualPersonInput {
            name: m.name,
            document: m.document.into(),
            phone: m.phone,
            address: m.address,
        }),
        temperature_c: request.temperature_c,
        band: request.band,
        symptoms: request.symptoms,
        notes: request.notes,
    };
    let outcome = grids::record_visit(&state.services, &ctx, worker.0, &grid_id, &input).await?;
    Ok(created(outcome, |v| VisitCreated {
        visit_id: v.visit_id,
    }))
}

/// `POST /v1/grids/{grid_id}/dissolution`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DissolutionRequest {
    /// The grid's own code, as the explicit confirmation.
    pub confirm_code: String,
}

/// Dissolves the grid (its admin, confirming with its code): irreversible. Everything the grid
/// collected that identifies a person becomes unreadable for everyone (its key is destroyed);
/// its data routes then answer `410 grid.dissolved`; its code is never given out again.
#[utoipa::path(post, path = "/v1/grids/{grid_id}/dissolution", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid")),
    request_body = DissolutionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dissolved (again: no change)", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the grid's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "confirm_code is not the grid's code (`grid.confirm_code`): nothing changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dissolve(
    state: web::Data<AppState>,
    admin: SignedIn,
    grid_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: DissolutionRequest = body.parse()?;
    let ctx = body.context(admin.actor())?;
    let outcome = grids::dissolve(
        &state.services,
        &ctx,
        admin.0,
        &grid_id,
        &request.confirm_code,
    )
    .await?;
    Ok(done(&outcome))
}

/// `POST /v1/grids/{grid_id}/handovers`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HandoverRequest {
    pub successor_name: String,
    /// The successor's document (`{"type","number"}`); they accept signed in with it.
    pub successor_document: crate::routes::feed::DocumentInput,
}

/// A handover token (shown once) and its QR image.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverCreated {
    /// One-time token for the successor; valid 24 hours; a new one voids it.
    pub handover_token: String,
    pub expires_at: String,
    /// The token as an SVG QR image to share with the successor.
    pub qr_svg: String,
    pub position: u64,
}

/// The grid's admin names a successor by name and document and gets a one-time handover
/// token (24 hours), with its QR image.
#[utoipa::path(post, path = "/v1/grids/{grid_id}/handovers", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid")),
    request_body = HandoverRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Token issued", body = HandoverCreated),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the grid's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The grid was dissolved (`grid.dissolved`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or document", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn offer_handover(
    state: web::Data<AppState>,
    admin: SignedIn,
    grid_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: HandoverRequest = body.parse()?;
    let ctx = body.context(admin.actor())?;
    let offered = grids::offer_handover(
        &state.services,
        &ctx,
        admin.0,
        &grid_id,
        &request.successor_name,
        &request.successor_document.kind,
        &request.successor_document.number,
    )
    .await?;
    handover_created(offered, HttpResponse::Created())
}

/// The answer to an offered handover (grid: 201, venue: 200 as API.md has it): the token,
/// shown once, and its QR.
pub(crate) fn handover_created(
    offered: grids::HandoverOffered,
    mut answer: actix_web::HttpResponseBuilder,
) -> Result<HttpResponse, ApiError> {
    let qr_svg = crypto::qr::code_svg(&offered.token, crypto::qr::QrColour::Green)
        .map_err(ApiError::internal)?;
    Ok(answer
        .insert_header(("cache-control", "no-store"))
        .json(HandoverCreated {
            handover_token: offered.token,
            expires_at: domain::week::cst_rfc3339(offered.expires_at),
            qr_svg,
            position: offered.position,
        }))
}

/// `POST /v1/grid-handovers/acceptance`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptanceRequest {
    pub handover_token: String,
}

/// The successor, signed in with the named document, accepts a handover and becomes the
/// grid's admin.
#[utoipa::path(post, path = "/v1/grid-handovers/acceptance", tag = "grids",
    request_body = AcceptanceRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Accepted: the caller administers the grid", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The token names another person", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Token invalid, used, replaced (`handover.invalid_token`) or expired (`handover.expired`); or the caller already administers a grid (`grid.successor_has_grid`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The grid was dissolved", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept_handover(
    state: web::Data<AppState>,
    successor: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: AcceptanceRequest = body.parse()?;
    let ctx = body.context(successor.actor())?;
    let outcome =
        grids::accept_handover(&state.services, &ctx, successor.0, &request.handover_token).await?;
    Ok(done(&outcome))
}

/// All health declarations of a person visited in the grid (newest first, health facts only),
/// for the grid's admin and its authorised workers; recorded in the person's access log.
#[utoipa::path(get, path = "/v1/grids/{grid_id}/persons/{person_id}/declarations", tag = "grids",
    params(
        ("grid_id" = Uuid, Path, description = "The grid"),
        ("person_id" = Uuid, Path, description = "A person visited in the grid"),
        crate::paging::PageQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Declarations", body = crate::paging::PageView<serde_json::Value>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither the grid's admin nor an authorised worker", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid, or the person was not visited in it (`grid.not_visited`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The grid was dissolved", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = crate::paging::BadPage),
    ))]
pub async fn person_declarations(
    query: web::Query<crate::paging::PageQuery>,
    state: web::Data<AppState>,
    viewer: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<web::Json<crate::paging::PageView<serde_json::Value>>, ApiError> {
    let (grid_id, person) = path.into_inner();
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page =
        grids::person_declarations(&state.services, viewer.0, &grid_id, &person, page).await?;
    Ok(web::Json(crate::paging::PageView::of(page, |d| d)))
}

/// One key person of a grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyPersonView {
    /// The registered person, when known.
    pub person_id: Option<Uuid>,
    /// `张*强`
    pub name_masked: String,
    /// `139****5678`, empty when unknown.
    pub phone_masked: String,
    /// Why they are listed: `发热` or `有症状` from a visit in the last 14 days, and the labels
    /// of active red reasons whose feed region lies inside the grid's region.
    pub reason_labels: Vec<String>,
    /// The latest visit or red hit that lists them.
    pub since: String,
}

/// The grid's key persons, newest first: visited with a fever or symptoms in the last 14
/// days, or red-coded with a feed region inside the grid's region; for the grid's admin and
/// its authorised workers.
#[utoipa::path(get, path = "/v1/grids/{grid_id}/key-persons", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid"), crate::paging::PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Key persons", body = crate::paging::PageView<KeyPersonView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither the grid's admin nor an authorised worker", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The grid was dissolved", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = crate::paging::BadPage),
    ))]
pub async fn key_persons(
    query: web::Query<crate::paging::PageQuery>,
    state: web::Data<AppState>,
    viewer: SignedIn,
    grid_id: web::Path<String>,
) -> Result<web::Json<crate::paging::PageView<KeyPersonView>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = grids::key_persons(&state.services, viewer.0, &grid_id, page).await?;
    Ok(web::Json(crate::paging::PageView::of(page, |p| {
        KeyPersonView {
            person_id: p.person_id.map(|id| id.as_uuid()),
            name_masked: p.name_masked,
            phone_masked: p.phone_masked,
            reason_labels: p.reason_labels,
            since: domain::week::cst_rfc3339(p.since),
        }
    })))
}
