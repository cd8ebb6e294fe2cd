//! The health code's colour: red while the person has at least one active red reason,
//! otherwise green (SPEC §3).

use serde::{Deserialize, Serialize};

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
