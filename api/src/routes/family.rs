//! Family members: a guardian adds a member (verified by the member's own assertion or, for a
//! minor, a household or birth-certificate match), lists, removes, and shows their code.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use services::citizens::{self, FamilyMember, MemberAdded};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{created, done, MinPosition, PositionView, Positioned, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::paging::{BadPage, PageQuery, PageView};
use crate::routes::me::CodeView;
use crate::state::AppState;

/// `POST /v1/me/family`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMemberRequest {
    /// The member's own identity assertion (face), or a household or birth-certificate match
    /// asserted by the provider for a minor.
    pub assertion: String,
    /// `child`, `parent`, `spouse`, `grandparent`, `grandchild`, `sibling` or `other`.
    pub relation: String,
}

/// The member added.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberAddedView {
    pub person_id: Uuid,
}

impl From<MemberAdded> for MemberAddedView {
    fn from(added: MemberAdded) -> Self {
        MemberAddedView {
            person_id: added.person_id.as_uuid(),
        }
    }
}

/// Adds a family member (registering them if new).
#[utoipa::path(post, path = "/v1/me/family", tag = "family", request_body = AddMemberRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = Positioned<MemberAddedView>),
        (status = 401, description = "No session, or the member's assertion is refused or replayed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member (`family.already_member`) or oneself (`family.self`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad relation, document, or a household match for an adult", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_family_member(
    state: web::Data<AppState>,
    guardian: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: AddMemberRequest = body.parse()?;
    let ctx = body.context(guardian.actor())?;
    let outcome = citizens::add_family_member(
        &state.services,
        &ctx,
        guardian.0,
        &request.assertion,
        &request.relation,
    )
    .await?;
    Ok(created(outcome, MemberAddedView::from))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyMemberView {
    pub person_id: Uuid,
    /// The member's name, masked (`张*强`).
    pub name_masked: String,
    pub relation: String,
}

impl From<FamilyMember> for FamilyMemberView {
    fn from(m: FamilyMember) -> Self {
        FamilyMemberView {
            person_id: m.person_id,
            name_masked: m.name_masked,
            relation: m.relation,
        }
    }
}

/// The caller's family members, names masked.
#[utoipa::path(get, path = "/v1/me/family", tag = "family", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Members", body = PageView<FamilyMemberView>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = BadPage),
    ))]
pub async fn list_family(
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
    SignedIn(guardian): SignedIn,
) -> Result<web::Json<PageView<FamilyMemberView>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let members = citizens::family(&state.services, guardian, page).await?;
    Ok(web::Json(PageView::of(members, FamilyMemberView::from)))
}

/// Removes a family member.
#[utoipa::path(delete, path = "/v1/me/family/{person_id}", tag = "family",
    params(("person_id" = Uuid, Path, description = "The member")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "Not a family member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_family_member(
    state: web::Data<AppState>,
    guardian: SignedIn,
    member: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let ctx = body.bodiless_context(guardian.actor())?;
    let outcome =
        citizens::remove_family_member(&state.services, &ctx, guardian.0, &member).await?;
    Ok(done(&outcome))
}

/// A family member's code (the look is recorded in the member's access log).
#[utoipa::path(get, path = "/v1/me/family/{person_id}/code", tag = "family",
    params(("person_id" = Uuid, Path, description = "The member"), MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member's code", body = CodeView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "Not a family member", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn family_member_code(
    query: web::Query<MinPosition>,
    state: web::Data<AppState>,
    SignedIn(guardian): SignedIn,
    member: web::Path<String>,
) -> Result<web::Json<CodeView>, ApiError> {
    let member = citizens::person_id(&member)?;
    state.wait_for(query.min_position).await?;
    Ok(web::Json(
        citizens::member_code(&state.services, guardian, member)
            .await?
            .into(),
    ))
}
