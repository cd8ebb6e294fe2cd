//! An inspector's binding to a venue (stream `venue-member-<venue>-<person>`): many venues per
//! inspector, many inspectors per venue.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

use super::aggregate::VenueId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionCommand {
    Bind {
        venue_id: VenueId,
        inspector: PersonId,
        at: OffsetDateTime,
    },
    /// Ends the binding of `inspector` (the stream's) at the request of `by`: the inspector
    /// themself, or the venue's admin. `by_venue_admin` is the fact, from the venue's stream
    /// at decision time, that `by` administers the venue.
    Unbind {
        by: PersonId,
        inspector: PersonId,
        by_venue_admin: bool,
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
    #[error("only the venue's admin unbinds inspectors")]
    NotAllowedToUnbind,
}

impl Refusal for InspectionError {
    fn code(&self) -> &'static str {
        match self {
            InspectionError::NotBound => "venue.not_bound",
            InspectionError::NotAllowedToUnbind => FORBIDDEN,
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            InspectionError::NotBound => RefusalKind::NotFound,
            InspectionError::NotAllowedToUnbind => RefusalKind::Forbidden,
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
                InspectionCommand::Unbind {
                    by,
                    by_venue_admin,
                    at,
                    ..
                },
                InspectionState::Bound {
                    venue_id,
                    inspector,
                },
            ) => {
                if by != inspector && !by_venue_admin {
                    return Err(InspectionError::NotAllowedToUnbind);
                }
                Ok(vec![InspectionEvent::InspectorUnbound {
                    venue_id: *venue_id,
                    inspector: *inspector,
                    by: *by,
                    at: *at,
                }])
            }
            (
                InspectionCommand::Unbind {
                    by,
                    inspector,
                    by_venue_admin,
                    ..
                },
                InspectionState::Unbound,
            ) => {
                // Who may ask comes first: a stranger learns nothing of the binding.
                if by != inspector && !by_venue_admin {
                    return Err(InspectionError::NotAllowedToUnbind);
                }
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

    fn bound() -> InspectionEvent {
        InspectionEvent::InspectorBound {
            venue_id: venue(),
            inspector: p(5),
            at: AT,
        }
    }

    fn unbind(by: u128, by_venue_admin: bool) -> InspectionCommand {
        InspectionCommand::Unbind {
            by: p(by),
            inspector: p(5),
            by_venue_admin,
            at: AT,
        }
    }

    fn unbound(by: u128) -> InspectionEvent {
        InspectionEvent::InspectorUnbound {
            venue_id: venue(),
            inspector: p(5),
            by: p(by),
            at: AT,
        }
    }

    #[test]
    fn inspectors_bind_once() {
        let bind = InspectionCommand::Bind {
            venue_id: venue(),
            inspector: p(5),
            at: AT,
        };
        Given::<Inspection>::nothing()
            .when(&bind)
            .then(vec![bound()]);
        Given::<Inspection>::events(vec![bound()])
            .when(&bind)
            .then(vec![]);
    }

    #[test]
    fn the_venue_admin_unbinds_any_inspector() {
        Given::<Inspection>::events(vec![bound()])
            .when(&unbind(1, true))
            .then(vec![unbound(1)]);
        Given::<Inspection>::nothing()
            .when(&unbind(1, true))
            .then_error(InspectionError::NotBound);
    }

    #[test]
    fn an_inspector_unbinds_themself() {
        Given::<Inspection>::events(vec![bound()])
            .when(&unbind(5, false))
            .then(vec![unbound(5)]);
        Given::<Inspection>::nothing()
            .when(&unbind(5, false))
            .then_error(InspectionError::NotBound);
        assert_eq!(
            Inspection::fold(&[bound(), unbound(5)]),
            InspectionState::Unbound
        );
    }

    #[test]
    fn nobody_else_unbinds_an_inspector() {
        Given::<Inspection>::events(vec![bound()])
            .when(&unbind(3, false))
            .then_error(InspectionError::NotAllowedToUnbind);
        Given::<Inspection>::nothing()
            .when(&unbind(3, false))
            .then_error(InspectionError::NotAllowedToUnbind);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let table = [
            (
                InspectionError::NotBound,
                "venue.not_bound",
                RefusalKind::NotFound,
            ),
            (
                InspectionError::NotAllowedToUnbind,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }
}
