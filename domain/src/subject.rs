//! The identity provider's subject: its stable key for a person it verified, the same whichever
//! document they show (stream `subject-<keyed hash of issuer and subject>`). The first login
//! links the subject to the person it registers or finds; a later login with another document
//! of the same subject attaches that document to the same person, so a red code cannot be
//! shed by signing in with a second document.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectCommand {
    /// Links the subject to `person` (nothing to record when it already is).
    Link {
        person_id: PersonId,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SubjectEvent {
    SubjectLinked {
        person_id: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for SubjectEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum SubjectState {
    Unlinked,
    Linked { person_id: PersonId },
}

impl SubjectState {
    /// The person the subject is linked to.
    pub fn person_id(&self) -> Option<PersonId> {
        match self {
            SubjectState::Unlinked => None,
            SubjectState::Linked { person_id } => Some(*person_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// The document was registered as another person before the provider named their
    /// common subject (two registrations from before subjects were recorded): merging two
    /// people's histories is not done by a login.
    #[error(
        "this document is registered to a different person than the other documents the \
         identity provider verified for you; sign in with the document you used before, \
         or ask the province's support to merge the two"
    )]
    LinkedElsewhere,
}

impl Refusal for SubjectError {
    fn code(&self) -> &'static str {
        match self {
            SubjectError::LinkedElsewhere => "identity.subject_conflict",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            SubjectError::LinkedElsewhere => RefusalKind::Conflict,
        }
    }
}

/// A provider subject and the person it is.
#[derive(Debug)]
pub struct Subject;

impl Decider for Subject {
    type Command = SubjectCommand;
    type Event = SubjectEvent;
    type State = SubjectState;
    type Error = SubjectError;

    fn initial() -> SubjectState {
        SubjectState::Unlinked
    }

    fn decide(
        command: &SubjectCommand,
        state: &SubjectState,
    ) -> Result<Vec<SubjectEvent>, SubjectError> {
        let SubjectCommand::Link { person_id, at } = command;
        match state {
            SubjectState::Unlinked => Ok(vec![SubjectEvent::SubjectLinked {
                person_id: *person_id,
                at: *at,
            }]),
            SubjectState::Linked { person_id: linked } if linked == person_id => Ok(Vec::new()),
            SubjectState::Linked { .. } => Err(SubjectError::LinkedElsewhere),
        }
    }

    fn evolve(_state: SubjectState, event: &SubjectEvent) -> SubjectState {
        match event {
            SubjectEvent::SubjectLinked { person_id, .. } => SubjectState::Linked {
                person_id: *person_id,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn person(n: u128) -> PersonId {
        PersonId::new(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_subject_is_linked_once_to_one_person() {
        let linked = SubjectEvent::SubjectLinked {
            person_id: person(1),
            at: AT,
        };
        Given::<Subject>::nothing()
            .when(&SubjectCommand::Link {
                person_id: person(1),
                at: AT,
            })
            .then(vec![linked.clone()]);
        Given::<Subject>::events(vec![linked.clone()])
            .when(&SubjectCommand::Link {
                person_id: person(1),
                at: AT,
            })
            .then(vec![]);
        Given::<Subject>::events(vec![linked])
            .when(&SubjectCommand::Link {
                person_id: person(2),
                at: AT,
            })
            .then_error(SubjectError::LinkedElsewhere);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let error = SubjectError::LinkedElsewhere;
        assert_eq!(
            (error.code(), error.kind()),
            ("identity.subject_conflict", RefusalKind::Conflict)
        );
        assert!(error.extensions().is_empty());
    }
}
