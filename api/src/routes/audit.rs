//! Auditors: the hash chain verified, the global log paged, any stream and its aggregate's
//! state as of an instant.

use actix_web::web;
use serde::{Deserialize, Serialize};
use services::audit::{self, AuditEntry};
use services::page::PageRequest;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError, Problem};
use crate::extract::Caller;
use crate::state::AppState;

/// One event as an auditor sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub position: u64,
    pub stream: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: u32,
    /// RFC 3339, UTC.
    pub recorded_at: String,
    /// Who caused it (a person or service-account id, or `operator`).
    pub actor: Option<String>,
    /// The payload as stored: personal fields inside are encrypted, never in clear text.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<AuditEntry> for AuditEvent {
    fn from(e: AuditEntry) -> Self {
        AuditEvent {
            recorded_at: e.recorded_at.format(&Rfc3339).unwrap_or_default(),
            position: e.position,
            stream: e.stream,
            version: e.version,
            event_type: e.event_type,
            schema_version: e.schema_version,
            actor: e.actor,
            data: e.data,
        }
    }
}

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

/// Paging and filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only events after this position (a `next` cursor).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Only this stream.
    pub stream: Option<String>,
    /// Only this event type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
}

/// Pages through the global log in position order.
#[utoipa::path(get, path = "/v1/audit/events", tag = "audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an auditor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn events(
    query: web::Query<AuditQuery>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let reader = caller.require(&state, &["auditor"]).await?;
    // An empty cursor is the first page; anything else must be a cursor.
    let after = query.after.as_deref().filter(|a| !a.is_empty());
    let page = PageRequest::parse(query.limit, None)?;
    let page = PageRequest {
        after: after
            .map(|cursor| {
                cursor.parse::<u64>().map_err(|_| {
                    ApiError::Validation(vec![FieldError {
                        field: "after".into(),
                        code: "page.cursor".into(),
                        detail: "after must be a cursor from a previous page".into(),
                    }])
                })
            })
            .transpose()?,
        ..page
    };
    // Filtered to one person's own stream, the read lands in their access log.
    let page = audit::events_read_by(
        &state.services,
        &reader,
        page,
        query.stream.as_deref(),
        query.event_type.as_deref(),
    )
    .await?;
    Ok(web::Json(AuditPage {
        items: page.items.into_iter().map(AuditEvent::from).collect(),
        next: page.next,
    }))
}

/// As-of query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// RFC 3339 instant; only events recorded by then count. Default: now.
    pub as_of: Option<String>,
}

/// A stream's history and its state at an instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamHistory {
    pub stream: String,
    pub as_of: String,
    /// Version of the stream at `as_of` (0: it did not exist yet).
    pub version: u64,
    pub events: Vec<AuditEvent>,
    /// The aggregate's state folded from those events, for aggregates this version knows;
    /// null otherwise.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// Reads one stream's events up to an instant and the aggregate's state then. Reading a
/// person's own stream (`person-…`, `identity-…`, `access-…`) is recorded in their access log.
#[utoipa::path(get, path = "/v1/audit/streams/{stream}", tag = "audit",
    params(("stream" = String, Path, description = "Stream id, e.g. service-account-<uuid>"), AsOfQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stream as of the instant", body = StreamHistory),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an auditor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such stream (nothing recorded by then)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad instant", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream(
    query: web::Query<AsOfQuery>,
    caller: Caller,
    state: web::Data<AppState>,
    stream: web::Path<String>,
) -> Result<web::Json<StreamHistory>, ApiError> {
    let auditor = caller.require(&state, &["auditor"]).await?;
    let found =
        audit::read_stream(&state.services, &auditor, &stream, query.as_of.as_deref()).await?;
    Ok(web::Json(StreamHistory {
        stream: found.stream.to_string(),
        as_of: found
            .as_of
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(ApiError::internal)?,
        version: found.version,
        events: found.events.into_iter().map(AuditEvent::from).collect(),
        state: found.state,
    }))
}

/// The result of walking the hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub checked: u64,
    pub first_bad_position: Option<u64>,
    /// `missing` or `hash mismatch`, when not ok.
    pub problem: Option<String>,
}

/// Verifies the whole log's hash chain.
#[utoipa::path(post, path = "/v1/audit/verification", tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Verification result", body = Verification),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an auditor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<web::Json<Verification>, ApiError> {
    caller.require(&state, &["auditor"]).await?;
    // Projection checkpoints witness how far the log once reached.
    let anchor = services::analysis::applied_position(&state.runner).await?;
    let report = services::audit::verify(&state.store, anchor).await?;
    Ok(web::Json(Verification {
        ok: report.ok,
        checked: report.checked,
        first_bad_position: report.first_bad_position,
        problem: report.problem,
    }))
}
