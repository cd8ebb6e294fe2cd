//! Handing a grid over (stream `grid-handover-<grid uuid>`): the admin names a successor by
//! document and gets a one-time token (24 hours); the successor, signed in with that
//! document, accepts it and becomes the admin. A new token voids the old one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::DocumentDigest;
use crate::identity::PersonId;
use crate::Decider;

use super::aggregate::GridId;

pub use crate::handover::{HandoverError, HANDOVER_VALIDITY};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverCommand {
    /// `by_admin` is the fact, from the grid's stream, that the person asking administers it.
    Offer {
        grid_id: GridId,
        by_admin: bool,
        successor: DocumentDigest,
        /// SHA-256 of the token (the token itself is never recorded).
        token_hash: String,
        at: OffsetDateTime,
    },
    Accept {
        token_hash: String,
        by: PersonId,
        by_digest: DocumentDigest,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum HandoverEvent {
    GridHandoverOffered {
        grid_id: GridId,
        successor: DocumentDigest,
        token_hash: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GridHandoverAccepted {
        grid_id: GridId,
        successor: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for HandoverEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum HandoverState {
    /// No token, or the last one was used.
    None,
    Offered {
        grid_id: GridId,
        successor: DocumentDigest,
        token_hash: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
}

/// A grid's pending handover.
#[derive(Debug)]
pub struct Handover;

impl Decider for Handover {
    type Command = HandoverCommand;
    type Event = HandoverEvent;
    type State = HandoverState;
    type Error = HandoverError;

    fn initial() -> HandoverState {
        HandoverState::None
    }

    fn decide(
        command: &HandoverCommand,
        state: &HandoverState,
    ) -> Result<Vec<HandoverEvent>, HandoverError> {
        match (command, state) {
            (
                HandoverCommand::Offer {
                    by_admin: false, ..
                },
                HandoverState::None | HandoverState::Offered { .. },
            ) => Err(HandoverError::NotAdmin),
            // A new token voids the old one.
            (
                HandoverCommand::Offer {
                    grid_id,
                    by_admin: true,
                    successor,
                    token_hash,
                    at,
                },
                HandoverState::None | HandoverState::Offered { .. },
            ) => Ok(vec![HandoverEvent::GridHandoverOffered {
                grid_id: *grid_id,
                successor: successor.clone(),
                token_hash: token_hash.clone(),
                expires_at: *at + HANDOVER_VALIDITY,
                at: *at,
            }]),
            (HandoverCommand::Accept { .. }, HandoverState::None) => {
                Err(HandoverError::InvalidToken)
            }
            (
                HandoverCommand::Accept {
                    token_hash,
                    by,
                    by_digest,
                    at,
                },
                HandoverState::Offered {
                    grid_id,
                    successor,
                    token_hash: offered,
                    expires_at,
                },
            ) => {
                crate::handover::check_acceptance(
                    (offered, successor, expires_at),
                    (token_hash, by_digest, at),
                )?;
                Ok(vec![HandoverEvent::GridHandoverAccepted {
                    grid_id: *grid_id,
                    successor: *by,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(_state: HandoverState, event: &HandoverEvent) -> HandoverState {
        match event {
            HandoverEvent::GridHandoverOffered {
                grid_id,
                successor,
                token_hash,
                expires_at,
                ..
            } => HandoverState::Offered {
                grid_id: *grid_id,
                successor: successor.clone(),
                token_hash: token_hash.clone(),
                expires_at: *expires_at,
            },
            HandoverEvent::GridHandoverAccepted { .. } => HandoverState::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;
    use time::Duration;
    use uuid::Uuid;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn grid() -> GridId {
        GridId::new(Uuid::from_u128(9))
    }

    fn digest(c: char) -> DocumentDigest {
        DocumentDigest::parse(c.to_string().repeat(64)).expect("digest")
    }

    fn offer(token: &str) -> HandoverCommand {
        HandoverCommand::Offer {
            grid_id: grid(),
            by_admin: true,
            successor: digest('b'),
            token_hash: token.into(),
            at: AT,
        }
    }

    fn offered(token: &str) -> HandoverEvent {
        HandoverEvent::GridHandoverOffered {
            grid_id: grid(),
            successor: digest('b'),
            token_hash: token.into(),
            expires_at: AT + HANDOVER_VALIDITY,
            at: AT,
        }
    }

    fn accept(token: &str, who: char, at: OffsetDateTime) -> HandoverCommand {
        HandoverCommand::Accept {
            token_hash: token.into(),
            by: PersonId::new(Uuid::from_u128(2)),
            by_digest: digest(who),
            at,
        }
    }

    #[test]
    fn the_named_successor_accepts_once_within_24_hours() {
        let accepted = HandoverEvent::GridHandoverAccepted {
            grid_id: grid(),
            successor: PersonId::new(Uuid::from_u128(2)),
            at: AT,
        };
        Given::<Handover>::nothing()
            .when(&offer("t1"))
            .then(vec![offered("t1")]);
        Given::<Handover>::nothing()
            .when(&HandoverCommand::Offer {
                grid_id: grid(),
                by_admin: false,
                successor: digest('b'),
                token_hash: "t1".into(),
                at: AT,
            })
            .then_error(HandoverError::NotAdmin);
        Given::<Handover>::events(vec![offered("t1")])
            .when(&accept("t1", 'b', AT))
            .then(vec![accepted.clone()]);
        Given::<Handover>::events(vec![offered("t1"), accepted])
            .when(&accept("t1", 'b', AT))
            .then_error(HandoverError::InvalidToken);
        Given::<Handover>::events(vec![offered("t1")])
            .when(&accept("t1", 'c', AT))
            .then_error(HandoverError::NotTheSuccessor);
        Given::<Handover>::events(vec![offered("t1")])
            .when(&accept(
                "t1",
                'b',
                AT + HANDOVER_VALIDITY + Duration::seconds(1),
            ))
            .then_error(HandoverError::Expired(AT + HANDOVER_VALIDITY));
        // A new token voids the old one.
        Given::<Handover>::events(vec![offered("t1"), offered("t2")])
            .when(&accept("t1", 'b', AT))
            .then_error(HandoverError::InvalidToken);
    }
}
