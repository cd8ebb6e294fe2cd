//! Route registration and the request-parsing error handlers.

pub(crate) mod analysis;
pub(crate) mod audit;
pub(crate) mod citizens;
pub(crate) mod feed;
pub(crate) mod ops;
pub(crate) mod orgs;
pub(crate) mod venues;

use actix_web::{error::JsonPayloadError, web, HttpRequest, HttpResponse};
use commands::{CommandContext, Outcome};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(1 << 20)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        ApiError::BadRequest {
            code: "request.malformed_query",
            detail: err.to_string(),
        }
        .into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, _| {
        ApiError::NotFound {
            code: "route.not_found",
            detail: err.to_string(),
        }
        .into()
    }))
    .service(resource("/healthz", "GET").route(web::get().to(ops::healthz)))
    .service(resource("/readyz", "GET").route(web::get().to(ops::readyz)))
    .service(resource("/metrics", "GET").route(web::get().to(ops::metrics)))
    .service(resource("/v1/projections", "GET").route(web::get().to(analysis::list_projections)))
    .service(
        resource("/v1/projections/{name}/rebuild", "POST")
            .route(web::post().to(analysis::rebuild_projection)),
    )
    .service(resource("/v1/audit/verification", "POST").route(web::post().to(analysis::verify)))
    .service(resource("/v1/audit/events", "GET").route(web::get().to(audit::events)))
    .service(resource("/v1/audit/streams/{stream}", "GET").route(web::get().to(audit::stream)))
    .service(
        resource("/v1/exports/events.ndjson", "GET").route(web::get().to(analysis::export_events)),
    )
    .service(resource("/v1/sessions", "POST").route(web::post().to(citizens::create_session)))
    .service(resource("/v1/me", "GET").route(web::get().to(citizens::me)))
    .service(resource("/v1/me/code", "GET").route(web::get().to(citizens::my_code)))
    .service(resource("/v1/me/code.svg", "GET").route(web::get().to(citizens::my_code_svg)))
    .service(
        resource("/v1/me/family", "GET, POST")
            .route(web::get().to(citizens::list_family))
            .route(web::post().to(citizens::add_family_member)),
    )
    .service(
        resource("/v1/me/family/{person_id}", "DELETE")
            .route(web::delete().to(citizens::remove_family_member)),
    )
    .service(
        resource("/v1/me/family/{person_id}/code", "GET")
            .route(web::get().to(citizens::family_member_code)),
    )
    .service(resource("/v1/declarations", "POST").route(web::post().to(citizens::file_declaration)))
    .service(resource("/v1/entries", "POST").route(web::post().to(citizens::register_entry)))
    .service(resource("/v1/me/declarations", "GET").route(web::get().to(citizens::my_declarations)))
    .service(resource("/v1/me/entries", "GET").route(web::get().to(citizens::my_entries)))
    .service(resource("/v1/me/checks", "GET").route(web::get().to(citizens::my_checks)))
    .service(resource("/v1/me/notices", "GET").route(web::get().to(citizens::my_notices)))
    .service(resource("/v1/me/access-log", "GET").route(web::get().to(citizens::my_access_log)))
    .service(resource("/v1/appeals", "POST").route(web::post().to(citizens::file_appeal)))
    .service(resource("/v1/feed/batches", "POST").route(web::post().to(feed::post_batch)))
    .service(resource("/v1/feed/appeals", "GET").route(web::get().to(feed::open_appeals)))
    .service(
        resource("/v1/feed/appeals/{appeal_id}/decision", "POST")
            .route(web::post().to(feed::decide_appeal)),
    )
    .service(resource("/v1/orgs", "POST").route(web::post().to(orgs::register)))
    .service(
        resource("/v1/orgs/{org_id}", "GET, PATCH")
            .route(web::get().to(orgs::show))
            .route(web::patch().to(orgs::edit)),
    )
    .service(resource("/v1/org-bindings", "POST").route(web::post().to(orgs::bind)))
    .service(resource("/v1/me/orgs", "GET").route(web::get().to(orgs::my_orgs)))
    .service(resource("/v1/me/orgs/{org_id}", "DELETE").route(web::delete().to(orgs::unbind)))
    .service(resource("/v1/orgs/{org_id}/stats", "GET").route(web::get().to(orgs::stats)))
    .service(resource("/v1/orgs/{org_id}/stats.csv", "GET").route(web::get().to(orgs::stats_csv)))
    .service(resource("/v1/venues", "POST").route(web::post().to(venues::create)))
    .service(
        resource("/v1/venues/{venue_id}", "GET, PATCH")
            .route(web::get().to(venues::show))
            .route(web::patch().to(venues::edit)),
    )
    .service(
        resource("/v1/venues/{venue_id}/inspectors", "GET")
            .route(web::get().to(venues::inspectors)),
    )
    .service(
        resource("/v1/venues/{venue_id}/handover", "POST").route(web::post().to(venues::hand_over)),
    )
    .service(resource("/v1/venue-bindings", "POST").route(web::post().to(venues::bind)))
    .service(resource("/v1/me/venues", "GET").route(web::get().to(venues::my_venues)))
    .service(
        resource("/v1/me/venues/{venue_id}", "DELETE").route(web::delete().to(venues::unbind_self)),
    )
    .service(
        resource("/v1/venues/{venue_id}/inspectors/{person_id}", "DELETE")
            .route(web::delete().to(venues::unbind_inspector)),
    )
    .service(resource("/v1/scans", "POST").route(web::post().to(venues::scan)))
    .service(
        resource("/v1/scans/{scan_id}/declaration", "GET")
            .route(web::get().to(venues::scan_declaration)),
    )
    .service(resource("/v1/venues/{venue_id}/checks", "POST").route(web::post().to(venues::check)))
    .service(resource("/v1/venues/{venue_id}/poster", "GET").route(web::get().to(venues::poster)))
    .service(
        resource("/v1/venues/{venue_id}/poster.svg", "GET")
            .route(web::get().to(venues::poster_svg)),
    )
    .service(resource("/v1/checkins", "POST").route(web::post().to(venues::check_in)))
    .service(resource("/v1/venues/{venue_id}/stats", "GET").route(web::get().to(venues::stats)))
    .service(
        resource("/v1/me/venues/{venue_id}/stats", "GET").route(web::get().to(venues::my_stats)),
    )
    .default_service(web::to(not_found));
}

/// A resource whose other methods answer `405 request.method_not_allowed` with `Allow`.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        let mut response =
            actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed(format!(
                "{} is not allowed on {}; use {allow}",
                req.method(),
                req.path()
            )));
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allow),
        );
        response
    }))
}

/// `{"position"}`: what a command without other answer returns.
// The documented answer shape (the handler builds it from the command outcome).
#[allow(dead_code)]
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PositionView {
    /// Log position of the command's last event (or of the event that already recorded it).
    pub position: u64,
}

/// Parses a JSON body read as bytes (command routes keep the bytes for the idempotency
/// digest), with the same errors as actix's JSON extractor.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::Validation(vec![crate::error::FieldError {
                field: "body".into(),
                code: "body.shape".into(),
                detail: e.to_string(),
            }])
        } else {
            ApiError::MalformedJson(e.to_string())
        }
    })
}

/// The command's context: the actor, and the `Idempotency-Key` with a digest of the request.
pub(crate) fn command_context(
    req: &HttpRequest,
    body: &[u8],
    actor: String,
) -> Result<CommandContext, ApiError> {
    let key = crate::idempotency::from_request(req, body)?;
    Ok(CommandContext::new(actor).with_idempotency(key))
}

/// An instant as the API shows read models' times: RFC 3339 in China Standard Time.
pub(crate) fn cst(t: time::OffsetDateTime) -> String {
    t.to_offset(domain::week::CST)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The person's read-model row; when the read model has not applied the registration yet
/// (someone registered a moment ago), the same facts folded from the person's streams.
pub(crate) async fn person_row(
    state: &crate::state::AppState,
    person: domain::identity::PersonId,
) -> Result<projections::people::PersonRow, ApiError> {
    if let Some(row) = projections::people::person(&state.services.db, &person.to_string())
        .await
        .map_err(ApiError::internal)?
    {
        return Ok(row);
    }
    services::citizens::person_facts(&state.services, person)
        .await?
        .ok_or_else(|| ApiError::not_found("person.unknown", format!("no person {person}")))
}

/// The answer to a binding by code: `201` when bound now, `200` with `already_bound` when
/// the binding was already there.
pub(crate) fn bound_answer<R>(
    outcome: &Outcome<R>,
    id_field: &str,
    id: uuid::Uuid,
) -> HttpResponse {
    let body = serde_json::json!({
        id_field: id,
        "position": outcome.position(),
        "already_bound": matches!(outcome, Outcome::Unchanged { .. }),
    });
    match outcome {
        Outcome::Unchanged { .. } => HttpResponse::Ok().json(body),
        Outcome::Committed { .. } | Outcome::Replayed { .. } => HttpResponse::Created().json(body),
    }
}

fn with_position<R: Serialize>(outcome: &Outcome<R>) -> Result<serde_json::Value, ApiError> {
    let mut body = serde_json::to_value(outcome.response()).map_err(ApiError::internal)?;
    match body.as_object_mut() {
        Some(map) => {
            map.insert("position".into(), outcome.position().into());
        }
        None => body = serde_json::json!({ "position": outcome.position() }),
    }
    Ok(body)
}

/// `201 Created` with the answer and its position.
pub(crate) fn created<R: Serialize>(outcome: &Outcome<R>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(with_position(outcome)?))
}

/// `200 OK` with the answer and its position.
pub(crate) fn ok<R: Serialize>(outcome: &Outcome<R>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(with_position(outcome)?))
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::ContentType => ApiError::BadRequest {
            code: "request.content_type",
            detail: "send the body as application/json".into(),
        },
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::BadRequest {
            code: "request.too_large",
            detail: format!("the body exceeds {limit} bytes"),
        },
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::Validation(vec![crate::error::FieldError {
                field: "body".into(),
                code: "body.shape".into(),
                detail: e.to_string(),
            }])
        }
        other => ApiError::MalformedJson(other.to_string()),
    }
    .into()
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound {
        code: "route.not_found",
        detail: format!("no route for {} {}", req.method(), req.path()),
    })
}
