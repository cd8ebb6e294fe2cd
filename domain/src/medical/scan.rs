//! A medical staff member's scan of a citizen's code (stream `medical-scan-<scan uuid>`):
//! only granted staff scan; a release notice is issued on a scan by the same staff member,
//! within 30 minutes, once.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

/// How long after a scan its notice may be issued.
pub const NOTICE_WINDOW: Duration = Duration::minutes(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MedicalScanCommand {
    /// `staff_granted`: the fact, from the staff member's roster stream, that they hold the
    /// permission.
    Scan {
        scan_id: Uuid,
        staff: PersonId,
        subject: PersonId,
        staff_granted: bool,
        at: OffsetDateTime,
    },
    /// Marks the scan as the one a notice was issued on.
    AttachNotice {
        notice_id: Uuid,
        by: PersonId,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum MedicalScanEvent {
    MedicalScanned {
        scan_id: Uuid,
        staff: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    NoticeAttached {
        notice_id: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for MedicalScanEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum MedicalScanState {
    Absent,
    Scanned {
        staff: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        notice: Option<Uuid>,
    },
}

impl MedicalScanState {
    /// Who was scanned.
    pub fn subject(&self) -> Option<PersonId> {
        match self {
            MedicalScanState::Scanned { subject, .. } => Some(*subject),
            MedicalScanState::Absent => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MedicalScanError {
    #[error("you are not an authorised medical staff member")]
    NotStaff,
    #[error("no such scan")]
    UnknownScan,
    #[error("only the staff member who scanned the code issues its notice")]
    NotTheScanner,
    #[error("the scan is more than 30 minutes old; scan the code again")]
    Expired,
    #[error("a notice was already issued on this scan")]
    AlreadyNoticed,
}

impl Refusal for MedicalScanError {
    fn code(&self) -> &'static str {
        match self {
            MedicalScanError::NotStaff | MedicalScanError::NotTheScanner => FORBIDDEN,
            MedicalScanError::UnknownScan => "scan.unknown",
            MedicalScanError::Expired => "scan.expired",
            MedicalScanError::AlreadyNoticed => "notice.already_issued",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            MedicalScanError::NotStaff | MedicalScanError::NotTheScanner => RefusalKind::Forbidden,
            MedicalScanError::UnknownScan => RefusalKind::NotFound,
            MedicalScanError::Expired | MedicalScanError::AlreadyNoticed => RefusalKind::Conflict,
        }
    }
}

#[derive(Debug)]
pub struct MedicalScan;

impl Decider for MedicalScan {
    type Command = MedicalScanCommand;
    type Event = MedicalScanEvent;
    type State = MedicalScanState;
    type Error = MedicalScanError;

    fn initial() -> MedicalScanState {
        MedicalScanState::Absent
    }

    fn decide(
        command: &MedicalScanCommand,
        state: &MedicalScanState,
    ) -> Result<Vec<MedicalScanEvent>, MedicalScanError> {
        match command {
            MedicalScanCommand::Scan {
                scan_id,
                staff,
                subject,
                staff_granted,
                at,
            } => {
                if !staff_granted {
                    return Err(MedicalScanError::NotStaff);
                }
                Ok(vec![MedicalScanEvent::MedicalScanned {
                    scan_id: *scan_id,
                    staff: *staff,
                    subject: *subject,
                    at: *at,
                }])
            }
            MedicalScanCommand::AttachNotice { notice_id, by, at } => {
                let MedicalScanState::Scanned {
                    staff,
                    at: scanned_at,
                    notice,
                    ..
                } = state
                else {
                    return Err(MedicalScanError::UnknownScan);
                };
                if staff != by {
                    return Err(MedicalScanError::NotTheScanner);
                }
                if notice.is_some() {
                    return Err(MedicalScanError::AlreadyNoticed);
                }
                if *at - *scanned_at > NOTICE_WINDOW {
                    return Err(MedicalScanError::Expired);
                }
                Ok(vec![MedicalScanEvent::NoticeAttached {
                    notice_id: *notice_id,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: MedicalScanState, event: &MedicalScanEvent) -> MedicalScanState {
        match (state, event) {
            (
                _,
                MedicalScanEvent::MedicalScanned {
                    staff, subject, at, ..
                },
            ) => MedicalScanState::Scanned {
                staff: *staff,
                subject: *subject,
                at: *at,
                notice: None,
            },
            (
                MedicalScanState::Scanned {
                    staff, subject, at, ..
                },
                MedicalScanEvent::NoticeAttached { notice_id, .. },
            ) => MedicalScanState::Scanned {
                staff,
                subject,
                at,
                notice: Some(*notice_id),
            },
            (state @ MedicalScanState::Absent, MedicalScanEvent::NoticeAttached { .. }) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-01 09:00 +8);

    fn person(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn scanned() -> MedicalScanEvent {
        MedicalScanEvent::MedicalScanned {
            scan_id: Uuid::from_u128(9),
            staff: person(1),
            subject: person(2),
            at: AT,
        }
    }

    fn attach(by: u128, at: OffsetDateTime) -> MedicalScanCommand {
        MedicalScanCommand::AttachNotice {
            notice_id: Uuid::from_u128(7),
            by: person(by),
            at,
        }
    }

    fn attached(at: OffsetDateTime) -> MedicalScanEvent {
        MedicalScanEvent::NoticeAttached {
            notice_id: Uuid::from_u128(7),
            at,
        }
    }

    #[test]
    fn only_granted_staff_scan() {
        let scan = |staff_granted| MedicalScanCommand::Scan {
            scan_id: Uuid::from_u128(9),
            staff: person(1),
            subject: person(2),
            staff_granted,
            at: AT,
        };
        Given::<MedicalScan>::nothing()
            .when(&scan(true))
            .then(vec![scanned()]);
        Given::<MedicalScan>::nothing()
            .when(&scan(false))
            .then_error(MedicalScanError::NotStaff);
    }

    #[test]
    fn a_notice_is_issued_once_by_the_scanner_within_30_minutes() {
        let last = AT + NOTICE_WINDOW;
        Given::<MedicalScan>::events(vec![scanned()])
            .when(&attach(1, last))
            .then(vec![attached(last)]);
        Given::<MedicalScan>::events(vec![scanned()])
            .when(&attach(1, last + Duration::seconds(1)))
            .then_error(MedicalScanError::Expired);
        Given::<MedicalScan>::events(vec![scanned()])
            .when(&attach(3, AT))
            .then_error(MedicalScanError::NotTheScanner);
        Given::<MedicalScan>::events(vec![scanned(), attached(AT)])
            .when(&attach(1, AT))
            .then_error(MedicalScanError::AlreadyNoticed);
        Given::<MedicalScan>::nothing()
            .when(&attach(1, AT))
            .then_error(MedicalScanError::UnknownScan);
    }

    #[test]
    fn refusals_say_their_code_and_kind() {
        let table = [
            (
                MedicalScanError::NotStaff,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                MedicalScanError::NotTheScanner,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                MedicalScanError::UnknownScan,
                "scan.unknown",
                RefusalKind::NotFound,
            ),
            (
                MedicalScanError::Expired,
                "scan.expired",
                RefusalKind::Conflict,
            ),
            (
                MedicalScanError::AlreadyNoticed,
                "notice.already_issued",
                RefusalKind::Conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
        }
        assert_eq!(MedicalScan::fold(&[scanned()]).subject(), Some(person(2)));
    }
}
