//! Scans of a citizen's code by a bound inspector (masked name and phone, colour, reasons),
//! the scanned person's latest declaration, and temperature checks on a scan.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::{scan_declarations, venues};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, ok, MinPosition, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::state::AppState;

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
    /// The active red reasons' labels: for a fresh code only (empty for an old one, such as
    /// a photo: colour and masked identity alone).
    pub reason_labels: Vec<String>,
    /// Whether the code shown was issued within the last few minutes and not reset since:
    /// only then may a check, a visit or a declaration view follow (`409
    /// scan.code_not_fresh`).
    pub fresh: bool,
    /// Medical scans only (staff are a government role): the name in clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Medical scans only: the phone in clear (empty when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Medical scans only: each active reason with its label, since when and its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<ScannedReason>>,
}

/// An active red reason as medical staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScannedReason {
    /// `close_contact`, …
    pub reason: String,
    /// The guide's label (`密切接触者`).
    pub label: String,
    /// RFC 3339, China Standard Time.
    pub since: String,
    /// The feed record that set it.
    pub source: String,
}

impl From<venues::ScanAnswer> for ScanAnswer {
    fn from(a: venues::ScanAnswer) -> Self {
        ScanAnswer {
            scan_id: a.scan_id,
            person_id: a.person_id,
            name_masked: a.name_masked,
            phone_masked: a.phone_masked,
            colour: a.colour.as_str().into(),
            reason_labels: a.reason_labels,
            fresh: a.fresh,
            name: a.name,
            phone: a.phone,
            reasons: a.reasons.map(|reasons| {
                reasons
                    .into_iter()
                    .map(|r| ScannedReason {
                        reason: r.reason.as_str().into(),
                        label: r.reason.label().into(),
                        since: domain::week::cst_rfc3339(r.since),
                        source: r.source,
                    })
                    .collect()
            }),
        }
    }
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
/// recorded in the citizen's access log. With `{"medical": true}`, by granted medical staff:
/// also the name and phone in clear and each reason with since and source.
#[utoipa::path(post, path = "/v1/scans", tag = "venues", request_body = ScanRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the scanner sees", body = Positioned<ScanAnswer>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "The scanner has no right in this context (not an inspector bound to the venue, a worker of the grid, or granted medical staff)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The code names nobody registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Forged or altered code (`code_token.*`), a code its holder reset since it was issued (`code_token.reset`), or a bad context", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scan(
    SignedIn(scanner): SignedIn,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    state.services.limiter.take(
        services::limits::Action::Scan,
        &scanner.to_string(),
        state.services.now(),
    )?;
    let request: ScanRequest = body.parse()?;
    let ctx = body.context(services::auth::person_actor(scanner))?;
    let place = venues::ScanPlace {
        venue_id: request.context.venue_id,
        grid_id: request.context.grid_id,
        medical: request.context.medical,
    };
    let outcome = venues::scan(&state.services, &ctx, scanner, &request.token, place).await?;
    Ok(ok(outcome, ScanAnswer::from))
}

/// The latest health declaration of the person a scan names (at a venue or in a grid): to
/// the same scanner only, still bound, within 30 minutes of the scan. The access is recorded.
#[utoipa::path(get, path = "/v1/scans/{scan_id}/declaration", tag = "venues",
    params(("scan_id" = Uuid, Path, description = "The scan"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The latest declaration", body = Object),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the scanner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown scan, or no declaration (`declaration.none`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The scan is older than 30 minutes (`scan.expired`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The scan's grid is dissolved", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scan_declaration(
    query: web::Query<MinPosition>,
    SignedIn(scanner): SignedIn,
    state: web::Data<AppState>,
    scan_id: web::Path<String>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let view = scan_declarations::permit(&state.services, scanner, &scan_id).await?;
    state.wait_for(query.min_position).await?;
    Ok(web::Json(
        scan_declarations::declaration(&state.services, view).await?,
    ))
}

/// `POST /v1/venues/{id}/checks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckRequest {
    pub scan_id: Uuid,
    /// `normal` or `fever`.
    pub band: String,
}

/// The check recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckCreated {
    pub check_id: Uuid,
}

/// Records a temperature check for a scan (the same inspector, this venue, within 30
/// minutes, once per scan). Immutable: a later check supersedes it for the fever figures.
#[utoipa::path(post, path = "/v1/venues/{venue_id}/checks", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    request_body = CheckRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = Positioned<CheckCreated>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the inspector who scanned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown scan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Scan of another venue, too old, or already checked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad band", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check(
    SignedIn(inspector): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let permit = venues::permit_check(&state.services, &venue_id, inspector).await?;
    let request: CheckRequest = body.parse()?;
    let ctx = body.context(services::auth::person_actor(inspector))?;
    let outcome = venues::record_check(
        &state.services,
        &ctx,
        permit,
        request.scan_id,
        &request.band,
    )
    .await?;
    Ok(created(outcome, |c| CheckCreated {
        check_id: c.check_id,
    }))
}
