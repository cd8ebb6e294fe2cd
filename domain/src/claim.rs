//! Claims keep cross-aggregate rules ("one admin has at most one org", "a code is assigned
//! once"): a claim stream per admin or per code, appended at its loaded version in the same
//! atomic append as the aggregate it guards, so concurrent claimers conflict and exactly one
//! wins.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimCommand {
    /// Takes the claim for `holder` (an org, venue or grid id).
    Take { holder: Uuid, at: OffsetDateTime },
    /// Gives it up (a venue handed over, say).
    Release { at: OffsetDateTime },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ClaimEvent {
    Claimed {
        holder: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    ClaimReleased {
        holder: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for ClaimEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum ClaimState {
    Free,
    Held { holder: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("already claimed by {0}")]
    Held(Uuid),
    #[error("nothing is claimed")]
    Free,
}

/// The use cases name what is held (`org.admin_has_org`, `venue.admin_has_venue`,
/// `venue.successor_has_venue`, `code.taken`); these are the codes of a bare claim.
impl Refusal for ClaimError {
    fn code(&self) -> &'static str {
        match self {
            ClaimError::Held(_) => "claim.held",
            ClaimError::Free => "claim.free",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            ClaimError::Held(_) | ClaimError::Free => RefusalKind::Conflict,
        }
    }
}

/// A claim.
#[derive(Debug)]
pub struct Claim;

impl Decider for Claim {
    type Command = ClaimCommand;
    type Event = ClaimEvent;
    type State = ClaimState;
    type Error = ClaimError;

    fn initial() -> ClaimState {
        ClaimState::Free
    }

    fn decide(command: &ClaimCommand, state: &ClaimState) -> Result<Vec<ClaimEvent>, ClaimError> {
        match (command, state) {
            (ClaimCommand::Take { holder, at }, ClaimState::Free) => {
                Ok(vec![ClaimEvent::Claimed {
                    holder: *holder,
                    at: *at,
                }])
            }
            (ClaimCommand::Take { .. }, ClaimState::Held { holder }) => {
                Err(ClaimError::Held(*holder))
            }
            (ClaimCommand::Release { at }, ClaimState::Held { holder }) => {
                Ok(vec![ClaimEvent::ClaimReleased {
                    holder: *holder,
                    at: *at,
                }])
            }
            (ClaimCommand::Release { .. }, ClaimState::Free) => Err(ClaimError::Free),
        }
    }

    fn evolve(_state: ClaimState, event: &ClaimEvent) -> ClaimState {
        match event {
            ClaimEvent::Claimed { holder, .. } => ClaimState::Held { holder: *holder },
            ClaimEvent::ClaimReleased { .. } => ClaimState::Free,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    #[test]
    fn a_claim_is_held_once_until_released() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let claimed = ClaimEvent::Claimed { holder: a, at: AT };
        Given::<Claim>::nothing()
            .when(&ClaimCommand::Take { holder: a, at: AT })
            .then(vec![claimed.clone()]);
        Given::<Claim>::events(vec![claimed.clone()])
            .when(&ClaimCommand::Take { holder: b, at: AT })
            .then_error(ClaimError::Held(a));
        let released = ClaimEvent::ClaimReleased { holder: a, at: AT };
        Given::<Claim>::events(vec![claimed.clone()])
            .when(&ClaimCommand::Release { at: AT })
            .then(vec![released.clone()]);
        Given::<Claim>::events(vec![claimed, released])
            .when(&ClaimCommand::Take { holder: b, at: AT })
            .then(vec![ClaimEvent::Claimed { holder: b, at: AT }]);
        Given::<Claim>::nothing()
            .when(&ClaimCommand::Release { at: AT })
            .then_error(ClaimError::Free);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let holder = Uuid::from_u128(1);
        let table = [
            (ClaimError::Held(holder), "claim.held"),
            (ClaimError::Free, "claim.free"),
        ];
        for (error, code) in table {
            assert_eq!(
                (error.code(), error.kind()),
                (code, RefusalKind::Conflict),
                "{error:?}"
            );
            assert!(error.extensions().is_empty());
        }
    }
}
