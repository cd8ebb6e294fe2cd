//! A venue's poster (葵花码, token and QR image) and quick check-ins with it.

use actix_web::{web, HttpResponse};
use crypto::qr;
use serde::{Deserialize, Serialize};
use services::venues;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Poster {
    /// The signed poster token (葵花码) citizens scan to check in.
    pub token: String,
}

/// The venue's quick check-in poster token (admin and bound inspectors).
#[utoipa::path(get, path = "/v1/venues/{venue_id}/poster", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The poster token", body = Poster),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither the admin nor a bound inspector", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn poster(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<web::Json<Poster>, ApiError> {
    Ok(web::Json(Poster {
        token: venues::poster(&state.services, person, &venue_id).await?,
    }))
}

/// The poster as a QR image to print.
#[utoipa::path(get, path = "/v1/venues/{venue_id}/poster.svg", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "SVG image", content_type = "image/svg+xml", body = String),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Neither the admin nor a bound inspector", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn poster_svg(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = venues::poster(&state.services, person, &venue_id).await?;
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

/// The check-in recorded, and the venue's name to show.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInCreated {
    pub check_id: Uuid,
    pub venue_name: String,
}

impl From<venues::CheckedIn> for CheckInCreated {
    fn from(c: venues::CheckedIn) -> Self {
        CheckInCreated {
            check_id: c.check_id,
            venue_name: c.venue_name,
        }
    }
}

/// Quick check-in with a venue's poster, band normal, for oneself or a family member.
#[utoipa::path(post, path = "/v1/checkins", tag = "venues", request_body = CheckInRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Checked in", body = Positioned<CheckInCreated>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "`subject_id` is not a member of the caller's family", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The poster's venue does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Forged or altered poster (`code_token.*`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check_in(
    SignedIn(actor): SignedIn,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    state.services.limiter.take(
        services::limits::Action::CheckIn,
        &actor.to_string(),
        state.services.now(),
    )?;
    let request: CheckInRequest = body.parse()?;
    let ctx = body.context(services::auth::person_actor(actor))?;
    let outcome = venues::check_in(
        &state.services,
        &ctx,
        actor,
        &request.poster_token,
        request.subject_id,
    )
    .await?;
    Ok(created(outcome, CheckInCreated::from))
}
