//! A person's sessions (stream `session-<person uuid>`): which have been ended. Session tokens
//! are verified by their MAC alone; this stream says whether one still counts. Signing out ends
//! one session; shredding the person ends every session issued until then by moving the
//! person's session epoch on (each token carries the epoch it was issued in).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Decider;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    /// Signing out of one session.
    End {
        session_id: Uuid,
        at: OffsetDateTime,
    },
    /// Every session issued so far stops counting (the person's data was shredded).
    EndAll { at: OffsetDateTime },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SessionEvent {
    SessionEnded {
        session_id: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    AllSessionsEnded {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for SessionEvent {}

/// The sessions that no longer count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndedSessions {
    pub ended: BTreeSet<Uuid>,
    /// The current epoch: sessions issued in an earlier one no longer count.
    pub epoch: u32,
}

impl EndedSessions {
    /// Whether the session `session_id`, issued in `epoch`, still counts.
    pub fn counts(&self, session_id: Uuid, epoch: u32) -> bool {
        !self.ended.contains(&session_id) && epoch == self.epoch
    }
}

/// A person's sessions.
#[derive(Debug)]
pub struct Sessions;

impl Decider for Sessions {
    type Command = SessionCommand;
    type Event = SessionEvent;
    type State = EndedSessions;
    type Error = std::convert::Infallible;

    fn initial() -> EndedSessions {
        EndedSessions::default()
    }

    fn decide(
        command: &SessionCommand,
        state: &EndedSessions,
    ) -> Result<Vec<SessionEvent>, std::convert::Infallible> {
        Ok(match command {
            // Ending an ended session changes nothing.
            SessionCommand::End { session_id, .. } if state.ended.contains(session_id) => {
                Vec::new()
            }
            SessionCommand::End { session_id, at } => vec![SessionEvent::SessionEnded {
                session_id: *session_id,
                at: *at,
            }],
            SessionCommand::EndAll { at } => vec![SessionEvent::AllSessionsEnded { at: *at }],
        })
    }

    fn evolve(mut state: EndedSessions, event: &SessionEvent) -> EndedSessions {
        match event {
            SessionEvent::SessionEnded { session_id, .. } => {
                state.ended.insert(*session_id);
            }
            SessionEvent::AllSessionsEnded { .. } => {
                state.epoch = state.epoch.saturating_add(1);
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +8);

    #[test]
    fn signing_out_ends_that_session_once() {
        let one = Uuid::from_u128(1);
        let ended = SessionEvent::SessionEnded {
            session_id: one,
            at: AT,
        };
        Given::<Sessions>::nothing()
            .when(&SessionCommand::End {
                session_id: one,
                at: AT,
            })
            .then(vec![ended.clone()]);
        Given::<Sessions>::events(vec![ended.clone()])
            .when(&SessionCommand::End {
                session_id: one,
                at: AT,
            })
            .then(vec![]);
        let state = Sessions::fold(&[ended]);
        assert!(!state.counts(one, 0));
        assert!(state.counts(Uuid::from_u128(2), 0));
    }

    #[test]
    fn ending_all_ends_every_session_issued_until_then() {
        Given::<Sessions>::nothing()
            .when(&SessionCommand::EndAll { at: AT })
            .then(vec![SessionEvent::AllSessionsEnded { at: AT }]);
        let state = Sessions::fold(&[SessionEvent::AllSessionsEnded { at: AT }]);
        assert!(!state.counts(Uuid::from_u128(1), 0), "issued before");
        assert!(
            state.counts(Uuid::from_u128(1), 1),
            "issued after, even in the same second"
        );
    }
}
