//! Route registration, one file per resource, and the request-parsing error handlers.

pub(crate) mod appeals;
pub(crate) mod audit;
pub(crate) mod checkins;
pub(crate) mod declarations;
pub(crate) mod exports;
pub(crate) mod family;
pub(crate) mod feed;
pub(crate) mod grid_bindings;
pub(crate) mod grid_stats;
pub(crate) mod grids;
pub(crate) mod histories;
pub(crate) mod inspectors;
pub(crate) mod me;
pub(crate) mod medical_staff;
pub(crate) mod notices;
pub(crate) mod ops;
pub(crate) mod org_bindings;
pub(crate) mod orgs;
pub(crate) mod projections;
pub(crate) mod region_grids;
pub(crate) mod regions;
pub(crate) mod role_grants;
pub(crate) mod scans;
pub(crate) mod service_accounts;
pub(crate) mod sessions;
pub(crate) mod venues;

use actix_web::{error::JsonPayloadError, web, HttpRequest, HttpResponse};

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
    .service(resource("/v1/projections", "GET").route(web::get().to(projections::list_projections)))
    .service(
        resource("/v1/projections/{name}/rebuild", "POST")
            .route(web::post().to(projections::rebuild_projection)),
    )
    .service(resource("/v1/audit/verification", "POST").route(web::post().to(audit::verify)))
    .service(resource("/v1/audit/events", "GET").route(web::get().to(audit::events)))
    .service(resource("/v1/audit/streams/{stream}", "GET").route(web::get().to(audit::stream)))
    .service(
        resource("/v1/exports/events.ndjson", "GET").route(web::get().to(exports::export_events)),
    )
    .service(resource("/v1/sessions", "POST").route(web::post().to(sessions::create_session)))
    .service(resource("/v1/me", "GET").route(web::get().to(me::me)))
    .service(resource("/v1/me/code", "GET").route(web::get().to(me::my_code)))
    .service(resource("/v1/me/code.svg", "GET").route(web::get().to(me::my_code_svg)))
    .service(resource("/v1/me/code/reset", "POST").route(web::post().to(me::reset_code)))
    .service(
        resource("/v1/me/family", "GET, POST")
            .route(web::get().to(family::list_family))
            .route(web::post().to(family::add_family_member)),
    )
    .service(
        resource("/v1/me/family/{person_id}", "DELETE")
            .route(web::delete().to(family::remove_family_member)),
    )
    .service(
        resource("/v1/me/family/{person_id}/code", "GET")
            .route(web::get().to(family::family_member_code)),
    )
    .service(
        resource("/v1/declarations", "POST").route(web::post().to(declarations::file_declaration)),
    )
    .service(resource("/v1/entries", "POST").route(web::post().to(declarations::register_entry)))
    .service(
        resource("/v1/me/declarations", "GET").route(web::get().to(histories::my_declarations)),
    )
    .service(resource("/v1/me/entries", "GET").route(web::get().to(histories::my_entries)))
    .service(resource("/v1/me/checks", "GET").route(web::get().to(histories::my_checks)))
    .service(resource("/v1/me/notices", "GET").route(web::get().to(histories::my_notices)))
    .service(resource("/v1/me/access-log", "GET").route(web::get().to(histories::my_access_log)))
    .service(resource("/v1/appeals", "POST").route(web::post().to(appeals::file_appeal)))
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
    .service(resource("/v1/org-bindings", "POST").route(web::post().to(org_bindings::bind)))
    .service(resource("/v1/me/orgs", "GET").route(web::get().to(org_bindings::my_orgs)))
    .service(
        resource("/v1/me/orgs/{org_id}", "DELETE").route(web::delete().to(org_bindings::unbind)),
    )
    .service(resource("/v1/orgs/{org_id}/stats", "GET").route(web::get().to(orgs::stats)))
    .service(resource("/v1/orgs/{org_id}/stats.csv", "GET").route(web::get().to(orgs::stats_csv)))
    .service(
        resource("/v1/regions/{region}/admins", "POST")
            .route(web::post().to(regions::appoint_admin)),
    )
    .service(
        resource("/v1/regions/{region}/admins/{person_id}", "DELETE")
            .route(web::delete().to(regions::revoke_admin)),
    )
    .service(resource("/v1/regions/{region}/grids", "GET").route(web::get().to(region_grids::list)))
    .service(
        resource("/v1/regions/{region}/grids.csv", "GET")
            .route(web::get().to(region_grids::list_csv)),
    )
    .service(resource("/v1/grids", "POST").route(web::post().to(grids::create)))
    .service(resource("/v1/grids/{grid_id}", "PATCH").route(web::patch().to(grids::edit)))
    .service(
        resource("/v1/grids/{grid_id}/confirmation", "POST").route(web::post().to(grids::confirm)),
    )
    .service(
        resource("/v1/grids/{grid_id}/visits", "POST").route(web::post().to(grids::record_visit)),
    )
    .service(
        resource("/v1/grids/{grid_id}/dissolution", "POST").route(web::post().to(grids::dissolve)),
    )
    .service(
        resource("/v1/grids/{grid_id}/handovers", "POST")
            .route(web::post().to(grids::offer_handover)),
    )
    .service(
        resource(
            "/v1/grids/{grid_id}/persons/{person_id}/declarations",
            "GET",
        )
        .route(web::get().to(grids::person_declarations)),
    )
    .service(
        resource("/v1/grids/{grid_id}/key-persons", "GET").route(web::get().to(grids::key_persons)),
    )
    .service(resource("/v1/grids/{grid_id}/stats", "GET").route(web::get().to(grid_stats::stats)))
    .service(
        resource("/v1/me/grids/{grid_id}/stats", "GET").route(web::get().to(grid_stats::my_stats)),
    )
    .service(
        resource("/v1/grid-handovers/acceptance", "POST")
            .route(web::post().to(grids::accept_handover)),
    )
    .service(
        resource("/v1/venue-handovers/acceptance", "POST")
            .route(web::post().to(venues::accept_handover)),
    )
    .service(
        resource(
            "/v1/grids/{grid_id}/workers/{person_id}/authorisation",
            "PUT, DELETE",
        )
        .route(web::put().to(grids::authorise_worker))
        .route(web::delete().to(grids::revoke_worker)),
    )
    .service(
        resource("/v1/grids/{grid_id}/workers/{person_id}", "DELETE")
            .route(web::delete().to(grids::unbind_worker)),
    )
    .service(resource("/v1/grid-bindings", "POST").route(web::post().to(grid_bindings::bind)))
    .service(resource("/v1/me/grids", "GET").route(web::get().to(grid_bindings::my_grids)))
    .service(
        resource("/v1/me/grids/current", "PUT").route(web::put().to(grid_bindings::choose_current)),
    )
    .service(
        resource("/v1/me/grids/{grid_id}", "DELETE")
            .route(web::delete().to(grid_bindings::unbind_self)),
    )
    .service(resource("/v1/venues", "POST").route(web::post().to(venues::create)))
    .service(
        resource("/v1/venues/{venue_id}", "GET, PATCH")
            .route(web::get().to(venues::show))
            .route(web::patch().to(venues::edit)),
    )
    .service(
        resource("/v1/venues/{venue_id}/inspectors", "GET")
            .route(web::get().to(inspectors::inspectors)),
    )
    .service(
        resource("/v1/venues/{venue_id}/handover", "POST").route(web::post().to(venues::hand_over)),
    )
    .service(resource("/v1/venue-bindings", "POST").route(web::post().to(inspectors::bind)))
    .service(resource("/v1/me/venues", "GET").route(web::get().to(inspectors::my_venues)))
    .service(
        resource("/v1/me/venues/{venue_id}", "DELETE")
            .route(web::delete().to(inspectors::unbind_self)),
    )
    .service(
        resource("/v1/venues/{venue_id}/inspectors/{person_id}", "DELETE")
            .route(web::delete().to(inspectors::unbind_inspector)),
    )
    .service(resource("/v1/scans", "POST").route(web::post().to(scans::scan)))
    .service(
        resource("/v1/scans/{scan_id}/declaration", "GET")
            .route(web::get().to(scans::scan_declaration)),
    )
    .service(resource("/v1/venues/{venue_id}/checks", "POST").route(web::post().to(scans::check)))
    .service(resource("/v1/venues/{venue_id}/poster", "GET").route(web::get().to(checkins::poster)))
    .service(
        resource("/v1/venues/{venue_id}/poster.svg", "GET")
            .route(web::get().to(checkins::poster_svg)),
    )
    .service(resource("/v1/checkins", "POST").route(web::post().to(checkins::check_in)))
    .service(resource("/v1/venues/{venue_id}/stats", "GET").route(web::get().to(venues::stats)))
    .service(
        resource("/v1/me/venues/{venue_id}/stats", "GET")
            .route(web::get().to(inspectors::my_stats)),
    )
    .service(
        resource("/v1/medical-staff", "GET, POST")
            .route(web::get().to(medical_staff::roster))
            .route(web::post().to(medical_staff::grant)),
    )
    .service(
        resource("/v1/medical-staff/{person_id}", "DELETE")
            .route(web::delete().to(medical_staff::revoke)),
    )
    .service(resource("/v1/notices", "POST").route(web::post().to(notices::issue)))
    .service(resource("/v1/notices/{notice_id}", "GET").route(web::get().to(notices::show)))
    .service(
        resource("/v1/notices/{notice_id}/printable", "GET")
            .route(web::get().to(notices::printable)),
    )
    .service(
        resource("/v1/notices/{notice_id}/withdrawal", "POST")
            .route(web::post().to(notices::withdraw)),
    )
    .service(resource("/v1/me/issued-notices", "GET").route(web::get().to(notices::issued)))
    .service(resource("/v1/role-grants", "POST").route(web::post().to(role_grants::grant)))
    .service(resource("/v1/sessions/current", "DELETE").route(web::delete().to(sessions::sign_out)))
    .service(
        resource("/v1/service-accounts/{account_id}", "DELETE")
            .route(web::delete().to(service_accounts::revoke)),
    )
    .service(
        resource("/v1/role-grants/{person_id}/{role}", "DELETE")
            .route(web::delete().to(role_grants::revoke)),
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
