//! A scan of a citizen's code at a venue (stream `scan-<uuid>`), holding the temperature
//! check made on it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::demographics::Demographics;
use crate::health::Band;
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

use super::aggregate::VenueId;

/// How long a scan may be followed by a check or a declaration view.
pub const SCAN_VALIDITY: time::Duration = time::Duration::minutes(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanCommand {
    Scan {
        scan_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        at: OffsetDateTime,
    },
    Check {
        check_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        band: Band,
        demographics: Demographics,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ScanEvent {
    CodeScanned {
        scan_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TemperatureChecked {
        check_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        band: Band,
        demographics: Demographics,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for ScanEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum ScanState {
    Absent,
    Scanned {
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Checked {
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        /// When the code was scanned.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl ScanState {
    /// Who scanned whom, where and when, once scanned.
    pub fn scanned(&self) -> Option<(VenueId, PersonId, PersonId, OffsetDateTime)> {
        match self {
            ScanState::Absent => None,
            ScanState::Scanned {
                venue_id,
                inspector,
                subject,
                at,
            }
            | ScanState::Checked {
                venue_id,
                inspector,
                subject,
                at,
            } => Some((*venue_id, *inspector, *subject, *at)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("no such scan")]
    Unknown,
    #[error("the scan already exists")]
    AlreadyScanned,
    #[error("only the inspector who scanned may use this scan")]
    NotTheScanner,
    #[error("this scan was made at another venue")]
    OtherVenue,
    #[error("the scan is older than 30 minutes; scan the code again")]
    Expired,
    #[error("a check was already recorded for this scan; scan again for a new check")]
    AlreadyChecked,
}

impl Refusal for ScanError {
    fn code(&self) -> &'static str {
        match self {
            ScanError::Unknown => "scan.unknown",
            ScanError::AlreadyScanned => "scan.exists",
            ScanError::NotTheScanner => FORBIDDEN,
            ScanError::OtherVenue => "scan.other_venue",
            ScanError::Expired => "scan.expired",
            ScanError::AlreadyChecked => "check.already_recorded",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            ScanError::Unknown => RefusalKind::NotFound,
            ScanError::NotTheScanner => RefusalKind::Forbidden,
            ScanError::AlreadyScanned
            | ScanError::OtherVenue
            | ScanError::Expired
            | ScanError::AlreadyChecked => RefusalKind::Conflict,
        }
    }
}

/// A scan of a citizen's code at a venue, and the check made on it.
#[derive(Debug)]
pub struct Scan;

impl Decider for Scan {
    type Command = ScanCommand;
    type Event = ScanEvent;
    type State = ScanState;
    type Error = ScanError;

    fn initial() -> ScanState {
        ScanState::Absent
    }

    fn decide(command: &ScanCommand, state: &ScanState) -> Result<Vec<ScanEvent>, ScanError> {
        match (command, state) {
            (
                ScanCommand::Scan {
                    scan_id,
                    venue_id,
                    inspector,
                    subject,
                    at,
                },
                ScanState::Absent,
            ) => Ok(vec![ScanEvent::CodeScanned {
                scan_id: *scan_id,
                venue_id: *venue_id,
                inspector: *inspector,
                subject: *subject,
                at: *at,
            }]),
            (ScanCommand::Scan { .. }, ScanState::Scanned { .. } | ScanState::Checked { .. }) => {
                Err(ScanError::AlreadyScanned)
            }
            (ScanCommand::Check { .. }, ScanState::Absent) => Err(ScanError::Unknown),
            (ScanCommand::Check { .. }, ScanState::Checked { .. }) => {
                Err(ScanError::AlreadyChecked)
            }
            (
                ScanCommand::Check {
                    check_id,
                    venue_id,
                    inspector,
                    band,
                    demographics,
                    at,
                },
                ScanState::Scanned {
                    venue_id: scanned_at_venue,
                    inspector: scanner,
                    subject,
                    at: scanned,
                },
            ) => {
                if inspector != scanner {
                    return Err(ScanError::NotTheScanner);
                }
                if venue_id != scanned_at_venue {
                    return Err(ScanError::OtherVenue);
                }
                if *at - *scanned > SCAN_VALIDITY {
                    return Err(ScanError::Expired);
                }
                Ok(vec![ScanEvent::TemperatureChecked {
                    check_id: *check_id,
                    venue_id: *venue_id,
                    inspector: *inspector,
                    subject: *subject,
                    band: *band,
                    demographics: *demographics,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: ScanState, event: &ScanEvent) -> ScanState {
        match (state, event) {
            (
                ScanState::Absent,
                ScanEvent::CodeScanned {
                    venue_id,
                    inspector,
                    subject,
                    at,
                    ..
                },
            ) => ScanState::Scanned {
                venue_id: *venue_id,
                inspector: *inspector,
                subject: *subject,
                at: *at,
            },
            (
                ScanState::Scanned {
                    venue_id,
                    inspector,
                    subject,
                    at,
                },
                ScanEvent::TemperatureChecked { .. },
            ) => ScanState::Checked {
                venue_id,
                inspector,
                subject,
                at,
            },
            (
                state @ (ScanState::Scanned { .. } | ScanState::Checked { .. }),
                ScanEvent::CodeScanned { .. },
            )
            | (
                state @ (ScanState::Absent | ScanState::Checked { .. }),
                ScanEvent::TemperatureChecked { .. },
            ) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demographics::{AgeBand, Sex};
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn p(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn venue() -> VenueId {
        VenueId::new(Uuid::from_u128(100))
    }

    fn scanned() -> ScanEvent {
        ScanEvent::CodeScanned {
            scan_id: Uuid::from_u128(7),
            venue_id: venue(),
            inspector: p(5),
            subject: p(9),
            at: AT,
        }
    }

    fn check(inspector: u128, venue_id: VenueId, at: OffsetDateTime) -> ScanCommand {
        ScanCommand::Check {
            check_id: Uuid::from_u128(8),
            venue_id,
            inspector: p(inspector),
            band: Band::Fever,
            demographics: Demographics {
                sex: Some(Sex::Female),
                age_band: Some(AgeBand::From18To39),
            },
            at,
        }
    }

    #[test]
    fn a_check_follows_its_own_scan_once_and_soon() {
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + time::Duration::minutes(1)))
            .then(vec![ScanEvent::TemperatureChecked {
                check_id: Uuid::from_u128(8),
                venue_id: venue(),
                inspector: p(5),
                subject: p(9),
                band: Band::Fever,
                demographics: Demographics {
                    sex: Some(Sex::Female),
                    age_band: Some(AgeBand::From18To39),
                },
                at: AT + time::Duration::minutes(1),
            }]);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(6, venue(), AT))
            .then_error(ScanError::NotTheScanner);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, VenueId::new(Uuid::from_u128(101)), AT))
            .then_error(ScanError::OtherVenue);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + time::Duration::minutes(31)))
            .then_error(ScanError::Expired);
        let state_after = Scan::fold(&[scanned()]);
        let events = Scan::decide(&check(5, venue(), AT), &state_after).expect("checked");
        Given::<Scan>::events(vec![scanned(), events[0].clone()])
            .when(&check(5, venue(), AT))
            .then_error(ScanError::AlreadyChecked);
        Given::<Scan>::nothing()
            .when(&check(5, venue(), AT))
            .then_error(ScanError::Unknown);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let conflict = RefusalKind::Conflict;
        let table = [
            (ScanError::Unknown, "scan.unknown", RefusalKind::NotFound),
            (ScanError::AlreadyScanned, "scan.exists", conflict),
            (
                ScanError::NotTheScanner,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (ScanError::OtherVenue, "scan.other_venue", conflict),
            (ScanError::Expired, "scan.expired", conflict),
            (
                ScanError::AlreadyChecked,
                "check.already_recorded",
                conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }
}
