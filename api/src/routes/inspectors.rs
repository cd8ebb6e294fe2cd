//! Inspectors: binding to a venue by its code, the venues one inspects and one's own counts
//! there, unbinding oneself, and the admin's list and unbinding of a venue's inspectors.

use actix_web::{web, HttpResponse};
use domain::week::cst_rfc3339;
use serde::{Deserialize, Serialize};
use services::calendar::asked_day;
use services::venues::{self, AdminAction};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{binding, done, Binding, PositionView, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::paging::{BadPage, PageQuery, PageView};
use crate::routes::venues::StatsQuery;
use crate::state::AppState;

/// `POST /v1/venue-bindings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VenueBindRequest {
    /// The venue code.
    pub code: String,
}

/// The venue bound.
#[derive(Debug, Serialize, ToSchema)]
pub struct VenueBoundView {
    pub venue_id: Uuid,
}

/// Binds the caller as an inspector of the venue of a venue code (many venues per
/// inspector, many inspectors per venue; the admin may bind too). Again: `200`, no change.
#[utoipa::path(post, path = "/v1/venue-bindings", tag = "venues", request_body = VenueBindRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Bound", body = Binding<VenueBoundView>),
        (status = 200, description = "Already bound: nothing changed", body = Binding<VenueBoundView>),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "No venue has this code (`venue.unknown_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed or mistyped code, or an org or grid code (`code.wrong_kind`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bind(
    SignedIn(person): SignedIn,
    client: crate::extract::ClientAddress,
    state: web::Data<AppState>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: VenueBindRequest = body.parse()?;
    let ctx = body.context(services::auth::person_actor(person))?;
    let outcome = services::limits::binding(
        &state.services,
        person,
        &client.0,
        venues::bind(&state.services, &ctx, person, &request.code),
    )
    .await?;
    Ok(binding(outcome, |b| VenueBoundView {
        venue_id: b.venue_id,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyVenue {
    pub venue_id: String,
    pub name: String,
    pub code: String,
    pub region: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub bound_at: String,
}

/// The venues the caller inspects, oldest binding first.
#[utoipa::path(get, path = "/v1/me/venues", tag = "venues", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Venues inspected", body = PageView<MyVenue>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = BadPage),
    ))]
pub async fn my_venues(
    query: web::Query<PageQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
) -> Result<web::Json<PageView<MyVenue>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = venues::my_venues(&state.services, person, page).await?;
    Ok(web::Json(PageView::of(page, |r| MyVenue {
        bound_at: cst_rfc3339(r.bound_at),
        venue_id: r.venue_id,
        name: r.name,
        code: r.code,
        region: r.region,
        kind: r.kind,
    })))
}

/// Unbinds the caller from a venue they inspect.
#[utoipa::path(delete, path = "/v1/me/venues/{venue_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "Not bound (`venue.not_bound`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind_self(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let ctx = body.bodiless_context(services::auth::person_actor(person))?;
    let outcome = venues::unbind_self(&state.services, &ctx, person, &venue_id).await?;
    Ok(done(&outcome))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectorView {
    pub person_id: String,
    /// The inspector's name, masked (`张*强`).
    pub name_masked: String,
    pub bound_at: String,
}

/// The venue's inspectors (admin only), names masked, oldest binding first.
#[utoipa::path(get, path = "/v1/venues/{venue_id}/inspectors", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Inspectors", body = PageView<InspectorView>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = BadPage),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inspectors(
    query: web::Query<PageQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<web::Json<PageView<InspectorView>>, ApiError> {
    let admin = venues::authorize_admin(
        &state.services,
        &venue_id,
        person,
        AdminAction::ListInspectors,
    )
    .await?;
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = venues::inspectors(&state.services, &admin, page).await?;
    Ok(web::Json(PageView::of(page, |i| InspectorView {
        person_id: i.person_id,
        name_masked: i.name_masked,
        bound_at: cst_rfc3339(i.bound_at),
    })))
}

/// The admin unbinds an inspector.
#[utoipa::path(delete, path = "/v1/venues/{venue_id}/inspectors/{person_id}", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), ("person_id" = Uuid, Path, description = "The inspector")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown venue, or not an inspector of it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind_inspector(
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let (venue_id, inspector) = path.into_inner();
    let admin = venues::authorize_admin(
        &state.services,
        &venue_id,
        person,
        AdminAction::UnbindInspectors,
    )
    .await?;
    let ctx = body.bodiless_context(services::auth::person_actor(person))?;
    let outcome = venues::unbind_inspector(&state.services, &ctx, admin, &inspector).await?;
    Ok(done(&outcome))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyVenueStats {
    pub venue_id: String,
    pub date: String,
    /// The caller's checks at the venue today.
    pub today: i64,
    /// The caller's checks at the venue in all.
    pub total: i64,
}

/// An inspector's own counts at a venue.
#[utoipa::path(get, path = "/v1/me/venues/{venue_id}/stats", tag = "venues",
    params(("venue_id" = Uuid, Path, description = "The venue"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Own counts", body = MyVenueStats),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not an inspector of the venue", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_stats(
    query: web::Query<StatsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    venue_id: web::Path<String>,
) -> Result<web::Json<MyVenueStats>, ApiError> {
    let inspector = venues::authorize_inspector(&state.services, &venue_id, person).await?;
    let date = asked_day(query.date.as_deref(), state.clock.now())?;
    state.wait_for(query.min_position).await?;
    let (today, total) = venues::my_stats(&state.services, inspector, date).await?;
    Ok(web::Json(MyVenueStats {
        venue_id: inspector.venue_id.to_string(),
        date: date.to_string(),
        today,
        total,
    }))
}
