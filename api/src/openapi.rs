//! The OpenAPI document, generated from the route annotations and the schema types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};
use crate::routes::feed::{DocumentInput, FeedRecordInput, RefusedRecord};
use crate::routes::orgs::{DayStats, OrgInput, OrgPatch, OrgStats};
use crate::routes::venues::{ScanAnswer, VenueInput, VenuePatch};
use crate::routes::{analysis, audit, citizens, feed, ops, orgs, venues, PositionView};

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
        citizens::create_session, citizens::me, citizens::my_code, citizens::my_code_svg,
        citizens::add_family_member, citizens::list_family, citizens::remove_family_member,
        citizens::family_member_code, citizens::file_declaration, citizens::register_entry,
        citizens::my_declarations, citizens::my_entries, citizens::my_checks,
        citizens::my_notices, citizens::my_access_log, citizens::file_appeal,
        feed::post_batch, feed::open_appeals, feed::decide_appeal,
        orgs::register, orgs::show, orgs::edit, orgs::bind, orgs::my_orgs, orgs::unbind, orgs::stats,
        orgs::stats_csv,
        venues::create, venues::show, venues::inspectors, venues::edit, venues::hand_over, venues::bind, venues::my_venues,
        venues::unbind_self, venues::unbind_inspector, venues::scan, venues::scan_declaration,
        venues::check, venues::poster, venues::poster_svg, venues::check_in, venues::stats,
        venues::my_stats,
    ),
    components(schemas(
        Problem, FieldError, ops::Health, ops::Readiness, ops::ProjectionLag,
        analysis::ProjectionInfo, analysis::RebuildAccepted, analysis::Verification,
        audit::AuditEvent, audit::AuditPage, audit::StreamHistory, PositionView,
        citizens::SessionRequest, citizens::SessionCreated, citizens::Me, citizens::DocumentView,
        citizens::RoleView, citizens::CodeView, citizens::ReasonView, citizens::AddMemberRequest,
        citizens::MemberAddedView, citizens::FamilyMemberView, citizens::FamilyList,
        citizens::DeclarationRequest, citizens::DeclarationCreated, citizens::EntryRequest,
        citizens::EntryCreated, citizens::HistoryPage, citizens::AppealRequest,
        citizens::AppealCreated, feed::BatchRequest, feed::BatchAnswer, feed::AppealView,
        feed::AppealsPage, feed::DecisionRequest, FeedRecordInput, DocumentInput, RefusedRecord,
        OrgInput, OrgPatch, OrgStats, DayStats, orgs::OrgCreated, orgs::BindRequest,
        orgs::BoundView, orgs::MyOrg, orgs::MyOrgs, orgs::OrgView,
        VenueInput, VenuePatch, ScanAnswer, venues::VenueCreatedView, venues::HandoverRequest,
        venues::VenueBindRequest, venues::VenueBoundView, venues::MyVenue, venues::MyVenues,
        venues::ScanContext, venues::ScanRequest, venues::CheckRequest, venues::CheckCreated,
        venues::Poster, venues::CheckInRequest, venues::CheckInCreated, venues::SexCounts,
        venues::AgeBands, venues::InspectorCounts, venues::VenueStats, venues::MyVenueStats,
        venues::VenueView, venues::InspectorView, venues::InspectorList,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics"),
        (name = "citizens", description = "Sessions, own data, code and appeals (logged-in citizens)"),
        (name = "family", description = "Family members: add, list, remove, show their code"),
        (name = "declarations", description = "Health declarations and entry registrations"),
        (name = "histories", description = "The citizen's own histories, newest first"),
        (name = "organisations", description = "Organisations: registration, declaration codes, member bindings, dashboard"),
        (name = "venues", description = "Public venues: inspectors, scans, temperature checks, quick check-ins, statistics"),
        (name = "feed", description = "Red-code feed: hits, releases, appeal decisions (feed role)"),
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
