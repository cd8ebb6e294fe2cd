//! The OpenAPI document, generated from the route annotations and the schema types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};
use crate::routes::{analysis, audit, ops};

/// `GET /openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Yuekang API",
        description = "Event-sourced provincial health-code platform. Errors are RFC 9457 problem documents with a stable `code`.",
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics,
        analysis::list_projections, analysis::rebuild_projection, analysis::verify,
        analysis::export_events, audit::events, audit::stream,
    ),
    components(schemas(
        Problem, FieldError, ops::Health, ops::Readiness, ops::ProjectionLag,
        analysis::ProjectionInfo, analysis::RebuildAccepted, analysis::Verification,
        audit::AuditEvent, audit::AuditPage, audit::StreamHistory,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics"),
        (name = "audit", description = "Integrity of the event log (auditor role)"),
        (name = "analysis", description = "Projections and exports (analyst role; auditors may read projection status)"),
    ),
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the routes refer to.
#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}
