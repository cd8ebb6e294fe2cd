//! A grid's statistics for its admin and a worker's own counts, with no personal data.

use actix_web::web;
use serde::Serialize;
use services::calendar::asked_day;
use services::grids;
use utoipa::ToSchema;

use crate::answer::{FigureView, Unauthenticated};
use crate::error::{ApiError, Problem};
use crate::extract::SignedIn;
use crate::routes::venues::StatsQuery;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerCounts {
    /// The worker's person id (no name: statistics carry no personal data).
    pub worker: String,
    /// People visited: `"<5"` for 1 to 4.
    pub today: FigureView,
    pub total: FigureView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridDayView {
    pub date: String,
    /// People visited: `"<5"` for 1 to 4 (as every figure of people here).
    pub visits: FigureView,
    /// Visits that recorded a fever.
    pub fever: FigureView,
    /// Visits that recorded symptoms.
    pub symptoms: FigureView,
}

/// A grid's statistics for a day (CST), no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridStatsView {
    pub grid_id: String,
    pub date: String,
    /// Workers bound now.
    pub workers: i64,
    /// Of them, those authorised to read declarations.
    pub authorised: i64,
    /// People visited that day: `"<5"` for 1 to 4.
    pub visits_today: FigureView,
    /// Visits up to and including the day.
    pub visits_total: FigureView,
    /// Every worker bound now and every worker who visited.
    pub per_worker: Vec<WorkerCounts>,
    /// The 14 days ending at the day, oldest first.
    pub series: Vec<GridDayView>,
}

/// The admin's statistics of the grid.
#[utoipa::path(get, path = "/v1/grids/{grid_id}/stats", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = GridStatsView),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not the admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The grid is dissolved", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad or future date", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stats(
    query: web::Query<StatsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    grid_id: web::Path<String>,
) -> Result<web::Json<GridStatsView>, ApiError> {
    let admin = grids::authorize_admin(&state.services, &grid_id, person).await?;
    let date = asked_day(query.date.as_deref(), state.clock.now())?;
    state.wait_for(query.min_position).await?;
    let stats = grids::stats(&state.services, &admin, date).await?;
    let shown = |n: i64| FigureView::from(state.services.figure(n));
    Ok(web::Json(GridStatsView {
        grid_id: stats.grid_id,
        date: stats.date.to_string(),
        workers: stats.workers,
        authorised: stats.authorised,
        visits_today: shown(stats.visits_today),
        visits_total: shown(stats.visits_total),
        per_worker: stats
            .per_worker
            .into_iter()
            .map(|w| WorkerCounts {
                worker: w.worker,
                today: shown(w.today),
                total: shown(w.total),
            })
            .collect(),
        series: stats
            .series
            .into_iter()
            .map(|d| GridDayView {
                date: d.date.to_string(),
                visits: shown(d.visits),
                fever: shown(d.fever),
                symptoms: shown(d.symptoms),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyGridStats {
    pub grid_id: String,
    pub date: String,
    /// The caller's visits in the grid that day.
    pub today: i64,
    /// The caller's visits in the grid up to and including the day.
    pub total: i64,
}

/// A worker's own visits in a grid.
#[utoipa::path(get, path = "/v1/me/grids/{grid_id}/stats", tag = "grids",
    params(("grid_id" = Uuid, Path, description = "The grid"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Own counts", body = MyGridStats),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not bound to the grid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown grid", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The grid is dissolved", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_stats(
    query: web::Query<StatsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    grid_id: web::Path<String>,
) -> Result<web::Json<MyGridStats>, ApiError> {
    let worker = grids::authorize_worker(&state.services, &grid_id, person).await?;
    let date = asked_day(query.date.as_deref(), state.clock.now())?;
    state.wait_for(query.min_position).await?;
    let (today, total) = grids::my_stats(&state.services, worker, date).await?;
    Ok(web::Json(MyGridStats {
        grid_id: worker.grid_id.to_string(),
        date: date.to_string(),
        today,
        total,
    }))
}
