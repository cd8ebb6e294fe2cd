//! The medical-staff roster (stream `medical-staff-<person uuid>`): the province admin grants
//! the permission to issue release notices to a person who has signed in once, with the
//! name and phone the roster lists (sealed with the person's subject key), their unit and
//! position; and revokes it. A revoked person may be granted again.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::sealed::Sealed;
use crate::Decider;

/// Where a staff member works: unit (单位名称) and position (职位), each 1 to 100 characters
/// with no control characters. Neither names a person; both appear on the notices they issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub unit: String,
    pub position: String,
}

impl Posting {
    pub fn parse(unit: &str, position: &str) -> Result<Self, StaffError> {
        let field = |raw: &str, name: &'static str| {
            let trimmed = raw.trim();
            let n = trimmed.chars().count();
            if n == 0 || n > 100 || trimmed.chars().any(char::is_control) {
                Err(StaffError::Posting(name))
            } else {
                Ok(trimmed.to_owned())
            }
        };
        Ok(Self {
            unit: field(unit, "unit")?,
            position: field(position, "position")?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffCommand {
    /// `by_province_admin`: the fact, from `region-44`, that the person asking holds it.
    Grant {
        person: PersonId,
        /// Name and phone as the roster lists them, sealed with the person's subject key.
        contact: Sealed,
        posting: Posting,
        by: PersonId,
        by_province_admin: bool,
        at: OffsetDateTime,
    },
    Revoke {
        by: PersonId,
        by_province_admin: bool,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum StaffEvent {
    MedicalStaffGranted {
        person: PersonId,
        contact: Sealed,
        posting: Posting,
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    MedicalStaffRevoked {
        person: PersonId,
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for StaffEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum StaffState {
    /// Never granted, or revoked.
    NotStaff,
    Granted {
        person: PersonId,
        posting: Posting,
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
    },
}

impl StaffState {
    /// The posting of a granted staff member.
    pub fn posting(&self) -> Option<&Posting> {
        match self {
            StaffState::Granted { posting, .. } => Some(posting),
            StaffState::NotStaff => None,
        }
    }

    pub fn is_granted(&self) -> bool {
        self.posting().is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("only the province admin grants and revokes the medical-staff permission")]
    NotProvinceAdmin,
    #[error("this person already holds the medical-staff permission")]
    AlreadyGranted,
    #[error("this person does not hold the medical-staff permission")]
    NotStaff,
    #[error("{0} has 1 to 100 characters and no control characters")]
    Posting(&'static str),
}

impl Refusal for StaffError {
    fn code(&self) -> &'static str {
        match self {
            StaffError::NotProvinceAdmin => FORBIDDEN,
            StaffError::AlreadyGranted => "medical.already_granted",
            StaffError::NotStaff => "medical.not_staff",
            StaffError::Posting(_) => "medical.posting",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            StaffError::NotProvinceAdmin => RefusalKind::Forbidden,
            StaffError::AlreadyGranted => RefusalKind::Conflict,
            StaffError::NotStaff => RefusalKind::NotFound,
            StaffError::Posting(field) => RefusalKind::Invalid { field },
        }
    }
}

/// A person's place on the medical-staff roster.
#[derive(Debug)]
pub struct MedicalStaff;

impl Decider for MedicalStaff {
    type Command = StaffCommand;
    type Event = StaffEvent;
    type State = StaffState;
    type Error = StaffError;

    fn initial() -> StaffState {
        StaffState::NotStaff
    }

    fn decide(command: &StaffCommand, state: &StaffState) -> Result<Vec<StaffEvent>, StaffError> {
        match command {
            StaffCommand::Grant {
                person,
                contact,
                posting,
                by,
                by_province_admin,
                at,
            } => {
                if !by_province_admin {
                    return Err(StaffError::NotProvinceAdmin);
                }
                if state.is_granted() {
                    return Err(StaffError::AlreadyGranted);
                }
                Ok(vec![StaffEvent::MedicalStaffGranted {
                    person: *person,
                    contact: contact.clone(),
                    posting: posting.clone(),
                    by: *by,
                    at: *at,
                }])
            }
            StaffCommand::Revoke {
                by,
                by_province_admin,
                at,
            } => {
                if !by_province_admin {
                    return Err(StaffError::NotProvinceAdmin);
                }
                match state {
                    StaffState::NotStaff => Err(StaffError::NotStaff),
                    StaffState::Granted { person, .. } => {
                        Ok(vec![StaffEvent::MedicalStaffRevoked {
                            person: *person,
                            by: *by,
                            at: *at,
                        }])
                    }
                }
            }
        }
    }

    fn evolve(_state: StaffState, event: &StaffEvent) -> StaffState {
        match event {
            StaffEvent::MedicalStaffGranted {
                person,
                posting,
                at,
                ..
            } => StaffState::Granted {
                person: *person,
                posting: posting.clone(),
                since: *at,
            },
            StaffEvent::MedicalStaffRevoked { .. } => StaffState::NotStaff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;
    use uuid::Uuid;

    const AT: OffsetDateTime = datetime!(2026-03-01 09:00 +8);

    fn staff() -> PersonId {
        PersonId::new(Uuid::from_u128(1))
    }

    fn admin() -> PersonId {
        PersonId::new(Uuid::from_u128(2))
    }

    fn posting() -> Posting {
        Posting::parse(" 广州市第一人民医院 ", "主治医师").expect("valid")
    }

    fn grant(by_province_admin: bool) -> StaffCommand {
        StaffCommand::Grant {
            person: staff(),
            contact: Sealed::new("sealed-contact"),
            posting: posting(),
            by: admin(),
            by_province_admin,
            at: AT,
        }
    }

    fn granted() -> StaffEvent {
        StaffEvent::MedicalStaffGranted {
            person: staff(),
            contact: Sealed::new("sealed-contact"),
            posting: posting(),
            by: admin(),
            at: AT,
        }
    }

    fn revoke(by_province_admin: bool) -> StaffCommand {
        StaffCommand::Revoke {
            by: admin(),
            by_province_admin,
            at: AT,
        }
    }

    fn revoked() -> StaffEvent {
        StaffEvent::MedicalStaffRevoked {
            person: staff(),
            by: admin(),
            at: AT,
        }
    }

    #[test]
    fn the_province_admin_grants_the_permission_once() {
        Given::<MedicalStaff>::nothing()
            .when(&grant(true))
            .then(vec![granted()]);
        Given::<MedicalStaff>::events(vec![granted()])
            .when(&grant(true))
            .then_error(StaffError::AlreadyGranted);
    }

    #[test]
    fn nobody_else_grants_or_revokes() {
        Given::<MedicalStaff>::nothing()
            .when(&grant(false))
            .then_error(StaffError::NotProvinceAdmin);
        Given::<MedicalStaff>::events(vec![granted()])
            .when(&revoke(false))
            .then_error(StaffError::NotProvinceAdmin);
    }

    #[test]
    fn a_revoked_person_is_no_staff_and_may_be_granted_again() {
        Given::<MedicalStaff>::events(vec![granted()])
            .when(&revoke(true))
            .then(vec![revoked()]);
        Given::<MedicalStaff>::events(vec![granted(), revoked()])
            .when(&revoke(true))
            .then_error(StaffError::NotStaff);
        Given::<MedicalStaff>::nothing()
            .when(&revoke(true))
            .then_error(StaffError::NotStaff);
        Given::<MedicalStaff>::events(vec![granted(), revoked()])
            .when(&grant(true))
            .then(vec![granted()]);
        assert!(!MedicalStaff::fold(&[granted(), revoked()]).is_granted());
        assert_eq!(MedicalStaff::fold(&[granted()]).posting(), Some(&posting()));
    }

    #[test]
    fn a_posting_is_trimmed_and_bounded() {
        assert_eq!(posting().unit, "广州市第一人民医院");
        assert_eq!(Posting::parse("", "x"), Err(StaffError::Posting("unit")));
        assert_eq!(
            Posting::parse("x", &"医".repeat(101)),
            Err(StaffError::Posting("position"))
        );
        assert_eq!(
            Posting::parse("a\u{7}b", "x"),
            Err(StaffError::Posting("unit"))
        );
        assert_eq!(
            StaffError::Posting("unit").kind(),
            RefusalKind::Invalid { field: "unit" }
        );
        assert_eq!(StaffError::NotProvinceAdmin.kind(), RefusalKind::Forbidden);
        assert_eq!(StaffError::NotStaff.code(), "medical.not_staff");
    }
}
