//! The health code's colour: red while the person has at least one active red reason,
//! otherwise green (SPEC §3).

use serde::{Deserialize, Serialize};

use crate::document::DocumentDigest;
use crate::identity::RedReason;

/// The colour a health code shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Red,
}

impl Colour {
    /// The colour of a code whose active red reasons are `active`.
    pub fn of<'a>(active: impl IntoIterator<Item = &'a RedReason>) -> Self {
        if active.into_iter().next().is_some() {
            Colour::Red
        } else {
            Colour::Green
        }
    }

    /// `green` or `red`, as answers show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Red => "red",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Identity, IdentityEvent, IdentityState};
    use crate::Decider;

    #[test]
    fn red_while_a_reason_is_active_else_green() {
        assert_eq!(Colour::of(&[]), Colour::Green);
        assert_eq!(Colour::of(&[RedReason::HomeQuarantine]), Colour::Red);
        assert_eq!(
            Colour::of(&vec![RedReason::Confirmed, RedReason::CloseContact]),
            Colour::Red
        );
        assert_eq!(Colour::Green.as_str(), "green");
        assert_eq!(Colour::Red.as_str(), "red");
        assert_eq!(
            serde_json::to_string(&Colour::Red).expect("json"),
            "\"red\""
        );
    }

    #[test]
    fn an_identity_is_red_from_a_hit_until_its_release() {
        let at = time::macros::datetime!(2026-03-02 09:00 +08:00);
        let record = crate::feed::FeedRecordId::parse("r1").expect("record id");
        let hit = IdentityEvent::RedReasonHit {
            record_id: record.clone(),
            reason: RedReason::CloseContact,
            effective_at: at,
            region: None,
            name: crate::sealed::Sealed::new("v1.a.b"),
            at,
        };
        let released = IdentityEvent::RedReasonReleased {
            reason: RedReason::CloseContact,
            release: crate::identity::Release::Feed { record_id: record },
            effective_at: at,
            at,
        };
        let colour = |state: IdentityState| Colour::of(&state.active_reasons());
        assert_eq!(colour(Identity::fold(&[])), Colour::Green);
        assert_eq!(
            colour(Identity::fold(std::slice::from_ref(&hit))),
            Colour::Red
        );
        assert_eq!(colour(Identity::fold(&[hit, released])), Colour::Green);
    }
}

/// A person's code (stream `health-code-<person uuid>`): its resets, and the documents whose
/// red reasons colour it besides the one the person registered with.
///
/// A reset voids every code token issued before it, so a photographed code stops working once
/// its holder resets (SPEC §3). A document attached here (a second document the identity
/// provider verified for the same subject) colours the code with its own reasons, so showing
/// another document does not turn a red code green.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCommand {
    Reset {
        at: time::OffsetDateTime,
    },
    AttachDocument {
        digest: DocumentDigest,
        at: time::OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CodeEvent {
    CodeReset {
        #[serde(with = "time::serde::rfc3339")]
        at: time::OffsetDateTime,
    },
    DocumentAttached {
        digest: DocumentDigest,
        #[serde(with = "time::serde::rfc3339")]
        at: time::OffsetDateTime,
    },
}

impl crate::DomainEvent for CodeEvent {}

/// Which code tokens still count, and which documents colour the code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeState {
    /// Tokens issued before this instant (the last reset) are void.
    pub valid_from: Option<time::OffsetDateTime>,
    /// The documents attached since registration, oldest first (the registration's own
    /// document is not among them).
    pub attached: Vec<DocumentDigest>,
}

/// How a scanned token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStanding {
    /// Reset since it was issued: refused.
    Void,
    /// Valid, but older than the freshness window (or from before tokens carried their issue
    /// time): colour and masked identity only.
    Old,
    /// Issued within the freshness window and not reset since.
    Fresh,
}

impl CodeState {
    /// The standing at `now` of a token issued at `issued_at` (`None`: a token of the first
    /// format, which carried no issue time), fresh for `window` after issue.
    pub fn standing(
        &self,
        issued_at: Option<time::OffsetDateTime>,
        now: time::OffsetDateTime,
        window: time::Duration,
    ) -> TokenStanding {
        match (issued_at, self.valid_from) {
            (None, Some(_)) => TokenStanding::Void,
            (Some(issued), Some(from)) if issued < from => TokenStanding::Void,
            (None, None) => TokenStanding::Old,
            // A token "issued" in the future (clock skew between servers) is fresh only
            // within the window too.
            (Some(issued), _) if (now - issued).abs() <= window => TokenStanding::Fresh,
            (Some(_), _) => TokenStanding::Old,
        }
    }
}

/// A person's code and its resets.
#[derive(Debug)]
pub struct HealthCode;

impl crate::Decider for HealthCode {
    type Command = CodeCommand;
    type Event = CodeEvent;
    type State = CodeState;
    type Error = std::convert::Infallible;

    fn initial() -> CodeState {
        CodeState::default()
    }

    fn decide(
        command: &CodeCommand,
        state: &CodeState,
    ) -> Result<Vec<CodeEvent>, std::convert::Infallible> {
        match command {
            CodeCommand::Reset { at } => Ok(vec![CodeEvent::CodeReset { at: *at }]),
            CodeCommand::AttachDocument { digest, .. } if state.attached.contains(digest) => {
                Ok(Vec::new())
            }
            CodeCommand::AttachDocument { digest, at } => Ok(vec![CodeEvent::DocumentAttached {
                digest: digest.clone(),
                at: *at,
            }]),
        }
    }

    fn evolve(mut state: CodeState, event: &CodeEvent) -> CodeState {
        match event {
            CodeEvent::CodeReset { at } => state.valid_from = Some(*at),
            CodeEvent::DocumentAttached { digest, .. } => state.attached.push(digest.clone()),
        }
        state
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;
    use crate::{Decider, Given};
    use time::macros::datetime;
    use time::Duration;

    const NOW: time::OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);
    const WINDOW: Duration = Duration::minutes(5);

    #[test]
    fn a_reset_is_recorded_each_time() {
        Given::<HealthCode>::nothing()
            .when(&CodeCommand::Reset { at: NOW })
            .then(vec![CodeEvent::CodeReset { at: NOW }]);
        Given::<HealthCode>::events(vec![CodeEvent::CodeReset {
            at: NOW - Duration::days(1),
        }])
        .when(&CodeCommand::Reset { at: NOW })
        .then(vec![CodeEvent::CodeReset { at: NOW }]);
    }

    #[test]
    fn a_document_is_attached_once_and_resets_keep_it() {
        let passport = DocumentDigest::parse("b".repeat(64)).expect("digest");
        let attached = CodeEvent::DocumentAttached {
            digest: passport.clone(),
            at: NOW,
        };
        let attach = CodeCommand::AttachDocument {
            digest: passport.clone(),
            at: NOW,
        };
        Given::<HealthCode>::nothing()
            .when(&attach)
            .then(vec![attached.clone()]);
        Given::<HealthCode>::events(vec![attached.clone()])
            .when(&attach)
            .then(vec![]);
        let state = HealthCode::fold(&[attached, CodeEvent::CodeReset { at: NOW }]);
        assert_eq!(state.attached, vec![passport]);
        assert_eq!(state.valid_from, Some(NOW));
    }

    #[test]
    fn tokens_are_fresh_within_the_window_old_after_and_void_before_a_reset() {
        let never_reset = CodeState::default();
        let standing = |v: &CodeState, issued| v.standing(issued, NOW, WINDOW);
        assert_eq!(standing(&never_reset, Some(NOW)), TokenStanding::Fresh);
        assert_eq!(
            standing(&never_reset, Some(NOW - Duration::minutes(5))),
            TokenStanding::Fresh
        );
        assert_eq!(
            standing(
                &never_reset,
                Some(NOW - Duration::minutes(5) - Duration::seconds(1))
            ),
            TokenStanding::Old
        );
        assert_eq!(
            standing(&never_reset, Some(NOW - Duration::days(400))),
            TokenStanding::Old,
            "a screenshot still shows the colour"
        );
        assert_eq!(standing(&never_reset, None), TokenStanding::Old);

        let reset = HealthCode::fold(&[CodeEvent::CodeReset {
            at: NOW - Duration::minutes(1),
        }]);
        assert_eq!(
            standing(&reset, Some(NOW - Duration::minutes(2))),
            TokenStanding::Void,
            "issued before the reset, though still within the window"
        );
        assert_eq!(standing(&reset, None), TokenStanding::Void);
        assert_eq!(
            standing(&reset, Some(NOW - Duration::minutes(1))),
            TokenStanding::Fresh,
            "issued at the reset's instant"
        );
        assert_eq!(standing(&reset, Some(NOW)), TokenStanding::Fresh);
    }
}
