//! The OpenAPI document, generated from the route annotations and the schema types.

use utoipa::OpenApi;

use crate::error::{FieldError, Problem};
use crate::routes::ops;

/// `GET /openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Yuekang API",
        description = "Event-sourced provincial health-code platform. Errors are RFC 9457 problem documents with a stable `code`.",
    ),
    paths(ops::healthz, ops::readyz, ops::metrics),
    components(schemas(Problem, FieldError, ops::Health, ops::Readiness, ops::ProjectionLag)),
    tags((name = "operations", description = "Liveness, readiness and metrics")),
)]
pub struct ApiDoc;
