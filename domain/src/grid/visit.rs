//! Visits (上门核查) by a grid's workers: a scan of a citizen's code in the grid (stream
//! `grid-scan-<uuid>`) and the visit recorded on it, once, by the same worker within 30
//! minutes; or a visit entered by hand (stream `grid-visit-<uuid>`), whose personal data is
//! sealed under the grid's own key. Only a worker bound to the grid (authorised or not) scans
//! and records, and only in a confirmed grid.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::health::Reading;
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::sealed::Sealed;
use crate::Decider;

use super::aggregate::GridId;

/// How long a scan stays usable for a visit.
pub const GRID_SCAN_VALIDITY: Duration = Duration::minutes(30);

/// Where the facts a visit needs come from: whether the grid is confirmed and whether the
/// worker is bound to it now (both read from their streams and checked at commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitFacts {
    pub grid_confirmed: bool,
    pub worker_bound: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridScanCommand {
    Scan {
        scan_id: Uuid,
        grid_id: GridId,
        worker: PersonId,
        subject: PersonId,
        facts: VisitFacts,
        /// The code shown was issued within the freshness window and not reset since: only
        /// then may a visit or a declaration view follow (SPEC §3).
        fresh: bool,
        at: OffsetDateTime,
    },
    RecordVisit {
        visit_id: Uuid,
        grid_id: GridId,
        worker: PersonId,
        reading: Reading,
        /// Sealed under the grid's key.
        notes: Option<Sealed>,
        facts: VisitFacts,
        at: OffsetDateTime,
    },
    /// The scanning worker, still bound, looks at the scanned person's latest declaration
    /// within 30 minutes of the scan (before or after recording the visit). No event.
    ViewDeclaration {
        viewer: PersonId,
        worker_bound: bool,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum GridScanEvent {
    GridCodeScanned {
        scan_id: Uuid,
        grid_id: GridId,
        worker: PersonId,
        subject: PersonId,
        /// Whether the code shown was fresh (scans recorded before codes carried their issue
        /// time read as fresh).
        #[serde(default = "recorded_before_freshness")]
        fresh: bool,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridVisitRecorded {
        visit_id: Uuid,
        grid_id: GridId,
        worker: PersonId,
        subject: PersonId,
        reading: Reading,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<Sealed>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for GridScanEvent {}

fn recorded_before_freshness() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum GridScanState {
    Absent,
    Scanned {
        grid_id: GridId,
        worker: PersonId,
        subject: PersonId,
        fresh: bool,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Visited {
        grid_id: GridId,
        worker: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        scanned_at: OffsetDateTime,
    },
}

impl GridScanState {
    /// The grid, the worker, the scanned person and when the code was scanned.
    pub fn scanned(&self) -> Option<(GridId, PersonId, PersonId, OffsetDateTime)> {
        match self {
            GridScanState::Absent => None,
            GridScanState::Scanned {
                grid_id,
                worker,
                subject,
                at,
                ..
            }
            | GridScanState::Visited {
                grid_id,
                worker,
                subject,
                scanned_at: at,
            } => Some((*grid_id, *worker, *subject, *at)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitError {
    #[error("only workers bound to grid {0} scan codes and record visits there")]
    NotBound(GridId),
    #[error("grid {0} waits for a region admin's confirmation; it takes no visits yet")]
    Pending(GridId),
    #[error("no such scan")]
    UnknownScan,
    #[error("the scan already exists")]
    AlreadyScanned,
    #[error("only the worker who scanned, while bound to the grid, records the visit or sees the declaration")]
    NotTheScanner,
    #[error("this scan was made in another grid")]
    OtherGrid,
    #[error("the scan is older than 30 minutes; scan the code again")]
    Expired,
    #[error("a visit was already recorded for this scan; scan again for a new visit")]
    AlreadyVisited,
    #[error("the visit already exists")]
    AlreadyRecorded,
    #[error(
        "the code shown was not issued in the last few minutes (a screenshot or photo shows \
         the colour only): ask the person to refresh their code and scan again"
    )]
    CodeNotFresh,
}

impl Refusal for VisitError {
    fn code(&self) -> &'static str {
        match self {
            VisitError::NotBound(_) | VisitError::NotTheScanner => FORBIDDEN,
            VisitError::Pending(_) => "grid.pending",
            VisitError::UnknownScan => "scan.unknown",
            VisitError::AlreadyScanned => "scan.exists",
            VisitError::OtherGrid => "scan.other_grid",
            VisitError::Expired => "scan.expired",
            VisitError::AlreadyVisited => "visit.already_recorded",
            VisitError::AlreadyRecorded => "visit.exists",
            VisitError::CodeNotFresh => "scan.code_not_fresh",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            VisitError::NotBound(_) | VisitError::NotTheScanner => RefusalKind::Forbidden,
            VisitError::UnknownScan => RefusalKind::NotFound,
            VisitError::Pending(_)
            | VisitError::AlreadyScanned
            | VisitError::OtherGrid
            | VisitError::Expired
            | VisitError::AlreadyVisited
            | VisitError::AlreadyRecorded
            | VisitError::CodeNotFresh => RefusalKind::Conflict,
        }
    }
}

/// Who may scan or record in a grid: a bound worker (first), in a confirmed grid.
fn allowed(grid_id: GridId, facts: VisitFacts) -> Result<(), VisitError> {
    if !facts.worker_bound {
        return Err(VisitError::NotBound(grid_id));
    }
    if !facts.grid_confirmed {
        return Err(VisitError::Pending(grid_id));
    }
    Ok(())
}

/// A scan in a grid and the visit recorded on it.
#[derive(Debug)]
pub struct GridScan;

impl Decider for GridScan {
    type Command = GridScanCommand;
    type Event = GridScanEvent;
    type State = GridScanState;
    type Error = VisitError;

    fn initial() -> GridScanState {
        GridScanState::Absent
    }

    fn decide(
        command: &GridScanCommand,
        state: &GridScanState,
    ) -> Result<Vec<GridScanEvent>, VisitError> {
        match command {
            GridScanCommand::Scan { grid_id, facts, .. }
            | GridScanCommand::RecordVisit { grid_id, facts, .. } => allowed(*grid_id, *facts)?,
            GridScanCommand::ViewDeclaration { .. } => {}
        }
        match (command, state) {
            (
                GridScanCommand::Scan {
                    scan_id,
                    grid_id,
                    worker,
                    subject,
                    fresh,
                    at,
                    ..
                },
                GridScanState::Absent,
            ) => Ok(vec![GridScanEvent::GridCodeScanned {
                scan_id: *scan_id,
                grid_id: *grid_id,
                worker: *worker,
                subject: *subject,
                fresh: *fresh,
                at: *at,
            }]),
            (
                GridScanCommand::Scan { .. },
                GridScanState::Scanned { .. } | GridScanState::Visited { .. },
            ) => Err(VisitError::AlreadyScanned),
            (
                GridScanCommand::RecordVisit { .. } | GridScanCommand::ViewDeclaration { .. },
                GridScanState::Absent,
            ) => Err(VisitError::UnknownScan),
            (
                GridScanCommand::ViewDeclaration {
                    viewer,
                    worker_bound,
                    at,
                },
                state @ (GridScanState::Scanned {
                    worker,
                    at: scanned_at,
                    ..
                }
                | GridScanState::Visited {
                    worker, scanned_at, ..
                }),
            ) => {
                if viewer != worker || !worker_bound {
                    return Err(VisitError::NotTheScanner);
                }
                if *at - *scanned_at > GRID_SCAN_VALIDITY {
                    return Err(VisitError::Expired);
                }
                // A visit follows only a fresh code, so a visited scan was fresh.
                if matches!(state, GridScanState::Scanned { fresh: false, .. }) {
                    return Err(VisitError::CodeNotFresh);
                }
                Ok(vec![])
            }
            (GridScanCommand::RecordVisit { .. }, GridScanState::Visited { .. }) => {
                Err(VisitError::AlreadyVisited)
            }
            (
                GridScanCommand::RecordVisit {
                    visit_id,
                    grid_id,
                    worker,
                    reading,
                    notes,
                    at,
                    ..
                },
                GridScanState::Scanned {
                    grid_id: scanned_in,
                    worker: scanner,
                    subject,
                    fresh,
                    at: scanned_at,
                },
            ) => {
                if worker != scanner {
                    return Err(VisitError::NotTheScanner);
                }
                if grid_id != scanned_in {
                    return Err(VisitError::OtherGrid);
                }
                if *at - *scanned_at > GRID_SCAN_VALIDITY {
                    return Err(VisitError::Expired);
                }
                if !fresh {
                    return Err(VisitError::CodeNotFresh);
                }
                Ok(vec![GridScanEvent::GridVisitRecorded {
                    visit_id: *visit_id,
                    grid_id: *grid_id,
                    worker: *worker,
                    subject: *subject,
                    reading: reading.clone(),
                    notes: notes.clone(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: GridScanState, event: &GridScanEvent) -> GridScanState {
        match event {
            GridScanEvent::GridCodeScanned {
                grid_id,
                worker,
                subject,
                fresh,
                at,
                ..
            } => GridScanState::Scanned {
                grid_id: *grid_id,
                worker: *worker,
                subject: *subject,
                fresh: *fresh,
                at: *at,
            },
            GridScanEvent::GridVisitRecorded {
                grid_id,
                worker,
                subject,
                at,
                ..
            } => GridScanState::Visited {
                grid_id: *grid_id,
                worker: *worker,
                subject: *subject,
                scanned_at: match state {
                    GridScanState::Scanned { at: scanned, .. } => scanned,
                    GridScanState::Visited { scanned_at, .. } => scanned_at,
                    GridScanState::Absent => *at,
                },
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualVisitCommand {
    Record {
        visit_id: Uuid,
        grid_id: GridId,
        worker: PersonId,
        /// `resident_id`, `hk_macao_permit`, `passport` or `birth_certificate` (for infants).
        document_kind: String,
        /// Name, document, phone and address, sealed under the grid's key.
        person: Sealed,
        reading: Reading,
        notes: Option<Sealed>,
        facts: VisitFacts,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ManualVisitEvent {
    ManualVisitRecorded {
        visit_id: Uuid,
        grid_id: GridId,
        worker: PersonId,
        document_kind: String,
        person: Sealed,
        reading: Reading,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<Sealed>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for ManualVisitEvent {}

/// A visit entered by hand.
#[derive(Debug)]
pub struct ManualVisit;

impl Decider for ManualVisit {
    type Command = ManualVisitCommand;
    type Event = ManualVisitEvent;
    /// Whether the visit is recorded.
    type State = bool;
    type Error = VisitError;

    fn initial() -> bool {
        false
    }

    fn decide(
        command: &ManualVisitCommand,
        state: &bool,
    ) -> Result<Vec<ManualVisitEvent>, VisitError> {
        match (command, state) {
            (
                ManualVisitCommand::Record {
                    visit_id,
                    grid_id,
                    worker,
                    document_kind,
                    person,
                    reading,
                    notes,
                    facts,
                    at,
                },
                false,
            ) => {
                allowed(*grid_id, *facts)?;
                Ok(vec![ManualVisitEvent::ManualVisitRecorded {
                    visit_id: *visit_id,
                    grid_id: *grid_id,
                    worker: *worker,
                    document_kind: document_kind.clone(),
                    person: person.clone(),
                    reading: reading.clone(),
                    notes: notes.clone(),
                    at: *at,
                }])
            }
            (ManualVisitCommand::Record { grid_id, facts, .. }, true) => {
                allowed(*grid_id, *facts)?;
                Err(VisitError::AlreadyRecorded)
            }
        }
    }

    fn evolve(_state: bool, event: &ManualVisitEvent) -> bool {
        match event {
            ManualVisitEvent::ManualVisitRecorded { .. } => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Band;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn grid() -> GridId {
        GridId::new(Uuid::from_u128(9))
    }

    fn worker() -> PersonId {
        PersonId::new(Uuid::from_u128(5))
    }

    fn subject() -> PersonId {
        PersonId::new(Uuid::from_u128(7))
    }

    fn facts(grid_confirmed: bool, worker_bound: bool) -> VisitFacts {
        VisitFacts {
            grid_confirmed,
            worker_bound,
        }
    }

    fn reading() -> Reading {
        Reading {
            temperature_c: None,
            band: Band::Normal,
            symptoms: Vec::new(),
        }
    }

    fn scan(f: VisitFacts) -> GridScanCommand {
        GridScanCommand::Scan {
            scan_id: Uuid::from_u128(1),
            grid_id: grid(),
            worker: worker(),
            subject: subject(),
            facts: f,
            fresh: true,
            at: AT,
        }
    }

    fn scanned() -> GridScanEvent {
        scanned_fresh(true)
    }

    fn scanned_fresh(fresh: bool) -> GridScanEvent {
        GridScanEvent::GridCodeScanned {
            scan_id: Uuid::from_u128(1),
            grid_id: grid(),
            worker: worker(),
            subject: subject(),
            fresh,
            at: AT,
        }
    }

    #[test]
    fn an_old_code_is_scanned_but_takes_no_visit_and_shows_no_declaration() {
        let old = GridScanCommand::Scan {
            scan_id: Uuid::from_u128(1),
            grid_id: grid(),
            worker: worker(),
            subject: subject(),
            facts: facts(true, true),
            fresh: false,
            at: AT,
        };
        Given::<GridScan>::nothing()
            .when(&old)
            .then(vec![scanned_fresh(false)]);
        Given::<GridScan>::events(vec![scanned_fresh(false)])
            .when(&visit(worker(), facts(true, true), AT))
            .then_error(VisitError::CodeNotFresh);
        Given::<GridScan>::events(vec![scanned_fresh(false)])
            .when(&GridScanCommand::ViewDeclaration {
                viewer: worker(),
                worker_bound: true,
                at: AT,
            })
            .then_error(VisitError::CodeNotFresh);
        // Who may act comes first.
        Given::<GridScan>::events(vec![scanned_fresh(false)])
            .when(&visit(subject(), facts(true, true), AT))
            .then_error(VisitError::NotTheScanner);
        assert_eq!(VisitError::CodeNotFresh.code(), "scan.code_not_fresh");
    }

    fn visit(by: PersonId, f: VisitFacts, at: OffsetDateTime) -> GridScanCommand {
        GridScanCommand::RecordVisit {
            visit_id: Uuid::from_u128(2),
            grid_id: grid(),
            worker: by,
            reading: reading(),
            notes: None,
            facts: f,
            at,
        }
    }

    #[test]
    fn bound_workers_scan_in_confirmed_grids_only() {
        Given::<GridScan>::nothing()
            .when(&scan(facts(true, true)))
            .then(vec![scanned()]);
        Given::<GridScan>::nothing()
            .when(&scan(facts(true, false)))
            .then_error(VisitError::NotBound(grid()));
        Given::<GridScan>::nothing()
            .when(&scan(facts(false, true)))
            .then_error(VisitError::Pending(grid()));
        // Who may ask comes first.
        Given::<GridScan>::nothing()
            .when(&scan(facts(false, false)))
            .then_error(VisitError::NotBound(grid()));
    }

    #[test]
    fn a_scan_takes_one_visit_by_its_worker_within_30_minutes() {
        let recorded = GridScanEvent::GridVisitRecorded {
            visit_id: Uuid::from_u128(2),
            grid_id: grid(),
            worker: worker(),
            subject: subject(),
            reading: reading(),
            notes: None,
            at: AT,
        };
        Given::<GridScan>::events(vec![scanned()])
            .when(&visit(worker(), facts(true, true), AT))
            .then(vec![recorded.clone()]);
        Given::<GridScan>::events(vec![scanned(), recorded])
            .when(&visit(worker(), facts(true, true), AT))
            .then_error(VisitError::AlreadyVisited);
        Given::<GridScan>::events(vec![scanned()])
            .when(&visit(
                PersonId::new(Uuid::from_u128(8)),
                facts(true, true),
                AT,
            ))
            .then_error(VisitError::NotTheScanner);
        Given::<GridScan>::events(vec![scanned()])
            .when(&visit(
                worker(),
                facts(true, true),
                AT + Duration::minutes(31),
            ))
            .then_error(VisitError::Expired);
        // Unbound since the scan (a revocation of the binding racing the visit).
        Given::<GridScan>::events(vec![scanned()])
            .when(&visit(worker(), facts(true, false), AT))
            .then_error(VisitError::NotBound(grid()));
        Given::<GridScan>::nothing()
            .when(&visit(worker(), facts(true, true), AT))
            .then_error(VisitError::UnknownScan);
    }

    #[test]
    fn the_scanning_worker_sees_the_declaration_while_bound_within_30_minutes() {
        let view = |viewer: PersonId, worker_bound: bool, at: OffsetDateTime| {
            GridScanCommand::ViewDeclaration {
                viewer,
                worker_bound,
                at,
            }
        };
        let recorded = GridScanEvent::GridVisitRecorded {
            visit_id: Uuid::from_u128(2),
            grid_id: grid(),
            worker: worker(),
            subject: subject(),
            reading: reading(),
            notes: None,
            at: AT + Duration::minutes(20),
        };
        Given::<GridScan>::events(vec![scanned()])
            .when(&view(worker(), true, AT + Duration::minutes(30)))
            .then(vec![]);
        // After the visit, still counted from the scan.
        Given::<GridScan>::events(vec![scanned(), recorded.clone()])
            .when(&view(worker(), true, AT + Duration::minutes(25)))
            .then(vec![]);
        Given::<GridScan>::events(vec![scanned(), recorded])
            .when(&view(worker(), true, AT + Duration::minutes(31)))
            .then_error(VisitError::Expired);
        Given::<GridScan>::events(vec![scanned()])
            .when(&view(worker(), true, AT + Duration::minutes(31)))
            .then_error(VisitError::Expired);
        Given::<GridScan>::events(vec![scanned()])
            .when(&view(PersonId::new(Uuid::from_u128(8)), true, AT))
            .then_error(VisitError::NotTheScanner);
        Given::<GridScan>::events(vec![scanned()])
            .when(&view(worker(), false, AT))
            .then_error(VisitError::NotTheScanner);
        Given::<GridScan>::nothing()
            .when(&view(worker(), true, AT))
            .then_error(VisitError::UnknownScan);
    }

    #[test]
    fn manual_visits_follow_the_same_rules_once() {
        let record = |f| ManualVisitCommand::Record {
            visit_id: Uuid::from_u128(3),
            grid_id: grid(),
            worker: worker(),
            document_kind: "birth_certificate".into(),
            person: Sealed::new("v1.grid.sealed"),
            reading: reading(),
            notes: None,
            facts: f,
            at: AT,
        };
        let recorded = ManualVisitEvent::ManualVisitRecorded {
            visit_id: Uuid::from_u128(3),
            grid_id: grid(),
            worker: worker(),
            document_kind: "birth_certificate".into(),
            person: Sealed::new("v1.grid.sealed"),
            reading: reading(),
            notes: None,
            at: AT,
        };
        Given::<ManualVisit>::nothing()
            .when(&record(facts(true, true)))
            .then(vec![recorded.clone()]);
        Given::<ManualVisit>::nothing()
            .when(&record(facts(false, true)))
            .then_error(VisitError::Pending(grid()));
        Given::<ManualVisit>::nothing()
            .when(&record(facts(true, false)))
            .then_error(VisitError::NotBound(grid()));
        Given::<ManualVisit>::events(vec![recorded])
            .when(&record(facts(true, true)))
            .then_error(VisitError::AlreadyRecorded);
    }
}
