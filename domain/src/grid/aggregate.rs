//! A grid (stream `grid-<uuid>`): created by its admin with a grid code, pending until a
//! region admin whose region encloses the grid's region confirms it; its details change at
//! most once per natural week.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::code::BindingCode;
use crate::document::DocumentError;
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::region::RegionCode;
use crate::week;
use crate::Decider;

/// A grid's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GridId(Uuid);

impl GridId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for GridId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A grid's name (a village or community's grid), 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GridName(String);

impl GridName {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 || n > 50 || t.chars().any(char::is_control) {
            return Err(DocumentError {
                field: "name",
                code: "text.length",
                detail: "name has 1 to 50 characters".into(),
            });
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an edit changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<GridName>,
}

impl GridChanges {
    pub fn is_empty(&self) -> bool {
        self.region.is_none() && self.name.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridCommand {
    Create {
        grid_id: GridId,
        admin: PersonId,
        code: BindingCode,
        region: RegionCode,
        name: GridName,
        at: OffsetDateTime,
    },
    /// A region admin confirms the grid. `confirming_region` is the fact, read from the
    /// region streams enclosing the grid's region: the region (if any) among them that the
    /// person asking administers.
    Confirm {
        by: PersonId,
        confirming_region: Option<RegionCode>,
        at: OffsetDateTime,
    },
    Edit {
        by: PersonId,
        changes: GridChanges,
        at: OffsetDateTime,
    },
    /// The successor named in an accepted handover becomes the admin.
    HandOver { to: PersonId, at: OffsetDateTime },
    /// The admin ends the grid, confirming with its code: everything it collected becomes
    /// unreadable (its key is destroyed); its code is never given out again.
    Dissolve {
        by: PersonId,
        confirm_code: BindingCode,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum GridEvent {
    GridCreated {
        grid_id: GridId,
        admin: PersonId,
        code: BindingCode,
        region: RegionCode,
        name: GridName,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridConfirmed {
        by: PersonId,
        /// The confirming admin's region.
        region: RegionCode,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridDetailsEdited {
        changes: GridChanges,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridDissolved {
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridHandedOver {
        from: PersonId,
        to: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for GridEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum GridState {
    Absent,
    /// Created, waiting for a region admin: workers may bind, nobody records visits.
    Pending {
        admin: PersonId,
        code: BindingCode,
        region: RegionCode,
        #[serde(with = "time::serde::rfc3339::option")]
        last_edit: Option<OffsetDateTime>,
    },
    Active {
        admin: PersonId,
        code: BindingCode,
        region: RegionCode,
        #[serde(with = "time::serde::rfc3339::option")]
        last_edit: Option<OffsetDateTime>,
    },
    /// Ended by its admin: nothing more happens in it.
    Dissolved {
        admin: PersonId,
        code: BindingCode,
    },
}

impl GridState {
    /// The grid's admin, for a grid that exists.
    pub fn admin(&self) -> Option<PersonId> {
        match self {
            GridState::Absent => None,
            GridState::Pending { admin, .. }
            | GridState::Active { admin, .. }
            | GridState::Dissolved { admin, .. } => Some(*admin),
        }
    }

    /// The grid's region, for a grid that exists and is not dissolved.
    pub fn region(&self) -> Option<&RegionCode> {
        match self {
            GridState::Absent | GridState::Dissolved { .. } => None,
            GridState::Pending { region, .. } | GridState::Active { region, .. } => Some(region),
        }
    }

    /// The rule every grid data route follows: a dissolved grid is gone for good.
    pub fn require_open(&self) -> Result<(), GridError> {
        match self {
            GridState::Dissolved { .. } => Err(GridError::Dissolved),
            GridState::Absent | GridState::Pending { .. } | GridState::Active { .. } => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("the grid already exists")]
    AlreadyCreated,
    #[error("no such grid")]
    Unknown,
    #[error("only an admin of a region enclosing region {0} confirms this grid")]
    NotEnclosingRegionAdmin(RegionCode),
    #[error("only the grid's admin may do this")]
    NotAdmin,
    #[error("an edit changes at least one of region, name")]
    NothingToChange,
    #[error("grid details may change once per natural week (Monday to Sunday, China Standard Time); next change allowed at {next_allowed_at}")]
    WeeklyEditLimit { next_allowed_at: OffsetDateTime },
    #[error("confirm_code is not this grid's code: nothing was dissolved")]
    WrongConfirmCode,
    #[error("the grid was dissolved: its data is gone for good")]
    Dissolved,
    #[error("the successor already administers this grid")]
    SuccessorIsAdmin,
}

impl Refusal for GridError {
    fn code(&self) -> &'static str {
        match self {
            GridError::AlreadyCreated => "grid.exists",
            GridError::Unknown => "grid.unknown",
            GridError::NotEnclosingRegionAdmin(_) | GridError::NotAdmin => FORBIDDEN,
            GridError::NothingToChange => "grid.nothing_to_change",
            GridError::WeeklyEditLimit { .. } => "grid.weekly_edit_limit",
            GridError::WrongConfirmCode => "grid.confirm_code",
            GridError::Dissolved => "grid.dissolved",
            GridError::SuccessorIsAdmin => "grid.successor_is_admin",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            GridError::AlreadyCreated | GridError::WeeklyEditLimit { .. } => RefusalKind::Conflict,
            GridError::Unknown => RefusalKind::NotFound,
            GridError::NotEnclosingRegionAdmin(_) | GridError::NotAdmin => RefusalKind::Forbidden,
            GridError::NothingToChange => RefusalKind::Invalid { field: "body" },
            GridError::WrongConfirmCode => RefusalKind::Invalid {
                field: "confirm_code",
            },
            GridError::Dissolved => RefusalKind::Gone,
            GridError::SuccessorIsAdmin => RefusalKind::Conflict,
        }
    }

    fn extensions(&self) -> Vec<(&'static str, String)> {
        match self {
            GridError::WeeklyEditLimit { next_allowed_at } => {
                vec![("next_allowed_at", week::cst_rfc3339(*next_allowed_at))]
            }
            GridError::AlreadyCreated
            | GridError::Unknown
            | GridError::NotEnclosingRegionAdmin(_)
            | GridError::NotAdmin
            | GridError::NothingToChange
            | GridError::WrongConfirmCode
            | GridError::Dissolved
            | GridError::SuccessorIsAdmin => Vec::new(),
        }
    }
}

/// A community grid.
#[derive(Debug)]
pub struct Grid;

impl Decider for Grid {
    type Command = GridCommand;
    type Event = GridEvent;
    type State = GridState;
    type Error = GridError;

    fn initial() -> GridState {
        GridState::Absent
    }

    fn decide(command: &GridCommand, state: &GridState) -> Result<Vec<GridEvent>, GridError> {
        match (command, state) {
            (
                GridCommand::Create {
                    grid_id,
                    admin,
                    code,
                    region,
                    name,
                    at,
                },
                GridState::Absent,
            ) => Ok(vec![GridEvent::GridCreated {
                grid_id: *grid_id,
                admin: *admin,
                code: *code,
                region: region.clone(),
                name: name.clone(),
                at: *at,
            }]),
            (GridCommand::Create { .. }, GridState::Pending { .. } | GridState::Active { .. }) => {
                Err(GridError::AlreadyCreated)
            }
            (
                GridCommand::Confirm { .. }
                | GridCommand::Edit { .. }
                | GridCommand::Dissolve { .. }
                | GridCommand::HandOver { .. },
                GridState::Absent,
            ) => Err(GridError::Unknown),
            (GridCommand::HandOver { .. }, GridState::Dissolved { .. }) => {
                Err(GridError::Dissolved)
            }
            (
                GridCommand::HandOver { to, at },
                GridState::Pending { admin, .. } | GridState::Active { admin, .. },
            ) => {
                if to == admin {
                    return Err(GridError::SuccessorIsAdmin);
                }
                Ok(vec![GridEvent::GridHandedOver {
                    from: *admin,
                    to: *to,
                    at: *at,
                }])
            }
            (GridCommand::Create { .. }, GridState::Dissolved { .. }) => {
                Err(GridError::AlreadyCreated)
            }
            (
                GridCommand::Confirm { .. } | GridCommand::Edit { .. },
                GridState::Dissolved { .. },
            ) => Err(GridError::Dissolved),
            // Dissolving again (its key destroyed again) changes nothing.
            (GridCommand::Dissolve { by, .. }, GridState::Dissolved { admin, .. }) => {
                if by != admin {
                    return Err(GridError::NotAdmin);
                }
                Ok(vec![])
            }
            (
                GridCommand::Dissolve {
                    by,
                    confirm_code,
                    at,
                },
                GridState::Pending { admin, code, .. } | GridState::Active { admin, code, .. },
            ) => {
                if by != admin {
                    return Err(GridError::NotAdmin);
                }
                if confirm_code != code {
                    return Err(GridError::WrongConfirmCode);
                }
                Ok(vec![GridEvent::GridDissolved { by: *by, at: *at }])
            }
            (
                GridCommand::Confirm {
                    confirming_region: None,
                    ..
                },
                GridState::Pending { region, .. } | GridState::Active { region, .. },
            ) => Err(GridError::NotEnclosingRegionAdmin(region.clone())),
            (
                GridCommand::Confirm {
                    by,
                    confirming_region: Some(confirming),
                    at,
                },
                GridState::Pending { region, .. },
            ) => {
                if !confirming.contains(region) {
                    return Err(GridError::NotEnclosingRegionAdmin(region.clone()));
                }
                Ok(vec![GridEvent::GridConfirmed {
                    by: *by,
                    region: confirming.clone(),
                    at: *at,
                }])
            }
            (
                GridCommand::Confirm {
                    confirming_region: Some(confirming),
                    ..
                },
                GridState::Active { region, .. },
            ) => {
                if !confirming.contains(region) {
                    return Err(GridError::NotEnclosingRegionAdmin(region.clone()));
                }
                // Confirming again changes nothing.
                Ok(vec![])
            }
            (
                GridCommand::Edit { by, changes, at },
                GridState::Pending {
                    admin, last_edit, ..
                }
                | GridState::Active {
                    admin, last_edit, ..
                },
            ) => {
                if by != admin {
                    return Err(GridError::NotAdmin);
                }
                if changes.is_empty() {
                    return Err(GridError::NothingToChange);
                }
                week::weekly_edit_allowed(*last_edit, *at)
                    .map_err(|next_allowed_at| GridError::WeeklyEditLimit { next_allowed_at })?;
                Ok(vec![GridEvent::GridDetailsEdited {
                    changes: changes.clone(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: GridState, event: &GridEvent) -> GridState {
        match (state, event) {
            (
                GridState::Absent,
                GridEvent::GridCreated {
                    admin,
                    code,
                    region,
                    ..
                },
            ) => GridState::Pending {
                admin: *admin,
                code: *code,
                region: region.clone(),
                last_edit: None,
            },
            (
                GridState::Pending {
                    admin,
                    code,
                    region,
                    last_edit,
                },
                GridEvent::GridConfirmed { .. },
            ) => GridState::Active {
                admin,
                code,
                region,
                last_edit,
            },
            (
                GridState::Pending {
                    admin,
                    code,
                    region,
                    ..
                },
                GridEvent::GridDetailsEdited { changes, at },
            ) => GridState::Pending {
                admin,
                code,
                region: changes.region.clone().unwrap_or(region),
                last_edit: Some(*at),
            },
            // A confirmed grid moved elsewhere waits for a region admin over its new region.
            (
                GridState::Active {
                    admin,
                    code,
                    region,
                    ..
                },
                GridEvent::GridDetailsEdited { changes, at },
            ) => match &changes.region {
                Some(moved) if *moved != region => GridState::Pending {
                    admin,
                    code,
                    region: moved.clone(),
                    last_edit: Some(*at),
                },
                Some(_) | None => GridState::Active {
                    admin,
                    code,
                    region,
                    last_edit: Some(*at),
                },
            },
            (
                GridState::Pending { admin, code, .. } | GridState::Active { admin, code, .. },
                GridEvent::GridDissolved { .. },
            ) => GridState::Dissolved { admin, code },
            (
                GridState::Pending {
                    code,
                    region,
                    last_edit,
                    ..
                },
                GridEvent::GridHandedOver { to, .. },
            ) => GridState::Pending {
                admin: *to,
                code,
                region,
                last_edit,
            },
            (
                GridState::Active {
                    code,
                    region,
                    last_edit,
                    ..
                },
                GridEvent::GridHandedOver { to, .. },
            ) => GridState::Active {
                admin: *to,
                code,
                region,
                last_edit,
            },
            // Events that cannot follow the state change nothing.
            (
                state @ (GridState::Absent
                | GridState::Pending { .. }
                | GridState::Active { .. }
                | GridState::Dissolved { .. }),
                GridEvent::GridCreated { .. }
                | GridEvent::GridConfirmed { .. }
                | GridEvent::GridDetailsEdited { .. }
                | GridEvent::GridDissolved { .. }
                | GridEvent::GridHandedOver { .. },
            ) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::CodeKind;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn admin() -> PersonId {
        PersonId::new(Uuid::from_u128(1))
    }

    fn region(raw: &str) -> RegionCode {
        RegionCode::parse(raw, "region").expect("region")
    }

    fn created() -> GridEvent {
        GridEvent::GridCreated {
            grid_id: GridId::new(Uuid::from_u128(9)),
            admin: admin(),
            code: BindingCode::new(CodeKind::Grid, 42),
            region: region("441900003"),
            name: GridName::parse("东城一网格").expect("name"),
            at: AT,
        }
    }

    fn confirm(by_region: Option<&str>) -> GridCommand {
        GridCommand::Confirm {
            by: PersonId::new(Uuid::from_u128(2)),
            confirming_region: by_region.map(region),
            at: AT,
        }
    }

    #[test]
    fn a_region_admin_whose_region_encloses_the_grid_confirms_it() {
        let confirmed = GridEvent::GridConfirmed {
            by: PersonId::new(Uuid::from_u128(2)),
            region: region("4419"),
            at: AT,
        };
        Given::<Grid>::events(vec![created()])
            .when(&confirm(Some("4419")))
            .then(vec![confirmed.clone()]);
        Given::<Grid>::events(vec![created()])
            .when(&confirm(Some("441900003")))
            .then(vec![GridEvent::GridConfirmed {
                by: PersonId::new(Uuid::from_u128(2)),
                region: region("441900003"),
                at: AT,
            }]);
        // A Guangzhou district admin does not enclose a Dongguan town.
        Given::<Grid>::events(vec![created()])
            .when(&confirm(Some("440106")))
            .then_error(GridError::NotEnclosingRegionAdmin(region("441900003")));
        Given::<Grid>::events(vec![created()])
            .when(&confirm(None))
            .then_error(GridError::NotEnclosingRegionAdmin(region("441900003")));
        Given::<Grid>::events(vec![created(), confirmed])
            .when(&confirm(Some("44")))
            .then(vec![]);
        Given::<Grid>::nothing()
            .when(&confirm(Some("44")))
            .then_error(GridError::Unknown);
    }

    #[test]
    fn the_admin_edits_once_a_week() {
        let edit = |by: PersonId, at| GridCommand::Edit {
            by,
            changes: GridChanges {
                name: Some(GridName::parse("东城二网格").expect("name")),
                region: None,
            },
            at,
        };
        let edited = GridEvent::GridDetailsEdited {
            changes: GridChanges {
                name: Some(GridName::parse("东城二网格").expect("name")),
                region: None,
            },
            at: AT,
        };
        Given::<Grid>::events(vec![created()])
            .when(&edit(admin(), AT))
            .then(vec![edited.clone()]);
        Given::<Grid>::events(vec![created()])
            .when(&edit(PersonId::new(Uuid::from_u128(3)), AT))
            .then_error(GridError::NotAdmin);
        Given::<Grid>::events(vec![created(), edited.clone()])
            .when(&edit(admin(), datetime!(2026-03-08 23:00 +08:00)))
            .then_error(GridError::WeeklyEditLimit {
                next_allowed_at: datetime!(2026-03-09 00:00 +08:00),
            });
        Given::<Grid>::events(vec![created(), edited])
            .when(&edit(admin(), datetime!(2026-03-09 00:00 +08:00)))
            .then(vec![GridEvent::GridDetailsEdited {
                changes: GridChanges {
                    name: Some(GridName::parse("东城二网格").expect("name")),
                    region: None,
                },
                at: datetime!(2026-03-09 00:00 +08:00),
            }]);
        Given::<Grid>::events(vec![created()])
            .when(&GridCommand::Edit {
                by: admin(),
                changes: GridChanges::default(),
                at: AT,
            })
            .then_error(GridError::NothingToChange);
    }

    #[test]
    fn a_confirmed_grid_moved_elsewhere_needs_confirming_again() {
        let confirmed = GridEvent::GridConfirmed {
            by: PersonId::new(Uuid::from_u128(2)),
            region: region("441900003"),
            at: AT,
        };
        let moved = GridEvent::GridDetailsEdited {
            changes: GridChanges {
                region: Some(region("441900004")),
                name: None,
            },
            at: AT,
        };
        let renamed = GridEvent::GridDetailsEdited {
            changes: GridChanges {
                region: None,
                name: Some(GridName::parse("新名").expect("name")),
            },
            at: AT,
        };
        assert!(matches!(
            Grid::fold(&[created(), confirmed.clone(), renamed]),
            GridState::Active { .. }
        ));
        assert!(matches!(
            Grid::fold(&[created(), confirmed.clone(), moved.clone()]),
            GridState::Pending { .. }
        ));
        // The town admin of the old region no longer encloses it.
        Given::<Grid>::events(vec![created(), confirmed, moved])
            .when(&confirm(Some("441900003")))
            .then_error(GridError::NotEnclosingRegionAdmin(region("441900004")));
        Given::<Grid>::events(vec![created()])
            .when(&GridCommand::Create {
                grid_id: GridId::new(Uuid::from_u128(9)),
                admin: admin(),
                code: BindingCode::new(CodeKind::Grid, 42),
                region: region("441900003"),
                name: GridName::parse("东城一网格").expect("name"),
                at: AT,
            })
            .then_error(GridError::AlreadyCreated);
    }

    #[test]
    fn the_admin_dissolves_with_the_grids_code_and_it_is_gone_for_good() {
        let code = BindingCode::new(CodeKind::Grid, 42);
        let dissolve = |by, confirm_code| GridCommand::Dissolve {
            by,
            confirm_code,
            at: AT,
        };
        let dissolved = GridEvent::GridDissolved {
            by: admin(),
            at: AT,
        };
        Given::<Grid>::events(vec![created()])
            .when(&dissolve(admin(), code))
            .then(vec![dissolved.clone()]);
        Given::<Grid>::events(vec![created()])
            .when(&dissolve(admin(), BindingCode::new(CodeKind::Grid, 43)))
            .then_error(GridError::WrongConfirmCode);
        Given::<Grid>::events(vec![created()])
            .when(&dissolve(PersonId::new(Uuid::from_u128(3)), code))
            .then_error(GridError::NotAdmin);
        Given::<Grid>::events(vec![created(), dissolved.clone()])
            .when(&dissolve(admin(), code))
            .then(vec![]);
        Given::<Grid>::events(vec![created(), dissolved.clone()])
            .when(&confirm(Some("44")))
            .then_error(GridError::Dissolved);
        let state = Grid::fold(&[created(), dissolved]);
        assert_eq!(state.require_open(), Err(GridError::Dissolved));
        assert_eq!(GridError::Dissolved.kind(), RefusalKind::Gone);
        assert!(Grid::fold(&[created()]).require_open().is_ok());
    }

    #[test]
    fn an_accepted_handover_makes_the_successor_admin() {
        let successor = PersonId::new(Uuid::from_u128(4));
        let handed = GridEvent::GridHandedOver {
            from: admin(),
            to: successor,
            at: AT,
        };
        Given::<Grid>::events(vec![created()])
            .when(&GridCommand::HandOver {
                to: successor,
                at: AT,
            })
            .then(vec![handed.clone()]);
        Given::<Grid>::events(vec![created()])
            .when(&GridCommand::HandOver {
                to: admin(),
                at: AT,
            })
            .then_error(GridError::SuccessorIsAdmin);
        assert_eq!(Grid::fold(&[created(), handed]).admin(), Some(successor));
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        assert_eq!(GridError::Unknown.code(), "grid.unknown");
        assert_eq!(GridError::NotAdmin.kind(), RefusalKind::Forbidden);
        let limit = GridError::WeeklyEditLimit {
            next_allowed_at: datetime!(2026-03-08 16:00 UTC),
        };
        assert_eq!(limit.code(), "grid.weekly_edit_limit");
        assert_eq!(
            limit.extensions(),
            vec![("next_allowed_at", "2026-03-09T00:00:00+08:00".to_owned())]
        );
    }
}
