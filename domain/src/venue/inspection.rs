//! An inspector's binding to a venue (stream `venue-member-<venue>-<person>`): many venues per
//! inspector, many inspectors per venue.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

use super::aggregate::VenueId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionCommand {
    Bind {
        venue_id: VenueId,
        inspector: PersonId,
        at: OffsetDateTime,
    },
    Unbind {
        by: PersonId,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum InspectionEvent {
    InspectorBound {
        venue_id: VenueId,
        inspector: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    InspectorUnbound {
        venue_id: VenueId,
        inspector: PersonId,
        /// The inspector, or the venue's admin.
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for InspectionEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum InspectionState {
    Unbound,
    Bound {
        venue_id: VenueId,
        inspector: PersonId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectionError {
    #[error("not an inspector of this venue")]
    NotBound,
}

impl Refusal for InspectionError {
    fn code(&self) -> &'static str {
        match self {
            InspectionError::NotBound => "venue.not_bound",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            InspectionError::NotBound => RefusalKind::NotFound,
        }
    }
}

/// An inspector's binding to a venue.
#[derive(Debug)]
pub struct Inspection;

impl Decider for Inspection {
    type Command = InspectionCommand;
    type Event = InspectionEvent;
    type State = InspectionState;
    type Error = InspectionError;

    fn initial() -> InspectionState {
        InspectionState::Unbound
    }

    fn decide(
        command: &InspectionCommand,
        state: &InspectionState,
    ) -> Result<Vec<InspectionEvent>, InspectionError> {
        match (command, state) {
            (
                InspectionCommand::Bind {
                    venue_id,
                    inspector,
                    at,
                },
                InspectionState::Unbound,
            ) => Ok(vec![InspectionEvent::InspectorBound {
                venue_id: *venue_id,
                inspector: *inspector,
                at: *at,
            }]),
            (InspectionCommand::Bind { .. }, InspectionState::Bound { .. }) => Ok(vec![]),
            (
                InspectionCommand::Unbind { by, at },
                InspectionState::Bound {
                    venue_id,
                    inspector,
                },
            ) => Ok(vec![InspectionEvent::InspectorUnbound {
                venue_id: *venue_id,
                inspector: *inspector,
                by: *by,
                at: *at,
            }]),
            (InspectionCommand::Unbind { .. }, InspectionState::Unbound) => {
                Err(InspectionError::NotBound)
            }
        }
    }

    fn evolve(_state: InspectionState, event: &InspectionEvent) -> InspectionState {
        match event {
            InspectionEvent::InspectorBound {
                venue_id,
                inspector,
                ..
            } => InspectionState::Bound {
                venue_id: *venue_id,
                inspector: *inspector,
            },
            InspectionEvent::InspectorUnbound { .. } => InspectionState::Unbound,
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

    fn p(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn venue() -> VenueId {
        VenueId::new(Uuid::from_u128(100))
    }

    #[test]
    fn inspectors_bind_once_and_unbind() {
        let bound = InspectionEvent::InspectorBound {
            venue_id: venue(),
            inspector: p(5),
            at: AT,
        };
        let bind = InspectionCommand::Bind {
            venue_id: venue(),
            inspector: p(5),
            at: AT,
        };
        Given::<Inspection>::nothing()
            .when(&bind)
            .then(vec![bound.clone()]);
        Given::<Inspection>::events(vec![bound.clone()])
            .when(&bind)
            .then(vec![]);
        Given::<Inspection>::events(vec![bound])
            .when(&InspectionCommand::Unbind { by: p(1), at: AT })
            .then(vec![InspectionEvent::InspectorUnbound {
                venue_id: venue(),
                inspector: p(5),
                by: p(1),
                at: AT,
            }]);
        Given::<Inspection>::nothing()
            .when(&InspectionCommand::Unbind { by: p(1), at: AT })
            .then_error(InspectionError::NotBound);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let error = InspectionError::NotBound;
        assert_eq!(
            (error.code(), error.kind()),
            ("venue.not_bound", RefusalKind::NotFound)
        );
        assert!(error.extensions().is_empty());
    }
}
