//! Identity assertions are usable once: the first use is recorded on `assertion-<hash>`,
//! appended at version 0, so a replay (even a concurrent one) is refused.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

/// What an assertion was used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssertionPurpose {
    Login,
    AddFamilyMember,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseAssertion {
    pub issuer: String,
    pub purpose: AssertionPurpose,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum AssertionEvent {
    IdentityAssertionUsed {
        issuer: String,
        purpose: AssertionPurpose,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for AssertionEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum AssertionState {
    Unused,
    Used,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("this identity assertion was already used; ask the provider for a new one")]
    Replayed,
}

impl Refusal for AssertionError {
    fn code(&self) -> &'static str {
        match self {
            AssertionError::Replayed => "assertion.replayed",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            AssertionError::Replayed => RefusalKind::Unauthorized,
        }
    }
}

/// The once-only use of an assertion.
#[derive(Debug)]
pub struct Assertion;

impl Decider for Assertion {
    type Command = UseAssertion;
    type Event = AssertionEvent;
    type State = AssertionState;
    type Error = AssertionError;

    fn initial() -> AssertionState {
        AssertionState::Unused
    }

    fn decide(
        command: &UseAssertion,
        state: &AssertionState,
    ) -> Result<Vec<AssertionEvent>, AssertionError> {
        match state {
            AssertionState::Used => Err(AssertionError::Replayed),
            AssertionState::Unused => Ok(vec![AssertionEvent::IdentityAssertionUsed {
                issuer: command.issuer.clone(),
                purpose: command.purpose,
                at: command.at,
            }]),
        }
    }

    fn evolve(_state: AssertionState, event: &AssertionEvent) -> AssertionState {
        match event {
            AssertionEvent::IdentityAssertionUsed { .. } => AssertionState::Used,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    #[test]
    fn an_assertion_is_used_once() {
        let at = datetime!(2026-03-02 09:00 +08:00);
        let use_it = UseAssertion {
            issuer: "yuekang-dev".into(),
            purpose: AssertionPurpose::Login,
            at,
        };
        let used = AssertionEvent::IdentityAssertionUsed {
            issuer: "yuekang-dev".into(),
            purpose: AssertionPurpose::Login,
            at,
        };
        Given::<Assertion>::nothing()
            .when(&use_it)
            .then(vec![used.clone()]);
        Given::<Assertion>::events(vec![used])
            .when(&use_it)
            .then_error(AssertionError::Replayed);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let table = [(
            AssertionError::Replayed,
            "assertion.replayed",
            RefusalKind::Unauthorized,
        )];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }
}
