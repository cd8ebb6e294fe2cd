//! Public venues (公共场所) with temperature checkpoints: the venue itself (stream
//! `venue-<uuid>`), its inspectors' bindings (`venue-member-<venue>-<person>`), scans of a
//! citizen's code (`scan-<uuid>`, holding the check made on it) and quick check-ins
//! (`checkin-<uuid>`).

mod aggregate;
mod checkin;
mod handover;
mod inspection;
mod scan;
mod town;

pub use aggregate::{
    Venue, VenueAddress, VenueChanges, VenueCommand, VenueDetails, VenueError, VenueEvent, VenueId,
    VenueName, VenueState, VenueType,
};
pub use checkin::{CheckIn, CheckInCommand, CheckInError, CheckInEvent, CheckInState};
pub use handover::{PendingHandover, VenueHandover, VenueHandoverCommand, VenueHandoverEvent};
pub use inspection::{
    Inspection, InspectionCommand, InspectionError, InspectionEvent, InspectionState,
};
pub use scan::{Scan, ScanCommand, ScanError, ScanEvent, ScanState, SCAN_VALIDITY};
pub use town::parse_town;
