//! Handing a venue over (stream `venue-handover-<venue uuid>`): the admin names a successor by
//! document and gets a one-time token (24 hours); the successor, signed in with that document,
//! accepts it and becomes the admin (the venue's own `HandOver` and the admin claims move in
//! the same append). A new token voids the old one. Nothing here says whether the document is
//! registered: only its holder can accept.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::DocumentDigest;
use crate::handover::{check_acceptance, HandoverError, HANDOVER_VALIDITY};
use crate::identity::PersonId;
use crate::Decider;

use super::aggregate::VenueId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueHandoverCommand {
    /// `by_admin` is the fact, from the venue's stream, that the person asking administers it.
    Offer {
        venue_id: VenueId,
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
pub enum VenueHandoverEvent {
    VenueHandoverOffered {
        venue_id: VenueId,
        successor: DocumentDigest,
        token_hash: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    VenueHandoverAccepted {
        venue_id: VenueId,
        successor: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for VenueHandoverEvent {}

/// A venue's pending handover, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PendingHandover {
    pub offer: Option<(VenueId, DocumentDigest, String, OffsetDateTime)>,
}

/// A venue's pending handover.
#[derive(Debug)]
pub struct VenueHandover;

impl Decider for VenueHandover {
    type Command = VenueHandoverCommand;
    type Event = VenueHandoverEvent;
    type State = PendingHandover;
    type Error = HandoverError;

    fn initial() -> PendingHandover {
        PendingHandover::default()
    }

    fn decide(
        command: &VenueHandoverCommand,
        state: &PendingHandover,
    ) -> Result<Vec<VenueHandoverEvent>, HandoverError> {
        match (command, &state.offer) {
            (
                VenueHandoverCommand::Offer {
                    by_admin: false, ..
                },
                _,
            ) => Err(HandoverError::NotAdmin),
            // A new token voids the old one.
            (
                VenueHandoverCommand::Offer {
                    venue_id,
                    by_admin: true,
                    successor,
                    token_hash,
                    at,
                },
                _,
            ) => Ok(vec![VenueHandoverEvent::VenueHandoverOffered {
                venue_id: *venue_id,
                successor: successor.clone(),
                token_hash: token_hash.clone(),
                expires_at: *at + HANDOVER_VALIDITY,
                at: *at,
            }]),
            (VenueHandoverCommand::Accept { .. }, None) => Err(HandoverError::InvalidToken),
            (
                VenueHandoverCommand::Accept {
                    token_hash,
                    by,
                    by_digest,
                    at,
                },
                Some((venue_id, successor, offered, expires_at)),
            ) => {
                check_acceptance(
                    (offered, successor, expires_at),
                    (token_hash, by_digest, at),
                )?;
                Ok(vec![VenueHandoverEvent::VenueHandoverAccepted {
                    venue_id: *venue_id,
                    successor: *by,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(_state: PendingHandover, event: &VenueHandoverEvent) -> PendingHandover {
        match event {
            VenueHandoverEvent::VenueHandoverOffered {
                venue_id,
                successor,
                token_hash,
                expires_at,
                ..
            } => PendingHandover {
                offer: Some((
                    *venue_id,
                    successor.clone(),
                    token_hash.clone(),
                    *expires_at,
                )),
            },
            VenueHandoverEvent::VenueHandoverAccepted { .. } => PendingHandover::default(),
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

    fn venue() -> VenueId {
        VenueId::new(Uuid::from_u128(3))
    }

    fn digest(c: char) -> DocumentDigest {
        DocumentDigest::parse(c.to_string().repeat(64)).expect("digest")
    }

    fn offer(by_admin: bool, token: &str) -> VenueHandoverCommand {
        VenueHandoverCommand::Offer {
            venue_id: venue(),
            by_admin,
            successor: digest('a'),
            token_hash: token.into(),
            at: AT,
        }
    }

    fn offered(token: &str) -> VenueHandoverEvent {
        VenueHandoverEvent::VenueHandoverOffered {
            venue_id: venue(),
            successor: digest('a'),
            token_hash: token.into(),
            expires_at: AT + HANDOVER_VALIDITY,
            at: AT,
        }
    }

    fn accept(token: &str, who: char, at: OffsetDateTime) -> VenueHandoverCommand {
        VenueHandoverCommand::Accept {
            token_hash: token.into(),
            by: PersonId::new(Uuid::from_u128(9)),
            by_digest: digest(who),
            at,
        }
    }

    #[test]
    fn only_the_admin_offers_and_a_new_offer_voids_the_old() {
        Given::<VenueHandover>::nothing()
            .when(&offer(true, "t1"))
            .then(vec![offered("t1")]);
        Given::<VenueHandover>::nothing()
            .when(&offer(false, "t1"))
            .then_error(HandoverError::NotAdmin);
        Given::<VenueHandover>::events(vec![offered("t1"), offered("t2")])
            .when(&accept("t1", 'a', AT))
            .then_error(HandoverError::InvalidToken);
    }

    #[test]
    fn only_the_named_successor_accepts_within_24_hours_and_once() {
        let accepted = VenueHandoverEvent::VenueHandoverAccepted {
            venue_id: venue(),
            successor: PersonId::new(Uuid::from_u128(9)),
            at: AT + Duration::hours(1),
        };
        Given::<VenueHandover>::events(vec![offered("t1")])
            .when(&accept("t1", 'a', AT + Duration::hours(1)))
            .then(vec![accepted.clone()]);
        Given::<VenueHandover>::events(vec![offered("t1")])
            .when(&accept("t1", 'b', AT))
            .then_error(HandoverError::NotTheSuccessor);
        Given::<VenueHandover>::events(vec![offered("t1")])
            .when(&accept("t1", 'a', AT + Duration::hours(25)))
            .then_error(HandoverError::Expired(AT + HANDOVER_VALIDITY));
        Given::<VenueHandover>::events(vec![offered("t1"), accepted])
            .when(&accept("t1", 'a', AT + Duration::hours(2)))
            .then_error(HandoverError::InvalidToken);
        Given::<VenueHandover>::nothing()
            .when(&accept("t1", 'a', AT))
            .then_error(HandoverError::InvalidToken);
    }
}
