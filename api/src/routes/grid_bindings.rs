//! Grid workers' own bindings: binding with a grid code, the grids one is bound to (the
//! current one marked), choosing the current grid, unbinding oneself.

use actix_web::{web, HttpResponse};
use domain::week::cst_rfc3339;
use serde::{Deserialize, Serialize};
use services::grids;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::answer::{binding, done, Binding, PositionView, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::{CommandBody, SignedIn};
use crate::paging::{BadPage, PageQuery, PageView};
use crate::state::AppState;

/// `POST /v1/grid-bindings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GridBindRequest {
    /// The grid code.
    pub code: String,
}

/// The grid bound.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridBoundView {
    pub grid_id: Uuid,
}

/// Binds the caller as a worker of the grid of a grid code (several grids per worker); an
/// unauthorised worker until the grid's admin authorises them. Again: `200`, no change.
#[utoipa::path(post, path = "/v1/grid-bindings", tag = "grids", request_body = GridBindRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Bound", body = Binding<GridBoundView>),
        (status = 200, description = "Already bound: nothing changed", body = Binding<GridBoundView>),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "No grid has this code (`grid.unknown_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed or mistyped code, or an organisation or venue code (`code.wrong_kind`, saying what it is)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn bind(
    client: crate::extract::ClientAddress,
    state: web::Data<AppState>,
    worker: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: GridBindRequest = body.parse()?;
    let ctx = body.context(worker.actor())?;
    let outcome = services::limits::binding(
        &state.services,
        worker.0,
        &client.0,
        grids::bind(&state.services, &ctx, worker.0, &request.code),
    )
    .await?;
    Ok(binding(outcome, |b| GridBoundView { grid_id: b.grid_id }))
}

/// A grid the caller works in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyGrid {
    pub grid_id: String,
    pub name: String,
    pub region: String,
    /// `pending`, `active` or `dissolved`.
    pub status: String,
    /// Whether the grid's admin has authorised the caller.
    pub authorised: bool,
    /// Whether this is the caller's current grid.
    pub current: bool,
    pub bound_at: String,
}

/// The grids the caller is bound to, oldest binding first, the current one marked.
#[utoipa::path(get, path = "/v1/me/grids", tag = "grids", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Grids", body = PageView<MyGrid>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = BadPage),
    ))]
pub async fn my_grids(
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
    worker: SignedIn,
) -> Result<web::Json<PageView<MyGrid>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let grids = grids::my_grids(&state.services, worker.0).await?;
    Ok(web::Json(PageView::of(page.slice(grids), |g| MyGrid {
        bound_at: cst_rfc3339(g.bound_at),
        grid_id: g.grid_id,
        name: g.name,
        region: g.region,
        status: g.status,
        authorised: g.authorised,
        current: g.current,
    })))
}

/// `PUT /v1/me/grids/current`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CurrentGridRequest {
    pub grid_id: Uuid,
}

/// Chooses the caller's current grid among the grids they are bound to.
#[utoipa::path(put, path = "/v1/me/grids/current", tag = "grids", request_body = CurrentGridRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Chosen", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "Not bound to that grid (`grid.not_bound`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn choose_current(
    state: web::Data<AppState>,
    worker: SignedIn,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let request: CurrentGridRequest = body.parse()?;
    let ctx = body.context(worker.actor())?;
    let outcome = grids::choose_current(&state.services, &ctx, worker.0, request.grid_id).await?;
    Ok(done(&outcome))
}

/// Unbinds the caller from a grid.
#[utoipa::path(delete, path = "/v1/me/grids/{grid_id}", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unbound", body = PositionView),
        (status = 401, response = Unauthenticated),
        (status = 404, description = "Not bound (`grid.not_bound`), or no such grid (`grid.unknown`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unbind_self(
    state: web::Data<AppState>,
    worker: SignedIn,
    grid_id: web::Path<String>,
    body: CommandBody,
) -> Result<HttpResponse, ApiError> {
    let ctx = body.bodiless_context(worker.actor())?;
    let outcome = grids::unbind_self(&state.services, &ctx, worker.0, &grid_id).await?;
    Ok(done(&outcome))
}
