//! Auditors page through the global log and read any stream as of an instant.

use actix_web::{web, HttpRequest};
use domain::service_account::ServiceAccount;
use domain::{Decider, DomainEvent};
use event_store::{EventReader, RecordedEvent, StreamId};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::auth;
use crate::error::{ApiError, FieldError, Problem};
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

fn invalid(field: &str, code: &str, detail: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError {
        field: field.into(),
        code: code.into(),
        detail: detail.into(),
    }])
}

pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=500) => Ok(n),
        Some(_) => Err(invalid(
            "limit",
            "page.limit",
            "limit must be between 1 and 500",
        )),
    }
}

fn to_audit(event: RecordedEvent) -> Result<AuditEvent, ApiError> {
    let actor = event.metadata().map_err(ApiError::internal)?.actor;
    Ok(AuditEvent {
        data: serde_json::from_str(&event.payload).map_err(ApiError::internal)?,
        recorded_at: event
            .recorded_at
            .format(&Rfc3339)
            .map_err(ApiError::internal)?,
        position: event.position,
        stream: event.stream,
        version: event.version,
        event_type: event.event_type,
        schema_version: event.schema_version,
        actor,
    })
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
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    auth::require(&req, &state, &["auditor"]).await?;
    let limit = page_limit(query.limit)?;
    let after = match query.after.as_deref() {
        None | Some("") => 0,
        Some(cursor) => cursor.parse::<u64>().map_err(|_| {
            invalid(
                "after",
                "page.cursor",
                "after must be a cursor from a previous page",
            )
        })?,
    };
    let events = state
        .store
        .read_filtered(
            after,
            limit,
            query.stream.as_deref(),
            query.event_type.as_deref(),
        )
        .await
        .map_err(ApiError::internal)?;
    let next = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.position.to_string()))
        .flatten();
    Ok(web::Json(AuditPage {
        items: events.into_iter().map(to_audit).collect::<Result<_, _>>()?,
        next,
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

/// The state of a known aggregate after `events`.
fn fold_state(stream: &str, events: &[RecordedEvent]) -> Result<serde_json::Value, ApiError> {
    use domain::assertion::Assertion;
    use domain::claim::Claim;
    use domain::feed::FeedRecord;
    use domain::identity::Identity;
    use domain::org::{Membership, Org};
    use domain::person::Person;
    use domain::region::Region;
    let is = |category: &str| {
        stream
            .strip_prefix(category)
            .is_some_and(|rest| rest.starts_with('-'))
    };
    if is("service-account") {
        fold::<ServiceAccount>(events)
    } else if is("identity") {
        fold::<Identity>(events)
    } else if is("person") {
        fold::<Person>(events)
    } else if is("region") {
        fold::<Region>(events)
    } else if is("assertion") {
        fold::<Assertion>(events)
    } else if is("feed-record") {
        fold::<FeedRecord>(events)
    } else if is("org-member") {
        fold::<Membership>(events)
    } else if is("org-admin") || is("code") {
        fold::<Claim>(events)
    } else if is("org") {
        fold::<Org>(events)
    } else {
        Ok(serde_json::Value::Null)
    }
}

fn fold<D>(events: &[RecordedEvent]) -> Result<serde_json::Value, ApiError>
where
    D: Decider,
    D::Event: domain::DomainEvent,
    D::State: serde::Serialize,
{
    let decoded = events
        .iter()
        .map(|e| D::Event::decode(&e.event_type, e.schema_version, &e.payload))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    serde_json::to_value(D::fold(&decoded)).map_err(ApiError::internal)
}

/// Reads one stream's events up to an instant and the aggregate's state then.
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
    req: HttpRequest,
    state: web::Data<AppState>,
    stream: web::Path<String>,
    query: web::Query<AsOfQuery>,
) -> Result<web::Json<StreamHistory>, ApiError> {
    auth::require(&req, &state, &["auditor"]).await?;
    let as_of = match query.as_of.as_deref() {
        None => state.clock.now(),
        Some(raw) => OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
            invalid(
                "as_of",
                "time.rfc3339",
                "as_of must be an RFC 3339 instant with offset",
            )
        })?,
    };
    let id =
        StreamId::parse(stream.into_inner()).map_err(|why| invalid("stream", "stream.id", why))?;
    let events = state
        .store
        .read_stream(&id, Some(as_of))
        .await
        .map_err(ApiError::internal)?;
    if events.is_empty() {
        return Err(ApiError::NotFound {
            code: "stream.unknown",
            detail: format!("no event of stream {id} was recorded by {as_of}"),
        });
    }
    let folded = fold_state(id.as_str(), &events)?;
    Ok(web::Json(StreamHistory {
        stream: id.to_string(),
        as_of: as_of
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(ApiError::internal)?,
        version: events.last().map_or(0, |e| e.version),
        events: events.into_iter().map(to_audit).collect::<Result<_, _>>()?,
        state: folded,
    }))
}
