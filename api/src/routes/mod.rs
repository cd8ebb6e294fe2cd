//! Route registration and the request-parsing error handlers.

pub(crate) mod analysis;
pub(crate) mod audit;
pub(crate) mod ops;

use actix_web::{error::JsonPayloadError, web, HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::openapi::ApiDoc;

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
    .route("/docs", web::get().to(docs_redirect))
    .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
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

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound {
        code: "route.not_found",
        detail: format!("no route for {} {}", req.method(), req.path()),
    })
}
