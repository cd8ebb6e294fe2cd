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

/// What an inspector does with a scan. `inspector_bound` is the fact, from the inspector's
/// binding stream (`venue-member-<venue>-<inspector>`) at decision time, that the inspector is
/// still bound to the venue: only bound inspectors scan, check and see declarations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanCommand {
    Scan {
        scan_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        inspector_bound: bool,
        /// The code shown was issued within the freshness window (and not reset since): only
        /// then may a check or a declaration view follow (SPEC §3, a photographed code).
        fresh: bool,
        at: OffsetDateTime,
    },
    Check {
        check_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        inspector_bound: bool,
        band: Band,
        demographics: Demographics,
        at: OffsetDateTime,
    },
    /// Asks to see the scanned person's latest declaration: decides no event (the use case
    /// records the access on the person's access stream), or refuses. `inspector_bound` is
    /// whether `viewer` is bound to the scan's venue.
    ViewDeclaration {
        viewer: PersonId,
        inspector_bound: bool,
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
        /// Whether the code shown was fresh (scans recorded before codes carried their issue
        /// time allowed everything: they read as fresh).
        #[serde(default = "recorded_before_freshness")]
        fresh: bool,
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

fn recorded_before_freshness() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum ScanState {
    Absent,
    Scanned {
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        fresh: bool,
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
                ..
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
    #[error("only inspectors bound to venue {0} scan there")]
    NotBoundToScan(VenueId),
    #[error("only inspectors bound to venue {0} record checks there")]
    NotBoundToCheck(VenueId),
    #[error("only the inspector who scanned sees this")]
    NotAllowedToView,
    #[error(
        "the code shown was not issued in the last few minutes (a screenshot or photo shows \
         the colour only): ask the person to refresh their code and scan again"
    )]
    CodeNotFresh,
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
            ScanError::CodeNotFresh => "scan.code_not_fresh",
            ScanError::NotBoundToScan(_)
            | ScanError::NotBoundToCheck(_)
            | ScanError::NotAllowedToView => FORBIDDEN,
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            ScanError::Unknown => RefusalKind::NotFound,
            ScanError::NotTheScanner
            | ScanError::NotBoundToScan(_)
            | ScanError::NotBoundToCheck(_)
            | ScanError::NotAllowedToView => RefusalKind::Forbidden,
            ScanError::AlreadyScanned
            | ScanError::OtherVenue
            | ScanError::Expired
            | ScanError::AlreadyChecked
            | ScanError::CodeNotFresh => RefusalKind::Conflict,
        }
    }
}

/// Whether a scan made at `scanned` is too old to be used at `at`.
fn expired(scanned: OffsetDateTime, at: OffsetDateTime) -> bool {
    at - scanned > SCAN_VALIDITY
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
                    venue_id,
                    inspector_bound: false,
                    ..
                },
                ScanState::Absent | ScanState::Scanned { .. } | ScanState::Checked { .. },
            ) => Err(ScanError::NotBoundToScan(*venue_id)),
            (
                ScanCommand::Scan {
                    scan_id,
                    venue_id,
                    inspector,
                    subject,
                    inspector_bound: true,
                    fresh,
                    at,
                },
                ScanState::Absent,
            ) => Ok(vec![ScanEvent::CodeScanned {
                scan_id: *scan_id,
                venue_id: *venue_id,
                inspector: *inspector,
                subject: *subject,
                fresh: *fresh,
                at: *at,
            }]),
            (
                ScanCommand::Scan {
                    inspector_bound: true,
                    ..
                },
                ScanState::Scanned { .. } | ScanState::Checked { .. },
            ) => Err(ScanError::AlreadyScanned),
            (
                ScanCommand::Check {
                    venue_id,
                    inspector_bound: false,
                    ..
                },
                ScanState::Absent | ScanState::Scanned { .. } | ScanState::Checked { .. },
            ) => Err(ScanError::NotBoundToCheck(*venue_id)),
            (
                ScanCommand::Check {
                    inspector_bound: true,
                    ..
                },
                ScanState::Absent,
            ) => Err(ScanError::Unknown),
            (
                ScanCommand::Check {
                    inspector_bound: true,
                    ..
                },
                ScanState::Checked { .. },
            ) => Err(ScanError::AlreadyChecked),
            (
                ScanCommand::Check {
                    check_id,
                    venue_id,
                    inspector,
                    inspector_bound: true,
                    band,
                    demographics,
                    at,
                },
                ScanState::Scanned {
                    venue_id: scanned_at_venue,
                    inspector: scanner,
                    subject,
                    fresh,
                    at: scanned,
                },
            ) => {
                if inspector != scanner {
                    return Err(ScanError::NotTheScanner);
                }
                if venue_id != scanned_at_venue {
                    return Err(ScanError::OtherVenue);
                }
                if expired(*scanned, *at) {
                    return Err(ScanError::Expired);
                }
                if !fresh {
                    return Err(ScanError::CodeNotFresh);
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
            (ScanCommand::ViewDeclaration { .. }, ScanState::Absent) => Err(ScanError::Unknown),
            (
                ScanCommand::ViewDeclaration {
                    viewer,
                    inspector_bound,
                    at,
                },
                state @ (ScanState::Scanned {
                    inspector,
                    at: scanned,
                    ..
                }
                | ScanState::Checked {
                    inspector,
                    at: scanned,
                    ..
                }),
            ) => {
                if viewer != inspector || !inspector_bound {
                    return Err(ScanError::NotAllowedToView);
                }
                if expired(*scanned, *at) {
                    return Err(ScanError::Expired);
                }
                // A check follows only a fresh code, so a checked scan was fresh.
                if matches!(state, ScanState::Scanned { fresh: false, .. }) {
                    return Err(ScanError::CodeNotFresh);
                }
                Ok(vec![])
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
                    fresh,
                    at,
                    ..
                },
            ) => ScanState::Scanned {
                venue_id: *venue_id,
                inspector: *inspector,
                subject: *subject,
                fresh: *fresh,
                at: *at,
            },
            (
                ScanState::Scanned {
                    venue_id,
                    inspector,
                    subject,
                    at,
                    ..
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
    use time::Duration;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn p(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn venue() -> VenueId {
        VenueId::new(Uuid::from_u128(100))
    }

    fn scan(inspector_bound: bool) -> ScanCommand {
        ScanCommand::Scan {
            scan_id: Uuid::from_u128(7),
            venue_id: venue(),
            inspector: p(5),
            subject: p(9),
            inspector_bound,
            fresh: true,
            at: AT,
        }
    }

    fn scanned() -> ScanEvent {
        scanned_fresh(true)
    }

    fn scanned_fresh(fresh: bool) -> ScanEvent {
        ScanEvent::CodeScanned {
            scan_id: Uuid::from_u128(7),
            venue_id: venue(),
            inspector: p(5),
            subject: p(9),
            fresh,
            at: AT,
        }
    }

    #[test]
    fn an_old_code_is_scanned_but_neither_checked_nor_its_declaration_viewed() {
        let old = ScanCommand::Scan {
            scan_id: Uuid::from_u128(7),
            venue_id: venue(),
            inspector: p(5),
            subject: p(9),
            inspector_bound: true,
            fresh: false,
            at: AT,
        };
        Given::<Scan>::nothing()
            .when(&old)
            .then(vec![scanned_fresh(false)]);
        Given::<Scan>::events(vec![scanned_fresh(false)])
            .when(&check(5, venue(), AT))
            .then_error(ScanError::CodeNotFresh);
        Given::<Scan>::events(vec![scanned_fresh(false)])
            .when(&view(5, true, AT))
            .then_error(ScanError::CodeNotFresh);
        // Who may act is answered first: another inspector learns nothing of the code.
        Given::<Scan>::events(vec![scanned_fresh(false)])
            .when(&view(6, true, AT))
            .then_error(ScanError::NotAllowedToView);
        Given::<Scan>::events(vec![scanned_fresh(false)])
            .when(&check(6, venue(), AT))
            .then_error(ScanError::NotTheScanner);
        assert_eq!(ScanError::CodeNotFresh.code(), "scan.code_not_fresh");
        assert_eq!(ScanError::CodeNotFresh.kind(), RefusalKind::Conflict);
        // Scans recorded before codes carried their issue time read as fresh.
        let before: ScanEvent = serde_json::from_value(serde_json::json!({
            "type": "CodeScanned",
            "data": {"scan_id": Uuid::from_u128(7), "venue_id": venue(), "inspector": p(5),
                     "subject": p(9), "at": "2026-03-02T09:00:00+08:00"}
        }))
        .expect("an event of the first shape");
        assert_eq!(before, scanned());
    }

    fn demographics() -> Demographics {
        Demographics {
            sex: Some(Sex::Female),
            age_band: Some(AgeBand::From18To39),
        }
    }

    fn check_by(
        inspector: u128,
        inspector_bound: bool,
        venue_id: VenueId,
        at: OffsetDateTime,
    ) -> ScanCommand {
        ScanCommand::Check {
            check_id: Uuid::from_u128(8),
            venue_id,
            inspector: p(inspector),
            inspector_bound,
            band: Band::Fever,
            demographics: demographics(),
            at,
        }
    }

    fn check(inspector: u128, venue_id: VenueId, at: OffsetDateTime) -> ScanCommand {
        check_by(inspector, true, venue_id, at)
    }

    fn checked(at: OffsetDateTime) -> ScanEvent {
        ScanEvent::TemperatureChecked {
            check_id: Uuid::from_u128(8),
            venue_id: venue(),
            inspector: p(5),
            subject: p(9),
            band: Band::Fever,
            demographics: demographics(),
            at,
        }
    }

    fn view(viewer: u128, inspector_bound: bool, at: OffsetDateTime) -> ScanCommand {
        ScanCommand::ViewDeclaration {
            viewer: p(viewer),
            inspector_bound,
            at,
        }
    }

    #[test]
    fn only_a_bound_inspector_scans() {
        Given::<Scan>::nothing()
            .when(&scan(true))
            .then(vec![scanned()]);
        Given::<Scan>::nothing()
            .when(&scan(false))
            .then_error(ScanError::NotBoundToScan(venue()));
        Given::<Scan>::events(vec![scanned()])
            .when(&scan(true))
            .then_error(ScanError::AlreadyScanned);
        assert_eq!(
            ScanError::NotBoundToScan(venue()).to_string(),
            format!("only inspectors bound to venue {} scan there", venue())
        );
    }

    #[test]
    fn only_a_still_bound_inspector_records_a_check() {
        Given::<Scan>::events(vec![scanned()])
            .when(&check_by(5, true, venue(), AT))
            .then(vec![checked(AT)]);
        Given::<Scan>::events(vec![scanned()])
            .when(&check_by(5, false, venue(), AT))
            .then_error(ScanError::NotBoundToCheck(venue()));
        // Unbound comes first: an unbound inspector learns nothing of the scan.
        Given::<Scan>::nothing()
            .when(&check_by(5, false, venue(), AT))
            .then_error(ScanError::NotBoundToCheck(venue()));
        assert_eq!(
            ScanError::NotBoundToCheck(venue()).to_string(),
            format!(
                "only inspectors bound to venue {} record checks there",
                venue()
            )
        );
    }

    #[test]
    fn a_check_follows_its_own_scan_once_and_soon() {
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + Duration::minutes(1)))
            .then(vec![checked(AT + Duration::minutes(1))]);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(6, venue(), AT))
            .then_error(ScanError::NotTheScanner);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, VenueId::new(Uuid::from_u128(101)), AT))
            .then_error(ScanError::OtherVenue);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + Duration::minutes(30)))
            .then(vec![checked(AT + Duration::minutes(30))]);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + Duration::minutes(31)))
            .then_error(ScanError::Expired);
        Given::<Scan>::events(vec![scanned(), checked(AT)])
            .when(&check(5, venue(), AT))
            .then_error(ScanError::AlreadyChecked);
        Given::<Scan>::nothing()
            .when(&check(5, venue(), AT))
            .then_error(ScanError::Unknown);
    }

    #[test]
    fn only_the_still_bound_scanner_sees_the_declaration_within_30_minutes() {
        Given::<Scan>::events(vec![scanned()])
            .when(&view(5, true, AT + Duration::minutes(30)))
            .then(vec![]);
        Given::<Scan>::events(vec![scanned(), checked(AT)])
            .when(&view(5, true, AT + Duration::minutes(1)))
            .then(vec![]);
        Given::<Scan>::events(vec![scanned()])
            .when(&view(6, true, AT))
            .then_error(ScanError::NotAllowedToView);
        Given::<Scan>::events(vec![scanned()])
            .when(&view(5, false, AT))
            .then_error(ScanError::NotAllowedToView);
        Given::<Scan>::events(vec![scanned()])
            .when(&view(5, true, AT + Duration::minutes(31)))
            .then_error(ScanError::Expired);
        Given::<Scan>::nothing()
            .when(&view(5, true, AT))
            .then_error(ScanError::Unknown);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let conflict = RefusalKind::Conflict;
        let forbidden = RefusalKind::Forbidden;
        let table = [
            (ScanError::Unknown, "scan.unknown", RefusalKind::NotFound),
            (ScanError::AlreadyScanned, "scan.exists", conflict),
            (ScanError::NotTheScanner, "auth.forbidden", forbidden),
            (ScanError::OtherVenue, "scan.other_venue", conflict),
            (ScanError::Expired, "scan.expired", conflict),
            (
                ScanError::AlreadyChecked,
                "check.already_recorded",
                conflict,
            ),
            (
                ScanError::NotBoundToScan(venue()),
                "auth.forbidden",
                forbidden,
            ),
            (
                ScanError::NotBoundToCheck(venue()),
                "auth.forbidden",
                forbidden,
            ),
            (ScanError::NotAllowedToView, "auth.forbidden", forbidden),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }
}
