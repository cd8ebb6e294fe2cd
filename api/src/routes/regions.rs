//! Region admins: the admin of a region appoints and revokes the admins of the regions it
//! directly encloses.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::regions::{self, Appointed};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, done, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::routes::feed::DocumentInput;
use crate::state::AppState;

/// `POST /v1/regions/{region}/admins`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppointRequest {
    /// The appointee's document (`{"type","number"}`); they must have signed in once.
    pub document: DocumentInput,
    /// The appointee's name.
    pub name: String,
}

/// The admin appointed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointedView {
    pub region: String,
    pub person_id: Uuid,
}

impl From<Appointed> for AppointedView {
    fn from(a: Appointed) -> Self {
        AppointedView {
            region: a.region,
            person_id: a.person_id.as_uuid(),
        }
    }
}

/// Appoints the admin of a region: by the admin of the region that directly encloses it (the
/// province for a city, a city for its counties and, in Dongguan and Zhongshan, its towns, a
/// county for its towns).
#[utoipa::path(post, path = "/v1/regions/{region}/admins", tag = "regions",
    params(("region" = String, Path, description = "Division code (4, 6 or 9 digits)")),
    request_body = AppointRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appointed (the same appointment again changes nothing and answers alike)", body = Positioned<AppointedView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin of the enclosing region", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such division (`region.unknown`), or nobody signed in with the document (`person.unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The region already has another admin (`region.admin_already_appointed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed region code, document or name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn appoint_admin(
    state: web::Data<AppState>,
    by: SignedIn,
    region: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: AppointRequest = body.parse()?;
    let ctx = body.context(by.actor())?;
    let outcome = regions::appoint_admin(
        &state.services,
        &ctx,
        by.0,
        &region,
        &request.document.kind,
        &request.document.number,
        &request.name,
    )
    .await?;
    Ok(created(outcome, AppointedView::from))
}

/// Revokes the admin of a region: by the admin of the enclosing region.
#[utoipa::path(delete, path = "/v1/regions/{region}/admins/{person_id}", tag = "regions",
    params(("region" = String, Path, description = "Division code"), ("person_id" = Uuid, Path, description = "The admin")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin of the enclosing region", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such division, no admin (`region.no_admin`), or another admin (`region.not_the_admin`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_admin(
    state: web::Data<AppState>,
    by: SignedIn,
    path: web::Path<(String, String)>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let (region, person) = path.into_inner();
    let ctx = body.bodiless_context(by.actor())?;
    let outcome = regions::revoke_admin(&state.services, &ctx, by.0, &region, &person).await?;
    Ok(done(&outcome))
}
