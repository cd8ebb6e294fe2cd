//! The signed-in person's own data and roles, and their health code (JSON and QR image).

use actix_web::{web, HttpResponse};
use crypto::qr;
use domain::health_code::Colour;
use domain::week::cst_rfc3339;
use serde::Serialize;
use services::citizens::{self, HealthCode};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{MinPosition, Unauthenticated};
use crate::error::ApiError;
use crate::extract::SignedIn;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// `citizen`, `guardian`, `org_admin`, `org_member`, `venue_admin`, `venue_inspector`,
    /// `grid_admin`, `grid_worker`, `region_admin`.
    pub role: String,
    /// What the role covers (a region code), when it is scoped.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub person_id: Uuid,
    /// Null once the person's data key was shredded.
    pub name: Option<String>,
    pub phone: Option<String>,
    pub document: Option<DocumentView>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub roles: Vec<RoleView>,
}

/// The logged-in person, unmasked, with the roles the log gives them.
#[utoipa::path(get, path = "/v1/me", tag = "citizens", params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Own data", body = Me),
        (status = 401, response = Unauthenticated),
    ))]
pub async fn me(
    query: web::Query<MinPosition>,
    state: web::Data<AppState>,
    SignedIn(person): SignedIn,
) -> Result<web::Json<Me>, ApiError> {
    state.wait_for(query.min_position).await?;
    let me = citizens::me(&state.services, person).await?;
    Ok(web::Json(Me {
        person_id: me.person_id.as_uuid(),
        name: me.profile.as_ref().map(|p| p.name.clone()),
        phone: me.profile.as_ref().and_then(|p| p.phone.clone()),
        document: me.profile.map(|p| DocumentView {
            kind: p.document_type,
            number: p.document_number,
        }),
        sex: me.sex.map(|s| s.as_str().to_owned()),
        birth_date: me.birth_date.map(|d| d.to_string()),
        roles: me
            .roles
            .into_iter()
            .map(|r| RoleView {
                role: r.role.into(),
                scope: r.scope,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    /// The red reason's wire name.
    pub reason: String,
    /// Its label as shown on the code.
    pub label: String,
    pub since: String,
    /// The feed record it came from.
    pub source: String,
    /// How it is released.
    pub guidance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeView {
    pub person_id: Uuid,
    /// The signed QR payload, issued now: valid long-term for the colour and the masked
    /// identity (the colour is resolved when scanned); for reason labels, checks and
    /// declaration views it must be fresh (issued within the last few minutes), so apps fetch
    /// it again when showing it.
    pub token: String,
    /// `green` or `red`.
    pub colour: String,
    pub reasons: Vec<ReasonView>,
}

impl From<HealthCode> for CodeView {
    fn from(code: HealthCode) -> Self {
        CodeView {
            person_id: code.person_id.as_uuid(),
            token: code.token,
            colour: code.colour.as_str().into(),
            reasons: code
                .reasons
                .into_iter()
                .map(|r| ReasonView {
                    reason: r.reason.as_str().into(),
                    label: r.reason.label().into(),
                    since: cst_rfc3339(r.since),
                    source: r.source,
                    guidance: r.reason.guidance().into(),
                })
                .collect(),
        }
    }
}

/// Own health code: token, colour, red reasons with release guidance.
#[utoipa::path(get, path = "/v1/me/code", tag = "citizens", params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The code", body = CodeView),
        (status = 401, response = Unauthenticated),
    ))]
pub async fn my_code(
    query: web::Query<MinPosition>,
    state: web::Data<AppState>,
    SignedIn(person): SignedIn,
) -> Result<web::Json<CodeView>, ApiError> {
    state.wait_for(query.min_position).await?;
    Ok(web::Json(
        citizens::health_code(&state.services, person).await?.into(),
    ))
}

/// Resets own code: every code token issued before is refused from then on
/// (`422 code_token.reset`), so a photographed or shared code stops working; the code fetched
/// next works.
#[utoipa::path(post, path = "/v1/me/code/reset", tag = "citizens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Reset", body = crate::answer::PositionView),
        (status = 401, response = Unauthenticated),
    ))]
pub async fn reset_code(
    state: web::Data<AppState>,
    by: SignedIn,
    body: crate::extract::CommandBody,
) -> Result<HttpResponse, ApiError> {
    let ctx = body.bodiless_context(by.actor())?;
    let outcome = citizens::reset_code(&state.services, &ctx, by.0).await?;
    Ok(crate::answer::done(&outcome))
}

/// Own health code as a QR image coloured by the current colour.
#[utoipa::path(get, path = "/v1/me/code.svg", tag = "citizens", params(MinPosition),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "SVG image", content_type = "image/svg+xml", body = String),
        (status = 401, response = Unauthenticated),
    ))]
pub async fn my_code_svg(
    query: web::Query<MinPosition>,
    state: web::Data<AppState>,
    SignedIn(person): SignedIn,
) -> Result<HttpResponse, ApiError> {
    state.wait_for(query.min_position).await?;
    let code = citizens::health_code(&state.services, person).await?;
    let colour = match code.colour {
        Colour::Green => qr::QrColour::Green,
        Colour::Red => qr::QrColour::Red,
    };
    let svg = qr::code_svg(&code.token, colour).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "no-store"))
        .body(svg))
}
