//! The OpenAPI document, generated from the route annotations and the schema types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::answer::{
    BadRequest, Forbidden, PositionView, TooManyRequests, Unauthenticated, Unavailable,
    Unprocessable,
};
use crate::error::{FieldError, Problem};
use crate::paging::BadPage;
use crate::routes::{
    appeals, audit, checkins, declarations, exports, family, feed, grid_bindings, grid_stats,
    grids, histories, inspectors, me, medical_staff, notices, ops, org_bindings, orgs, projections,
    region_grids, regions, role_grants, scans, service_accounts, sessions, venues,
};

/// `GET /openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Yuekang API",
        description = "Event-sourced provincial health-code platform. Errors are RFC 9457 problem documents with a stable `code`.",
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics,
        projections::list_projections, projections::rebuild_projection,
        audit::verify, audit::events, audit::stream, exports::export_events,
        sessions::create_session, me::me, me::my_code, me::my_code_svg, me::reset_code,
        family::add_family_member, family::list_family, family::remove_family_member,
        family::family_member_code, declarations::file_declaration, declarations::register_entry,
        histories::my_declarations, histories::my_entries, histories::my_checks,
        histories::my_notices, histories::my_access_log, appeals::file_appeal,
        feed::post_batch, feed::open_appeals, feed::decide_appeal,
        orgs::register, orgs::show, orgs::edit, orgs::stats, orgs::stats_csv,
        org_bindings::bind, org_bindings::my_orgs, org_bindings::unbind,
        venues::create, venues::show, venues::edit, venues::hand_over, venues::stats,
        inspectors::bind, inspectors::my_venues, inspectors::unbind_self, inspectors::inspectors,
        inspectors::unbind_inspector, inspectors::my_stats,
        scans::scan, scans::scan_declaration, scans::check,
        checkins::poster, checkins::poster_svg, checkins::check_in,
        regions::appoint_admin, regions::revoke_admin,
        grids::create, grids::edit, grids::confirm, grids::record_visit, grids::dissolve, grids::offer_handover, grids::accept_handover, venues::accept_handover, grids::person_declarations, grids::key_persons, grids::authorise_worker, grids::revoke_worker,
        grids::unbind_worker, grid_bindings::bind, grid_bindings::my_grids,
        grid_bindings::choose_current, grid_bindings::unbind_self, grid_stats::stats, grid_stats::my_stats, region_grids::list, region_grids::list_csv,
        medical_staff::grant, medical_staff::revoke, medical_staff::roster,
        notices::issue, notices::withdraw, notices::show, notices::printable, notices::issued,
        role_grants::grant, role_grants::revoke, sessions::sign_out, service_accounts::revoke,
    ),
    components(
        schemas(
            Problem, FieldError, PositionView, ops::Health, ops::Readiness, ops::ProjectionLag,
            projections::ProjectionInfo, projections::RebuildAccepted, audit::Verification,
            audit::AuditEvent, audit::AuditPage, audit::StreamHistory,
            sessions::SessionRequest, sessions::SessionCreated, me::Me, me::DocumentView,
            me::RoleView, me::CodeView, me::ReasonView, family::AddMemberRequest,
            family::MemberAddedView, family::FamilyMemberView, declarations::DeclarationRequest,
            declarations::DeclarationCreated, declarations::EntryRequest, declarations::EntryCreated,
            appeals::AppealRequest, appeals::AppealCreated, feed::BatchRequest, feed::BatchAnswer,
            feed::AppealView, feed::DecisionRequest, feed::FeedRecordInput, feed::DocumentInput,
            feed::RefusedRecord, orgs::OrgInput, orgs::OrgPatch, orgs::OrgStats, orgs::DayStats,
            orgs::OrgCreated, orgs::OrgView, org_bindings::BindRequest, org_bindings::BoundView,
            org_bindings::MyOrg, venues::VenueInput, venues::VenuePatch, venues::VenueCreatedView,
            venues::VenueView, venues::HandoverRequest, venues::SexCounts, venues::AgeBands,
            venues::InspectorCounts, venues::VenueStats, inspectors::VenueBindRequest,
            inspectors::VenueBoundView, inspectors::MyVenue, inspectors::InspectorView,
            inspectors::MyVenueStats, scans::ScanAnswer, scans::ScanContext, scans::ScanRequest,
            scans::CheckRequest, scans::CheckCreated, checkins::Poster, checkins::CheckInRequest,
            checkins::CheckInCreated, regions::AppointRequest, regions::AppointedView,
            grids::GridInput, grids::GridCreatedView, grids::GridPatch, grids::VisitRequest,
            grids::ManualPerson, grids::VisitCreated, grids::DissolutionRequest, grids::HandoverRequest, grids::HandoverCreated,
            grids::AcceptanceRequest, grids::KeyPersonView, grid_bindings::GridBindRequest,
            region_grids::RegionGrid, region_grids::RegionGrids, grid_stats::GridStatsView, grid_stats::WorkerCounts, grid_stats::GridDayView, grid_stats::MyGridStats, grid_bindings::GridBoundView, grid_bindings::MyGrid, grid_bindings::CurrentGridRequest,
            scans::ScannedReason, medical_staff::GrantRequest, medical_staff::GrantedView,
            medical_staff::StaffView, notices::NoticeRequest, notices::IssuedView,
            notices::WithdrawalRequest, notices::NoticeReasonView, notices::WithdrawalView,
            notices::NoticeDetail, notices::IssuedNoticeView, role_grants::RoleGrantRequest,
            role_grants::RoleGrantedView,
        ),
        responses(
            Unauthenticated, BadPage, BadRequest, TooManyRequests, Unprocessable, Forbidden,
            Unavailable,
        ),
    ),
    modifiers(&BearerAuth, &CommonAnswers),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics"),
        (name = "citizens", description = "Sessions, own data, code and appeals (logged-in citizens)"),
        (name = "family", description = "Family members: add, list, remove, show their code"),
        (name = "declarations", description = "Health declarations and entry registrations"),
        (name = "histories", description = "The citizen's own histories, newest first"),
        (name = "organisations", description = "Organisations: registration, declaration codes, member bindings, dashboard"),
        (name = "venues", description = "Public venues: inspectors, scans, temperature checks, quick check-ins, statistics"),
        (name = "regions", description = "Region admins: appointed and revoked by the admin of the enclosing region"),
        (name = "grids", description = "Community grids: creation, confirmation by a region admin, workers"),
        (name = "medical", description = "Medical staff: the province admin's roster, medical scans, release-from-medical-observation notices"),
        (name = "roles", description = "Person-held auditor and analyst roles, granted by the province admin"),
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

/// The answers any route may give beyond its own: `400` for a malformed body or query (every
/// route parses one or the other), `422` for a body of the wrong shape, `403` on every route a
/// bearer token reaches (a service account on a citizen's route), and `429` where a rate limit
/// applies (signing in, and every route a bearer token reaches, since service accounts are
/// limited per account), and `503` wherever the database is read or written (every `/v1/`
/// route and `/metrics`: `store.unavailable` while it is out of reach).
#[derive(Debug)]
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr};
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses
                    .entry("400".into())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("BadRequest")));
                if operation.request_body.is_some() {
                    responses
                        .entry("422".into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Unprocessable")));
                }
                if operation.security.is_some() {
                    responses
                        .entry("403".into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Forbidden")));
                }
                if path.starts_with("/v1/") || path == "/metrics" {
                    responses
                        .entry("503".into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Unavailable")));
                }
                let limited = operation.security.is_some() || path == "/v1/sessions";
                if limited {
                    responses
                        .entry("429".into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("TooManyRequests")));
                }
            }
        }
    }
}
