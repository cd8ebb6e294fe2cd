//! `POST /v1/sessions`: logging in with an identity assertion (the first login registers).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::CommandBody;
use crate::state::AppState;

/// `POST /v1/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionRequest {
    /// An identity assertion (EdDSA-signed JWT) from a trusted identity provider.
    pub assertion: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    /// Bearer token for the citizen routes.
    pub token: String,
    pub person_id: Uuid,
    pub expires_at: String,
    /// Whether this login registered the person.
    pub registered: bool,
    pub position: u64,
}

/// Logs in with an identity assertion; the first login registers the person, and a new
/// document of a subject the provider verified before joins that person.
#[utoipa::path(post, path = "/v1/sessions", tag = "citizens",
    request_body = SessionRequest,
    responses(
        (status = 201, description = "Logged in", body = SessionCreated),
        (status = 401, description = "Assertion tampered, expired, from an untrusted key, or already used", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "identity.subject_conflict: the document is registered to another person than the provider's subject", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The asserted document, name or phone is invalid", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_session(
    state: web::Data<AppState>,
    client: crate::extract::ClientAddress,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    state.services.limiter.take(
        services::limits::Action::SignIn,
        &client.0,
        state.services.now(),
    )?;
    let request: SessionRequest = body.parse()?;
    let session = services::citizens::log_in(&state.services, &request.assertion).await?;
    // Usually the session is usable at once because the read models include the
    // registration; if they lag, the session is still issued (the assertion is spent) and
    // clients use `min_position` as everywhere else.
    let _caught_up = state.wait_for(Some(session.position)).await.is_ok();
    Ok(HttpResponse::Created().json(SessionCreated {
        token: session.token,
        person_id: session.person_id.as_uuid(),
        expires_at: rfc3339_utc(session.expires_at),
        registered: session.registered,
        position: session.position,
    }))
}

/// An instant as RFC 3339 in its own offset (session expiries are shown in UTC).
fn rfc3339_utc(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Signs out: the session token stops working at once (`401 session.ended` from then on); the
/// person's other sessions go on.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "citizens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed out", body = crate::answer::PositionView),
        (status = 401, response = crate::answer::Unauthenticated),
    ))]
pub async fn sign_out(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = crate::extract::bearer(&req).ok_or(ApiError::Unauthenticated)?;
    let position = services::citizens::sign_out(&state.services, &token).await?;
    Ok(HttpResponse::Ok().json(crate::answer::PositionView { position }))
}
