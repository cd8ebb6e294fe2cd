//! The medical-staff roster, kept by the province admin: grant (name, phone, unit, position and
//! the document the person signed in with), revoke, list.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::medical::{self, Granted, RosterEntry, StaffInput};
use services::province;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, done, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::paging::{BadPage, PageQuery, PageView};
use crate::routes::feed::DocumentInput;
use crate::state::AppState;

/// `POST /v1/medical-staff` (表5-2: every field required).
#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantRequest {
    /// The document the person signed in with; they must have signed in once.
    pub document: DocumentInput,
    /// The name the roster lists.
    pub name: String,
    /// A mainland mobile number.
    pub phone: String,
    /// The unit (单位名称), 1 to 100 characters.
    pub unit: String,
    /// The position (职位), 1 to 100 characters.
    pub position: String,
}

/// The person granted.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantedView {
    pub person_id: Uuid,
}

impl From<Granted> for GrantedView {
    fn from(g: Granted) -> Self {
        GrantedView {
            person_id: g.person_id.as_uuid(),
        }
    }
}

/// Grants the medical-staff permission (the province admin only): the person may then scan
/// codes as medical staff and issue release notices.
#[utoipa::path(post, path = "/v1/medical-staff", tag = "medical",
    request_body = GrantRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Granted", body = Positioned<GrantedView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nobody signed in with the document (`person.unknown`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already granted (`medical.already_granted`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad document, name, phone, unit or position, each named", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn grant(
    state: web::Data<AppState>,
    by: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let permit = province::permit(&state.services, by.0).await?;
    let request: GrantRequest = body.parse()?;
    let ctx = body.context(by.actor())?;
    let input = StaffInput {
        document: services::feed::DocumentInput {
            kind: request.document.kind,
            number: request.document.number,
        },
        name: request.name,
        phone: request.phone,
        unit: request.unit,
        position: request.position,
    };
    let outcome = medical::grant_staff(&state.services, &ctx, &permit, &input).await?;
    Ok(created(outcome, GrantedView::from))
}

/// Revokes the medical-staff permission (the province admin only): from this commit on, the
/// person's medical scans and notices are refused.
#[utoipa::path(delete, path = "/v1/medical-staff/{person_id}", tag = "medical",
    params(("person_id" = Uuid, Path, description = "The staff member")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The person holds no permission (`medical.not_staff`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    by: SignedIn,
    person: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let permit = province::permit(&state.services, by.0).await?;
    let ctx = body.bodiless_context(by.actor())?;
    let outcome = medical::revoke_staff(&state.services, &ctx, &permit, &person).await?;
    Ok(done(&outcome))
}

/// A staff member on the roster (the province admin sees name and phone unmasked).
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffView {
    pub person_id: String,
    pub name: String,
    pub phone: String,
    pub unit: String,
    pub position: String,
    /// RFC 3339, China Standard Time.
    pub granted_at: String,
}

impl From<RosterEntry> for StaffView {
    fn from(e: RosterEntry) -> Self {
        StaffView {
            person_id: e.person_id,
            name: e.name,
            phone: e.phone,
            unit: e.unit,
            position: e.position,
            granted_at: domain::week::cst_rfc3339(e.granted_at),
        }
    }
}

/// The roster: granted staff in the order they were granted (the province admin only).
#[utoipa::path(get, path = "/v1/medical-staff", tag = "medical",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The roster", body = PageView<StaffView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the province admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = BadPage),
    ))]
pub async fn roster(
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
    by: SignedIn,
) -> Result<web::Json<PageView<StaffView>>, ApiError> {
    let permit = province::permit(&state.services, by.0).await?;
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = medical::roster(&state.services, &permit, page).await?;
    Ok(web::Json(PageView::of(page, StaffView::from)))
}
