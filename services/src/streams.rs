//! The catalogue of stream names: every stream the use cases read or append to is named
//! here, and nowhere else (categories are `domain::streams` constants, which the projections
//! match on too).

use domain::code::BindingCode;
use domain::document::DocumentDigest;
use domain::feed::FeedRecordId;
use domain::grid::GridId;
use domain::identity::PersonId;
use domain::org::OrgId;
use domain::region::RegionCode;
use domain::streams as category;
use domain::venue::VenueId;
use event_store::StreamId;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A registered identity, by the keyed digest of its document.
pub fn identity(digest: &DocumentDigest) -> StreamId {
    StreamId::of(category::IDENTITY, digest)
}

/// A person: family links, declarations, entries.
pub fn person(person: PersonId) -> StreamId {
    StreamId::of(category::PERSON, person)
}

/// Who read a person's data.
pub fn access(person: PersonId) -> StreamId {
    StreamId::of(category::ACCESS, person)
}

/// One identity assertion, spent once (issuer and id hashed, so any `jti` makes a stream id).
pub fn assertion(issuer: &str, jti: &str) -> StreamId {
    let mut h = Sha256::new();
    h.update(issuer.as_bytes());
    h.update([0]);
    h.update(jti.as_bytes());
    StreamId::of(category::ASSERTION, &hex::encode(h.finalize())[..40])
}

/// A region's admin appointments.
pub fn region(region: &RegionCode) -> StreamId {
    StreamId::of(category::REGION, region)
}

/// One red-code feed record, accepted once.
pub fn feed_record(id: &FeedRecordId) -> StreamId {
    StreamId::of(category::FEED_RECORD, id)
}

/// The claim on a binding code (any kind).
pub fn code(code: &BindingCode) -> StreamId {
    StreamId::of(category::CODE, code)
}

/// An organisation.
pub fn org(org: OrgId) -> StreamId {
    StreamId::of(category::ORG, org)
}

/// The claim "administers an organisation" of one person.
pub fn org_admin(admin: PersonId) -> StreamId {
    StreamId::of(category::ORG_ADMIN, admin)
}

/// One person's binding to one organisation.
pub fn org_membership(org: OrgId, person: PersonId) -> StreamId {
    StreamId::of(category::ORG_MEMBER, category::pair_id(org, person))
}

/// A venue.
pub fn venue(venue: VenueId) -> StreamId {
    StreamId::of(category::VENUE, venue)
}

/// The claim "administers a venue" of one person.
pub fn venue_admin(admin: PersonId) -> StreamId {
    StreamId::of(category::VENUE_ADMIN, admin)
}

/// One inspector's binding to one venue.
pub fn inspection(venue: VenueId, inspector: PersonId) -> StreamId {
    StreamId::of(category::VENUE_MEMBER, category::pair_id(venue, inspector))
}

/// One scan of a citizen's code (and the check recorded on it).
pub fn scan(scan_id: Uuid) -> StreamId {
    StreamId::of(category::SCAN, scan_id)
}

/// One quick check-in.
pub fn check_in(check_id: Uuid) -> StreamId {
    StreamId::of(category::CHECKIN, check_id)
}

/// A service account.
pub fn service_account(account_id: Uuid) -> StreamId {
    StreamId::of(category::SERVICE_ACCOUNT, account_id)
}

/// A community grid.
pub fn grid(grid: GridId) -> StreamId {
    StreamId::of(category::GRID, grid)
}

/// The claim "administers a grid" of one person.
pub fn grid_admin(admin: PersonId) -> StreamId {
    StreamId::of(category::GRID_ADMIN, admin)
}

/// One worker's binding to one grid.
pub fn grid_worker(grid: GridId, worker: PersonId) -> StreamId {
    StreamId::of(category::GRID_MEMBER, category::pair_id(grid, worker))
}

/// A worker's current grid.
pub fn grid_current(worker: PersonId) -> StreamId {
    StreamId::of(category::GRID_CURRENT, worker)
}

/// A scan of a code in a grid and the visit recorded on it.
pub fn grid_scan(scan_id: Uuid) -> StreamId {
    StreamId::of(category::GRID_SCAN, scan_id)
}

/// A visit entered by hand.
pub fn grid_visit(visit_id: Uuid) -> StreamId {
    StreamId::of(category::GRID_VISIT, visit_id)
}

/// A grid's pending handover.
pub fn grid_handover(grid: GridId) -> StreamId {
    StreamId::of(category::GRID_HANDOVER, grid)
}

/// A person's place on the medical-staff roster.
pub fn medical_staff(person: PersonId) -> StreamId {
    StreamId::of(category::MEDICAL_STAFF, person)
}

/// A medical staff member's scan of a code.
pub fn medical_scan(scan_id: Uuid) -> StreamId {
    StreamId::of(category::MEDICAL_SCAN, scan_id)
}

/// A release-from-medical-observation notice.
pub fn notice(notice_id: Uuid) -> StreamId {
    StreamId::of(category::NOTICE, notice_id)
}

/// The notice numbers taken in `year` (China Standard Time).
pub fn notice_numbers(year: i32) -> StreamId {
    StreamId::of(category::NOTICE_NUMBER, year)
}

/// A person's auditor and analyst roles.
pub fn role_grants(person: PersonId) -> StreamId {
    StreamId::of(category::ROLE_GRANT, person)
}

/// A person's ended sessions.
pub fn sessions(person: PersonId) -> StreamId {
    StreamId::of(category::SESSION, person)
}

/// A venue's pending handover.
pub fn venue_handover(venue: VenueId) -> StreamId {
    StreamId::of(category::VENUE_HANDOVER, venue)
}

/// A person's code: its resets and the documents attached to it.
pub fn health_code(person: PersonId) -> StreamId {
    StreamId::of(category::HEALTH_CODE, person)
}

/// An identity provider's subject, by the keyed digest of issuer and subject (see
/// `Keys::subject_digest`).
pub fn subject(digest: &str) -> StreamId {
    StreamId::of(category::SUBJECT, digest)
}
