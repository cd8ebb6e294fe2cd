//! Quick check-ins with a venue's poster (stream `checkin-<uuid>`), band normal, for oneself
//! or a member of one's family.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::demographics::Demographics;
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

use super::aggregate::VenueId;

/// A check-in of `subject` by `by` (the subject, or their guardian). The facts come from
/// other streams at decision time: `venue_exists` from the venue's stream, and
/// `acting_for_allowed` from [`crate::person::may_act_for`] on the subject's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckInCommand {
    CheckIn {
        check_id: Uuid,
        venue_id: VenueId,
        subject: PersonId,
        by: PersonId,
        venue_exists: bool,
        acting_for_allowed: bool,
        demographics: Demographics,
        at: OffsetDateTime,
    },
}

/// A quick check-in with the venue's poster (band normal), for oneself or a family member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CheckInEvent {
    CheckedIn {
        check_id: Uuid,
        venue_id: VenueId,
        subject: PersonId,
        by: PersonId,
        demographics: Demographics,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for CheckInEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum CheckInState {
    Absent,
    CheckedIn,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckInError {
    #[error("no venue {0}")]
    UnknownVenue(VenueId),
    #[error("you may check in only yourself or a member of your family")]
    NotFamily,
    #[error("the check-in already exists")]
    AlreadyCheckedIn,
}

impl Refusal for CheckInError {
    fn code(&self) -> &'static str {
        match self {
            CheckInError::UnknownVenue(_) => "venue.unknown",
            CheckInError::NotFamily => FORBIDDEN,
            CheckInError::AlreadyCheckedIn => "checkin.exists",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            CheckInError::UnknownVenue(_) => RefusalKind::NotFound,
            CheckInError::NotFamily => RefusalKind::Forbidden,
            CheckInError::AlreadyCheckedIn => RefusalKind::Conflict,
        }
    }
}

/// A quick check-in.
#[derive(Debug)]
pub struct CheckIn;

impl Decider for CheckIn {
    type Command = CheckInCommand;
    type Event = CheckInEvent;
    type State = CheckInState;
    type Error = CheckInError;

    fn initial() -> CheckInState {
        CheckInState::Absent
    }

    fn decide(
        command: &CheckInCommand,
        state: &CheckInState,
    ) -> Result<Vec<CheckInEvent>, CheckInError> {
        match (command, state) {
            (
                CheckInCommand::CheckIn {
                    venue_id,
                    venue_exists: false,
                    ..
                },
                CheckInState::Absent | CheckInState::CheckedIn,
            ) => Err(CheckInError::UnknownVenue(*venue_id)),
            (
                CheckInCommand::CheckIn {
                    venue_exists: true,
                    acting_for_allowed: false,
                    ..
                },
                CheckInState::Absent | CheckInState::CheckedIn,
            ) => Err(CheckInError::NotFamily),
            (
                CheckInCommand::CheckIn {
                    venue_exists: true,
                    acting_for_allowed: true,
                    ..
                },
                CheckInState::CheckedIn,
            ) => Err(CheckInError::AlreadyCheckedIn),
            (
                CheckInCommand::CheckIn {
                    check_id,
                    venue_id,
                    subject,
                    by,
                    venue_exists: true,
                    acting_for_allowed: true,
                    demographics,
                    at,
                },
                CheckInState::Absent,
            ) => Ok(vec![CheckInEvent::CheckedIn {
                check_id: *check_id,
                venue_id: *venue_id,
                subject: *subject,
                by: *by,
                demographics: *demographics,
                at: *at,
            }]),
        }
    }

    fn evolve(_state: CheckInState, event: &CheckInEvent) -> CheckInState {
        match event {
            CheckInEvent::CheckedIn { .. } => CheckInState::CheckedIn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demographics::{AgeBand, Sex};
    use crate::person::{may_act_for, Person, PersonEvent};
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn p(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn venue() -> VenueId {
        VenueId::new(Uuid::from_u128(100))
    }

    fn demographics() -> Demographics {
        Demographics {
            sex: Some(Sex::Male),
            age_band: Some(AgeBand::Under18),
        }
    }

    fn check_in(by: u128, venue_exists: bool, acting_for_allowed: bool) -> CheckInCommand {
        CheckInCommand::CheckIn {
            check_id: Uuid::from_u128(8),
            venue_id: venue(),
            subject: p(9),
            by: p(by),
            venue_exists,
            acting_for_allowed,
            demographics: demographics(),
            at: AT,
        }
    }

    fn checked_in(by: u128) -> CheckInEvent {
        CheckInEvent::CheckedIn {
            check_id: Uuid::from_u128(8),
            venue_id: venue(),
            subject: p(9),
            by: p(by),
            demographics: demographics(),
            at: AT,
        }
    }

    #[test]
    fn one_checks_in_oneself_or_a_family_member() {
        let child = Person::fold(&[
            PersonEvent::PersonCreated {
                digest: crate::document::DocumentDigest::parse("d".repeat(64)).expect("digest"),
                at: AT,
            },
            PersonEvent::GuardianLinked {
                guardian: p(2),
                at: AT,
            },
        ]);
        for by in [9, 2] {
            let allowed = may_act_for(p(by), p(9), &child);
            Given::<CheckIn>::nothing()
                .when(&check_in(by, true, allowed))
                .then(vec![checked_in(by)]);
        }
        let allowed = may_act_for(p(3), p(9), &child);
        Given::<CheckIn>::nothing()
            .when(&check_in(3, true, allowed))
            .then_error(CheckInError::NotFamily);
    }

    #[test]
    fn the_venue_must_exist_and_a_check_in_happens_once() {
        Given::<CheckIn>::nothing()
            .when(&check_in(9, false, true))
            .then_error(CheckInError::UnknownVenue(venue()));
        Given::<CheckIn>::nothing()
            .when(&check_in(3, false, false))
            .then_error(CheckInError::UnknownVenue(venue()));
        Given::<CheckIn>::events(vec![checked_in(9)])
            .when(&check_in(9, true, true))
            .then_error(CheckInError::AlreadyCheckedIn);
    }

    #[test]
    fn the_event_keeps_its_wire_form() {
        use crate::DomainEvent;
        let encoded = checked_in(2).encode().expect("encode");
        assert_eq!(encoded.event_type, "CheckedIn");
        assert_eq!(encoded.schema_version, 1);
        let payload: serde_json::Value = serde_json::from_str(&encoded.payload).expect("json");
        assert_eq!(
            payload,
            serde_json::json!({
                "check_id": Uuid::from_u128(8).to_string(),
                "venue_id": venue().to_string(),
                "subject": p(9).to_string(),
                "by": p(2).to_string(),
                "demographics": {"sex": "male", "age_band": "0-17"},
                "at": "2026-03-02T09:00:00+08:00",
            })
        );
        assert_eq!(
            CheckInEvent::decode("CheckedIn", 1, &encoded.payload).expect("decode"),
            checked_in(2)
        );
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let table = [
            (
                CheckInError::UnknownVenue(venue()),
                "venue.unknown",
                RefusalKind::NotFound,
            ),
            (
                CheckInError::NotFamily,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                CheckInError::AlreadyCheckedIn,
                "checkin.exists",
                RefusalKind::Conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }
}
