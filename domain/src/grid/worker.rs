//! A worker's binding to a grid (stream `grid-member-<grid>-<person>`): bound with the grid
//! code, unauthorised until the grid's own admin authorises them; the admin may revoke the
//! authorisation or unbind them; a worker may unbind themself. A region admin never
//! authorises workers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

use super::aggregate::GridId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerCommand {
    Bind {
        grid_id: GridId,
        worker: PersonId,
        at: OffsetDateTime,
    },
    /// `worker` is the binding's person; `by_grid_admin` is the fact, from the grid's
    /// stream, that `by` administers the grid.
    Unbind {
        by: PersonId,
        worker: PersonId,
        by_grid_admin: bool,
        at: OffsetDateTime,
    },
    Authorise {
        by_grid_admin: bool,
        at: OffsetDateTime,
    },
    RevokeAuthorisation {
        by_grid_admin: bool,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum WorkerEvent {
    GridWorkerBound {
        grid_id: GridId,
        worker: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridWorkerUnbound {
        grid_id: GridId,
        worker: PersonId,
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridWorkerAuthorised {
        grid_id: GridId,
        worker: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridWorkerAuthorisationRevoked {
        grid_id: GridId,
        worker: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for WorkerEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum WorkerState {
    Unbound,
    Bound {
        grid_id: GridId,
        worker: PersonId,
        authorised: bool,
    },
}

impl WorkerState {
    /// Whether the worker is bound and authorised.
    pub fn authorised(&self) -> bool {
        matches!(
            self,
            WorkerState::Bound {
                authorised: true,
                ..
            }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerError {
    #[error("this person is not bound to the grid")]
    NotBound,
    #[error("only the grid's admin authorises, revokes and unbinds its workers")]
    NotGridAdmin,
    #[error("only the grid's admin and its authorised workers see this")]
    NotAuthorised,
}

/// Who sees what a grid keeps of the people it visited (all their declarations, the key
/// persons): the grid's admin and its authorised workers, nobody else.
pub fn require_authorised(by_grid_admin: bool, worker: &WorkerState) -> Result<(), WorkerError> {
    if by_grid_admin || worker.authorised() {
        Ok(())
    } else {
        Err(WorkerError::NotAuthorised)
    }
}

impl Refusal for WorkerError {
    fn code(&self) -> &'static str {
        match self {
            WorkerError::NotBound => "grid.not_bound",
            WorkerError::NotGridAdmin | WorkerError::NotAuthorised => FORBIDDEN,
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            WorkerError::NotBound => RefusalKind::NotFound,
            WorkerError::NotGridAdmin | WorkerError::NotAuthorised => RefusalKind::Forbidden,
        }
    }
}

/// A worker's binding to a grid.
#[derive(Debug)]
pub struct GridWorker;

impl Decider for GridWorker {
    type Command = WorkerCommand;
    type Event = WorkerEvent;
    type State = WorkerState;
    type Error = WorkerError;

    fn initial() -> WorkerState {
        WorkerState::Unbound
    }

    fn decide(
        command: &WorkerCommand,
        state: &WorkerState,
    ) -> Result<Vec<WorkerEvent>, WorkerError> {
        // Who may ask comes first: a stranger learns nothing of the binding.
        match command {
            WorkerCommand::Bind { .. } => {}
            WorkerCommand::Unbind {
                by,
                worker,
                by_grid_admin,
                ..
            } => {
                if by != worker && !by_grid_admin {
                    return Err(WorkerError::NotGridAdmin);
                }
            }
            WorkerCommand::Authorise { by_grid_admin, .. }
            | WorkerCommand::RevokeAuthorisation { by_grid_admin, .. } => {
                if !by_grid_admin {
                    return Err(WorkerError::NotGridAdmin);
                }
            }
        }
        match (command, state) {
            (
                WorkerCommand::Bind {
                    grid_id,
                    worker,
                    at,
                },
                WorkerState::Unbound,
            ) => Ok(vec![WorkerEvent::GridWorkerBound {
                grid_id: *grid_id,
                worker: *worker,
                at: *at,
            }]),
            // Binding again changes nothing.
            (WorkerCommand::Bind { .. }, WorkerState::Bound { .. }) => Ok(vec![]),
            (
                WorkerCommand::Unbind { .. }
                | WorkerCommand::Authorise { .. }
                | WorkerCommand::RevokeAuthorisation { .. },
                WorkerState::Unbound,
            ) => Err(WorkerError::NotBound),
            (
                WorkerCommand::Unbind { by, at, .. },
                WorkerState::Bound {
                    grid_id, worker, ..
                },
            ) => Ok(vec![WorkerEvent::GridWorkerUnbound {
                grid_id: *grid_id,
                worker: *worker,
                by: *by,
                at: *at,
            }]),
            (
                WorkerCommand::Authorise { .. },
                WorkerState::Bound {
                    authorised: true, ..
                },
            )
            | (
                WorkerCommand::RevokeAuthorisation { .. },
                WorkerState::Bound {
                    authorised: false, ..
                },
            ) => Ok(vec![]),
            (
                WorkerCommand::Authorise { at, .. },
                WorkerState::Bound {
                    grid_id,
                    worker,
                    authorised: false,
                },
            ) => Ok(vec![WorkerEvent::GridWorkerAuthorised {
                grid_id: *grid_id,
                worker: *worker,
                at: *at,
            }]),
            (
                WorkerCommand::RevokeAuthorisation { at, .. },
                WorkerState::Bound {
                    grid_id,
                    worker,
                    authorised: true,
                },
            ) => Ok(vec![WorkerEvent::GridWorkerAuthorisationRevoked {
                grid_id: *grid_id,
                worker: *worker,
                at: *at,
            }]),
        }
    }

    fn evolve(state: WorkerState, event: &WorkerEvent) -> WorkerState {
        match event {
            WorkerEvent::GridWorkerBound {
                grid_id, worker, ..
            } => WorkerState::Bound {
                grid_id: *grid_id,
                worker: *worker,
                authorised: false,
            },
            WorkerEvent::GridWorkerUnbound { .. } => WorkerState::Unbound,
            WorkerEvent::GridWorkerAuthorised {
                grid_id, worker, ..
            } => WorkerState::Bound {
                grid_id: *grid_id,
                worker: *worker,
                authorised: true,
            },
            WorkerEvent::GridWorkerAuthorisationRevoked {
                grid_id, worker, ..
            } => match state {
                WorkerState::Bound { .. } | WorkerState::Unbound => WorkerState::Bound {
                    grid_id: *grid_id,
                    worker: *worker,
                    authorised: false,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;
    use uuid::Uuid;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn grid() -> GridId {
        GridId::new(Uuid::from_u128(9))
    }

    fn worker() -> PersonId {
        PersonId::new(Uuid::from_u128(5))
    }

    fn bound() -> WorkerEvent {
        WorkerEvent::GridWorkerBound {
            grid_id: grid(),
            worker: worker(),
            at: AT,
        }
    }

    fn authorised() -> WorkerEvent {
        WorkerEvent::GridWorkerAuthorised {
            grid_id: grid(),
            worker: worker(),
            at: AT,
        }
    }

    #[test]
    fn workers_bind_once_and_only_the_grid_admin_authorises() {
        let bind = WorkerCommand::Bind {
            grid_id: grid(),
            worker: worker(),
            at: AT,
        };
        Given::<GridWorker>::nothing()
            .when(&bind)
            .then(vec![bound()]);
        Given::<GridWorker>::events(vec![bound()])
            .when(&bind)
            .then(vec![]);
        let authorise = |by_grid_admin| WorkerCommand::Authorise {
            by_grid_admin,
            at: AT,
        };
        Given::<GridWorker>::events(vec![bound()])
            .when(&authorise(true))
            .then(vec![authorised()]);
        // A region admin (or anyone but the grid's admin) is refused.
        Given::<GridWorker>::events(vec![bound()])
            .when(&authorise(false))
            .then_error(WorkerError::NotGridAdmin);
        Given::<GridWorker>::nothing()
            .when(&authorise(false))
            .then_error(WorkerError::NotGridAdmin);
        Given::<GridWorker>::nothing()
            .when(&authorise(true))
            .then_error(WorkerError::NotBound);
        Given::<GridWorker>::events(vec![bound(), authorised()])
            .when(&WorkerCommand::RevokeAuthorisation {
                by_grid_admin: true,
                at: AT,
            })
            .then(vec![WorkerEvent::GridWorkerAuthorisationRevoked {
                grid_id: grid(),
                worker: worker(),
                at: AT,
            }]);
        Given::<GridWorker>::events(vec![bound()])
            .when(&WorkerCommand::RevokeAuthorisation {
                by_grid_admin: true,
                at: AT,
            })
            .then(vec![]);
    }

    #[test]
    fn only_the_admin_and_authorised_workers_see_peoples_data() {
        let fold = |events: &[WorkerEvent]| GridWorker::fold(events);
        assert_eq!(require_authorised(true, &WorkerState::Unbound), Ok(()));
        assert_eq!(
            require_authorised(false, &fold(&[bound(), authorised()])),
            Ok(())
        );
        assert_eq!(
            require_authorised(false, &fold(&[bound()])),
            Err(WorkerError::NotAuthorised)
        );
        assert_eq!(
            require_authorised(false, &WorkerState::Unbound),
            Err(WorkerError::NotAuthorised)
        );
    }

    #[test]
    fn a_worker_unbinds_themself_and_the_admin_unbinds_anyone() {
        let unbind = |by, by_grid_admin| WorkerCommand::Unbind {
            by,
            worker: worker(),
            by_grid_admin,
            at: AT,
        };
        let unbound = |by| WorkerEvent::GridWorkerUnbound {
            grid_id: grid(),
            worker: worker(),
            by,
            at: AT,
        };
        Given::<GridWorker>::events(vec![bound()])
            .when(&unbind(worker(), false))
            .then(vec![unbound(worker())]);
        let admin = PersonId::new(Uuid::from_u128(1));
        Given::<GridWorker>::events(vec![bound(), authorised()])
            .when(&unbind(admin, true))
            .then(vec![unbound(admin)]);
        let stranger = PersonId::new(Uuid::from_u128(7));
        Given::<GridWorker>::events(vec![bound()])
            .when(&unbind(stranger, false))
            .then_error(WorkerError::NotGridAdmin);
        Given::<GridWorker>::nothing()
            .when(&unbind(worker(), false))
            .then_error(WorkerError::NotBound);
        Given::<GridWorker>::nothing()
            .when(&unbind(stranger, false))
            .then_error(WorkerError::NotGridAdmin);
        Given::<GridWorker>::nothing()
            .when(&unbind(admin, true))
            .then_error(WorkerError::NotBound);
    }
}
