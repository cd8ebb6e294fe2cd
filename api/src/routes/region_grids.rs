//! A region's grids with their figures for a day, for the admins of the region and of every
//! region enclosing it; as JSON and as CSV.

use actix_web::{web, HttpResponse};
use domain::week::cst_rfc3339;
use serde::{Deserialize, Serialize};
use services::calendar::asked_day;
use services::grids::{self, StatusFilter};
use utoipa::{IntoParams, ToSchema};

use crate::answer::Unauthenticated;
use crate::error::{ApiError, Problem};
use crate::extract::SignedIn;
use crate::state::AppState;

/// `?date=&status=` of a region's grid list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionGridsQuery {
    /// A past day (`YYYY-MM-DD`, CST); today when absent.
    pub date: Option<String>,
    /// `pending`, `active` or `dissolved`; every grid when absent.
    pub status: Option<String>,
    pub min_position: Option<u64>,
}

/// A grid of the region with its figures for the day (no personal data).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionGrid {
    pub grid_id: String,
    pub code: String,
    pub region: String,
    pub name: String,
    /// `pending`, `active` or `dissolved`, now.
    pub status: String,
    pub created_at: String,
    /// Workers bound now.
    pub workers: i64,
    /// Of them, those authorised.
    pub authorised: i64,
    /// People visited that day: `"<5"` for 1 to 4.
    pub visits_today: crate::answer::FigureView,
    /// Visits up to and including the day.
    pub visits_total: crate::answer::FigureView,
}

/// The region's grids.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionGrids {
    pub region: String,
    pub date: String,
    /// Grids created up to the end of the day, by region code then age.
    pub items: Vec<RegionGrid>,
}

async fn listing(
    person: domain::identity::PersonId,
    state: &AppState,
    region: &str,
    query: &RegionGridsQuery,
) -> Result<RegionGrids, ApiError> {
    let viewer = grids::authorize_region_viewer(&state.services, region, person).await?;
    let date = asked_day(query.date.as_deref(), state.clock.now())?;
    let status = StatusFilter::parse(query.status.as_deref())?;
    state.wait_for(query.min_position).await?;
    let rows = grids::region_grids(&state.services, &viewer, status, date).await?;
    Ok(RegionGrids {
        region: viewer.region.to_string(),
        date: date.to_string(),
        items: rows
            .into_iter()
            .map(|g| RegionGrid {
                grid_id: g.grid_id,
                code: g.code,
                region: g.region,
                name: g.name,
                status: g.status,
                created_at: time::OffsetDateTime::from_unix_timestamp(g.created_at)
                    .map(cst_rfc3339)
                    .unwrap_or_default(),
                workers: g.workers,
                authorised: g.authorised,
                visits_today: state.services.figure(g.visits_today).into(),
                visits_total: state.services.figure(g.visits_total).into(),
            })
            .collect(),
    })
}

/// The grids of a region (and of the regions inside it) with their figures for the day.
#[utoipa::path(get, path = "/v1/regions/{region}/grids", tag = "regions",
    params(("region" = String, Path, description = "A division code of Guangdong"), RegionGridsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The grids", body = RegionGrids),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not an admin of the region or of one enclosing it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No division of Guangdong", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad region code, date or status", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    query: web::Query<RegionGridsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    region: web::Path<String>,
) -> Result<web::Json<RegionGrids>, ApiError> {
    Ok(web::Json(listing(person, &state, &region, &query).await?))
}

/// The same list as CSV with a header row.
#[utoipa::path(get, path = "/v1/regions/{region}/grids.csv", tag = "regions",
    params(("region" = String, Path, description = "A division code of Guangdong"), RegionGridsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV: grid_id,code,region,name,status,created_at,workers,authorised,visits_today,visits_total", content_type = "text/csv", body = String),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not an admin of the region or of one enclosing it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No division of Guangdong", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad region code, date or status", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_csv(
    query: web::Query<RegionGridsQuery>,
    SignedIn(person): SignedIn,
    state: web::Data<AppState>,
    region: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let grids = listing(person, &state, &region, &query).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!(
                "attachment; filename=\"grids-{}-{}.csv\"",
                grids.region, grids.date
            ),
        ))
        .body(grids_csv(&grids)))
}

/// One CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-`
/// or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn field(raw: &str) -> String {
    let safe = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

fn grids_csv(grids: &RegionGrids) -> String {
    let mut out = String::from(
        "grid_id,code,region,name,status,created_at,workers,authorised,visits_today,visits_total\n",
    );
    for g in &grids.items {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            g.grid_id,
            g.code,
            g.region,
            field(&g.name),
            g.status,
            g.created_at,
            g.workers,
            g.authorised,
            g.visits_today,
            g.visits_total
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(field("东城一网格"), "东城一网格");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("@x,y"), "\"'@x,y\"");
    }
}
