//! The pseudonymised export of the log (analysts), streamed as NDJSON.

use actix_web::{web, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use services::audit::export;
use utoipa::IntoParams;

use crate::error::{ApiError, Problem};
use crate::extract::Caller;
use crate::state::AppState;

/// Where an export starts.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Only events after this position.
    pub after: Option<u64>,
}

/// Pseudonymised events, one JSON object per line, streamed.
#[utoipa::path(get, path = "/v1/exports/events.ndjson", tag = "analysis",
    params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "NDJSON: position, stream and actor pseudonymised, type, schema_version, recorded_at, data", body = String, content_type = "application/x-ndjson"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an analyst", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_events(
    query: web::Query<ExportQuery>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["analyst"]).await?;
    let key = export::pseudonym_key(&state.settings.data_dir).map_err(ApiError::internal)?;
    let lines = state
        .store
        .read_all_stream(query.after.unwrap_or(0), 2_000)
        .map(move |event| {
            let event = event.map_err(ApiError::internal)?;
            let mut line = export::line(&key, &event).map_err(ApiError::internal)?;
            line.push('\n');
            Ok::<_, ApiError>(web::Bytes::from(line))
        });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(lines))
}
