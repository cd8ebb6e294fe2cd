//! Person-held auditor and analyst roles, granted and revoked by the province admin beside the
//! service accounts: the person uses the audit and analysis routes with their own session.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::{province, role_grants};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, done, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::routes::feed::DocumentInput;
use crate::state::AppState;

/// `POST /v1/role-grants`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleGrantRequest {
    /// The document the person signed in with; they must have signed in once.
    pub document: DocumentInput,
    /// `auditor` or `analyst`.
    pub role: String,
}

/// The role granted.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleGrantedView {
    pub person_id: Uuid,
    pub role: String,
}

/// Grants the auditor or analyst role to a person (the province admin only).
#[utoipa::path(post, path = "/v1/role-grants", tag = "roles",
    request_body = RoleGrantRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Granted", body = Positioned<RoleGrantedView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nobody signed in with the document (`person.unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already held (`role.already_granted`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad document, or a role other than auditor and analyst (`role.unknown`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn grant(
    state: web::Data<AppState>,
    by: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let permit = province::permit(&state.services, by.0).await?;
    let request: RoleGrantRequest = body.parse()?;
    let ctx = body.context(by.actor())?;
    let document = services::feed::DocumentInput {
        kind: request.document.kind,
        number: request.document.number,
    };
    let outcome =
        role_grants::grant(&state.services, &ctx, &permit, &document, &request.role).await?;
    Ok(created(outcome, |g| RoleGrantedView {
        person_id: g.person_id.as_uuid(),
        role: g.role.as_str().into(),
    }))
}

/// Revokes a person's auditor or analyst role (the province admin only); it stops working at
/// once.
#[utoipa::path(delete, path = "/v1/role-grants/{person_id}/{role}", tag = "roles",
    params(("person_id" = Uuid, Path, description = "The person"), ("role" = String, Path, description = "`auditor` or `analyst`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The person does not hold the role (`role.not_granted`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A role other than auditor and analyst (`role.unknown`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    by: SignedIn,
    path: web::Path<(String, String)>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let permit = province::permit(&state.services, by.0).await?;
    let (person, role) = path.into_inner();
    let ctx = body.bodiless_context(by.actor())?;
    let outcome = role_grants::revoke(&state.services, &ctx, &permit, &person, &role).await?;
    Ok(done(&outcome))
}
