//! A worker's current grid (stream `grid-current-<person>`): the grid their visits go to by
//! default, chosen among the grids they are bound to.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

use super::aggregate::GridId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrentGridCommand {
    /// `bound` is the fact, from the binding's stream, that the worker is bound to the grid.
    Choose {
        grid_id: GridId,
        bound: bool,
        at: OffsetDateTime,
    },
    /// The worker left `grid_id`: it is no longer their current grid (if it was).
    Leave { grid_id: GridId, at: OffsetDateTime },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CurrentGridEvent {
    CurrentGridChosen {
        grid_id: GridId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    CurrentGridCleared {
        grid_id: GridId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for CurrentGridEvent {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrentGridError {
    #[error("you are not bound to grid {0}; bind with its grid code first")]
    NotBound(GridId),
}

impl Refusal for CurrentGridError {
    fn code(&self) -> &'static str {
        match self {
            CurrentGridError::NotBound(_) => "grid.not_bound",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            CurrentGridError::NotBound(_) => RefusalKind::NotFound,
        }
    }
}

/// A worker's choice of current grid.
#[derive(Debug)]
pub struct CurrentGrid;

impl Decider for CurrentGrid {
    type Command = CurrentGridCommand;
    type Event = CurrentGridEvent;
    /// The grid chosen last, if any.
    type State = Option<GridId>;
    type Error = CurrentGridError;

    fn initial() -> Option<GridId> {
        None
    }

    fn decide(
        command: &CurrentGridCommand,
        state: &Option<GridId>,
    ) -> Result<Vec<CurrentGridEvent>, CurrentGridError> {
        match (command, state) {
            (
                CurrentGridCommand::Choose {
                    grid_id,
                    bound: false,
                    ..
                },
                None | Some(_),
            ) => Err(CurrentGridError::NotBound(*grid_id)),
            (
                CurrentGridCommand::Choose {
                    grid_id,
                    bound: true,
                    ..
                },
                Some(current),
            ) if current == grid_id => Ok(vec![]),
            (
                CurrentGridCommand::Choose {
                    grid_id,
                    bound: true,
                    at,
                },
                None | Some(_),
            ) => Ok(vec![CurrentGridEvent::CurrentGridChosen {
                grid_id: *grid_id,
                at: *at,
            }]),
            (CurrentGridCommand::Leave { grid_id, at }, Some(current)) if current == grid_id => {
                Ok(vec![CurrentGridEvent::CurrentGridCleared {
                    grid_id: *grid_id,
                    at: *at,
                }])
            }
            (CurrentGridCommand::Leave { .. }, None | Some(_)) => Ok(vec![]),
        }
    }

    fn evolve(_state: Option<GridId>, event: &CurrentGridEvent) -> Option<GridId> {
        match event {
            CurrentGridEvent::CurrentGridChosen { grid_id, .. } => Some(*grid_id),
            CurrentGridEvent::CurrentGridCleared { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;
    use uuid::Uuid;

    #[test]
    fn the_current_grid_is_one_the_worker_is_bound_to() {
        let at = datetime!(2026-03-02 09:00 +08:00);
        let a = GridId::new(Uuid::from_u128(1));
        let b = GridId::new(Uuid::from_u128(2));
        let choose = |grid_id, bound| CurrentGridCommand::Choose { grid_id, bound, at };
        let chosen = |grid_id| CurrentGridEvent::CurrentGridChosen { grid_id, at };
        Given::<CurrentGrid>::nothing()
            .when(&choose(a, true))
            .then(vec![chosen(a)]);
        Given::<CurrentGrid>::events(vec![chosen(a)])
            .when(&choose(a, true))
            .then(vec![]);
        Given::<CurrentGrid>::events(vec![chosen(a)])
            .when(&choose(b, true))
            .then(vec![chosen(b)]);
        Given::<CurrentGrid>::nothing()
            .when(&choose(b, false))
            .then_error(CurrentGridError::NotBound(b));
        // Leaving the current grid clears it; leaving another changes nothing.
        let leave = |grid_id| CurrentGridCommand::Leave { grid_id, at };
        Given::<CurrentGrid>::events(vec![chosen(a)])
            .when(&leave(a))
            .then(vec![CurrentGridEvent::CurrentGridCleared {
                grid_id: a,
                at,
            }]);
        Given::<CurrentGrid>::events(vec![chosen(a)])
            .when(&leave(b))
            .then(vec![]);
    }
}
