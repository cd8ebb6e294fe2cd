//! Venue use cases, one file per part: the venue itself, its inspectors, scans and checks,
//! quick check-ins and posters, statistics; and the facts they share (a venue's state and
//! admin, an inspector's binding, a person's demographics).

mod checkins;
mod inspectors;
mod scans;
mod stats;
mod venue;

pub use checkins::*;
pub use inspectors::*;
pub use scans::*;
pub use stats::*;
pub use venue::*;

use commands::{CommandContext, Decision, Outcome};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::claim::{Claim, ClaimState};
use domain::code::CodeKind;
use domain::demographics::Demographics;
use domain::document::{mask_name, Document, MobilePhone};
use domain::health::Band;
use domain::health_code::Colour;
use domain::identity::{PersonId, RedReason};
use domain::venue::{
    parse_town, CheckIn, CheckInCommand, Inspection, InspectionCommand, InspectionState, Scan,
    ScanCommand, Venue, VenueAddress, VenueChanges, VenueCommand, VenueDetails, VenueHandover,
    VenueHandoverCommand, VenueId, VenueName, VenueState, VenueType,
};
use domain::Decider;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::orgs::parse_code;
use crate::page::{Page, PageRequest};
use crate::streams;
use crate::support::{collect, fold, instant, seal_phone, Done};
use crate::Services;

/// The venue's state from its stream: `404 venue.unknown` when there is none.
pub async fn venue_state(services: &Services, venue: VenueId) -> Result<VenueState, ServiceError> {
    match fold::<Venue>(services, &streams::venue(venue)).await? {
        VenueState::Absent => Err(ServiceError::not_found(
            "venue.unknown",
            format!("no venue {venue}"),
        )),
        active @ VenueState::Active { .. } => Ok(active),
    }
}

/// The venue's admin: `404` for an unknown venue.
pub async fn admin_of(services: &Services, venue: VenueId) -> Result<PersonId, ServiceError> {
    venue_state(services, venue)
        .await?
        .admin()
        .ok_or_else(|| ServiceError::not_found("venue.unknown", "no such venue"))
}

/// Whether `person` is bound to `venue` as an inspector now (from the binding's stream).
pub async fn is_inspector(
    services: &Services,
    venue: VenueId,
    person: PersonId,
) -> Result<bool, ServiceError> {
    Ok(matches!(
        fold::<Inspection>(services, &streams::inspection(venue, person)).await?,
        InspectionState::Bound { .. }
    ))
}

/// The venue a venue code belongs to.
pub async fn venue_of_code(services: &Services, raw: &str) -> Result<VenueId, ServiceError> {
    let code = parse_code(raw, CodeKind::Venue)?;
    match fold::<Claim>(services, &streams::code(&code)).await? {
        ClaimState::Held { holder } => Ok(VenueId::new(holder)),
        ClaimState::Free => Err(ServiceError::not_found(
            "venue.unknown_code",
            format!("no venue has the code {code}"),
        )),
    }
}

/// A venue named by a path segment: `404 venue.unknown` when it is no venue id.
pub fn venue_id(raw: &str) -> Result<VenueId, ServiceError> {
    Uuid::parse_str(raw)
        .map(VenueId::new)
        .map_err(|_| ServiceError::not_found("venue.unknown", format!("no venue {raw:?}")))
}

/// A venue's admin, found before what they ask is read (who may act comes first): the
/// venue's stream as read, so a command decides on that same read.
#[derive(Debug)]
pub struct VenueAdmin {
    pub venue_id: VenueId,
    pub admin: PersonId,
    loaded: commands::Loaded,
}

/// What only a venue's admin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Edit,
    HandOver,
    SeeDetails,
    SeeStatistics,
    ListInspectors,
    UnbindInspectors,
}

impl AdminAction {
    /// What anyone else is told.
    fn refusal(self) -> &'static str {
        match self {
            AdminAction::Edit => "only the venue's admin may edit it",
            AdminAction::HandOver => "only the venue's admin hands it over",
            AdminAction::SeeDetails => "only the venue's admin sees its details",
            AdminAction::SeeStatistics => "only the venue's admin sees its statistics; inspectors see their own at /v1/me/venues/{id}/stats",
            AdminAction::ListInspectors => "only the venue's admin lists its inspectors",
            AdminAction::UnbindInspectors => "only the venue's admin unbinds inspectors",
        }
    }
}

/// The venue named by `raw` when `person` administers it, for `action`: `404` for no such
/// venue, `403` for anyone else.
pub async fn authorize_admin(
    services: &Services,
    raw: &str,
    person: PersonId,
    action: AdminAction,
) -> Result<VenueAdmin, ServiceError> {
    let venue_id = venue_id(raw)?;
    let stream = streams::venue(venue_id);
    let loaded = services.bus.load(std::slice::from_ref(&stream)).await?;
    match loaded.fold::<Venue>(&stream)?.admin() {
        None => Err(ServiceError::not_found(
            "venue.unknown",
            format!("no venue {venue_id}"),
        )),
        Some(admin) if admin == person => Ok(VenueAdmin {
            venue_id,
            admin,
            loaded,
        }),
        Some(_) => Err(ServiceError::Forbidden(action.refusal().into())),
    }
}

/// A token or poster that fails verification: `422` naming `field`, its rule as the code.
pub(crate) fn refused_token(field: &str, e: crypto::code_token::CodeTokenError) -> ServiceError {
    ServiceError::invalid_with_code(field, e.code(), e.to_string())
}
