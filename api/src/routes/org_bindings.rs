//! Members' bindings to organisations by declaration code: binding (oneself or a family
//! member), the organisations one is bound to, unbinding.

use actix_web::{web, HttpResponse};
use domain::week::cst_rfc3339;
use serde::{Deserialize, Serialize};
use services::orgs;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{binding, done, Binding, PositionView, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::paging::{BadPage, PageQuery, PageView};
use crate::state::AppState;

/// `POST /v1/org-bindings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BindRequest {
    /// The organisation's declaration code.
    pub code: String,
    /// Bind a member of the caller's family instead of the caller.
    pub subject_id: Option<Uuid>,
}

/// The organisation bound.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoundView {
    pub org_id: Uuid,
}

/// Binds the caller to the organisation of a declaration code (many orgs per member).
/// Binding again is a no-op answered `200`.
#[utoipa::path(post, path = "/v1/org-bindings", tag = "organisations", request_body = BindRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Bound", body = Binding<BoundView>),
        (status = 200, description = "Already bound: nothing changed", body = Binding<BoundView>),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "`subject_id` is not a member of the caller's family", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No organisation has this code (`org.unknown_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed or mistyped code, or a venue or grid code (`code.wrong_kind`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bind(
    SignedIn(person): SignedIn,
    client: crate::extract::ClientAddress,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: BindRequest = body.parse()?;
    let ctx = body.context(services::auth::person_actor(person))?;
    let outcome = services::limits::binding(
        &state.services,
        person,
        &client.0,
        orgs::bind(
            &state.services,
            &ctx,
            person,
            request.subject_id,
            &request.code,
        ),
    )
    .await?;
    Ok(binding(outcome, |b| BoundView { org_id: b.org_id }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrg {
    pub org_id: String,
    pub name: String,
    pub code: String,
    pub bound_at: String,
}

/// The organisations the caller is bound to, oldest binding first.
#[utoipa::path(get, path = "/v1/me/orgs", tag = "organisations", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Bound organisations", body = PageView<MyOrg>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = BadPage),
    ))]
pub async fn my_orgs(
    query: web::Query<PageQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
) -> Result<web::Json<PageView<MyOrg>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = orgs::my_orgs(&state.services, person, page).await?;
    Ok(web::Json(PageView::of(page, |r| MyOrg {
        bound_at: cst_rfc3339(r.bound_at),
        org_id: r.org_id,
        name: r.name,
        code: r.code,
    })))
}

/// Unbinds the caller from an organisation.
#[utoipa::path(delete, path = "/v1/me/orgs/{org_id}", tag = "organisations",
    params(("org_id" = Uuid, Path, description = "The organisation")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "Not bound (`org.not_bound`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    org_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let ctx = body.bodiless_context(services::auth::person_actor(person))?;
    let outcome = orgs::unbind(&state.services, &ctx, person, &org_id).await?;
    Ok(done(&outcome))
}
