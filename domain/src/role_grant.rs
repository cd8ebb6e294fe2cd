//! Person-held auditor and analyst roles (stream `role-grant-<person uuid>`): the province
//! admin grants them to a person who has signed in once, beside the service accounts, and
//! revokes them. The person then uses the audit or analysis routes with their own session.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::service_account::ServiceRole;
use crate::Decider;

/// A role a person can hold: auditor or analyst (the feed is a system, never a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Auditor,
    Analyst,
}

impl PersonRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonRole::Auditor => "auditor",
            PersonRole::Analyst => "analyst",
        }
    }

    /// Parses `auditor` or `analyst`.
    pub fn parse(raw: &str) -> Result<Self, RoleGrantError> {
        match raw {
            "auditor" => Ok(PersonRole::Auditor),
            "analyst" => Ok(PersonRole::Analyst),
            _ => Err(RoleGrantError::UnknownRole),
        }
    }

    /// The service-account role with the same rights.
    pub fn service_role(self) -> ServiceRole {
        match self {
            PersonRole::Auditor => ServiceRole::Auditor,
            PersonRole::Analyst => ServiceRole::Analyst,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleGrantCommand {
    /// `by_province_admin`: the fact, from `region-44`, that the person asking holds it.
    Grant {
        person: PersonId,
        role: PersonRole,
        by: PersonId,
        by_province_admin: bool,
        at: OffsetDateTime,
    },
    Revoke {
        person: PersonId,
        role: PersonRole,
        by: PersonId,
        by_province_admin: bool,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum RoleGrantEvent {
    RoleGranted {
        person: PersonId,
        role: PersonRole,
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    RoleRevoked {
        person: PersonId,
        role: PersonRole,
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for RoleGrantEvent {}

/// The roles a person holds now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HeldRoles {
    pub roles: BTreeSet<PersonRole>,
}

impl HeldRoles {
    pub fn holds(&self, role: PersonRole) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleGrantError {
    #[error("only the province admin grants and revokes the auditor and analyst roles")]
    NotProvinceAdmin,
    #[error("a person may be granted the auditor or the analyst role")]
    UnknownRole,
    #[error("this person already holds the role")]
    AlreadyGranted,
    #[error("this person does not hold the role")]
    NotGranted,
}

impl Refusal for RoleGrantError {
    fn code(&self) -> &'static str {
        match self {
            RoleGrantError::NotProvinceAdmin => FORBIDDEN,
            RoleGrantError::UnknownRole => "role.unknown",
            RoleGrantError::AlreadyGranted => "role.already_granted",
            RoleGrantError::NotGranted => "role.not_granted",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            RoleGrantError::NotProvinceAdmin => RefusalKind::Forbidden,
            RoleGrantError::UnknownRole => RefusalKind::Invalid { field: "role" },
            RoleGrantError::AlreadyGranted => RefusalKind::Conflict,
            RoleGrantError::NotGranted => RefusalKind::NotFound,
        }
    }
}

/// A person's auditor and analyst roles.
#[derive(Debug)]
pub struct RoleGrants;

impl Decider for RoleGrants {
    type Command = RoleGrantCommand;
    type Event = RoleGrantEvent;
    type State = HeldRoles;
    type Error = RoleGrantError;

    fn initial() -> HeldRoles {
        HeldRoles::default()
    }

    fn decide(
        command: &RoleGrantCommand,
        state: &HeldRoles,
    ) -> Result<Vec<RoleGrantEvent>, RoleGrantError> {
        match command {
            RoleGrantCommand::Grant {
                person,
                role,
                by,
                by_province_admin,
                at,
            } => {
                if !by_province_admin {
                    return Err(RoleGrantError::NotProvinceAdmin);
                }
                if state.holds(*role) {
                    return Err(RoleGrantError::AlreadyGranted);
                }
                Ok(vec![RoleGrantEvent::RoleGranted {
                    person: *person,
                    role: *role,
                    by: *by,
                    at: *at,
                }])
            }
            RoleGrantCommand::Revoke {
                person,
                role,
                by,
                by_province_admin,
                at,
            } => {
                if !by_province_admin {
                    return Err(RoleGrantError::NotProvinceAdmin);
                }
                if !state.holds(*role) {
                    return Err(RoleGrantError::NotGranted);
                }
                Ok(vec![RoleGrantEvent::RoleRevoked {
                    person: *person,
                    role: *role,
                    by: *by,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(mut state: HeldRoles, event: &RoleGrantEvent) -> HeldRoles {
        match event {
            RoleGrantEvent::RoleGranted { role, .. } => {
                state.roles.insert(*role);
            }
            RoleGrantEvent::RoleRevoked { role, .. } => {
                state.roles.remove(role);
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
    use uuid::Uuid;

    const AT: OffsetDateTime = datetime!(2026-03-01 09:00 +8);

    fn person(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn grant(role: PersonRole, by_province_admin: bool) -> RoleGrantCommand {
        RoleGrantCommand::Grant {
            person: person(1),
            role,
            by: person(2),
            by_province_admin,
            at: AT,
        }
    }

    fn revoke(role: PersonRole, by_province_admin: bool) -> RoleGrantCommand {
        RoleGrantCommand::Revoke {
            person: person(1),
            role,
            by: person(2),
            by_province_admin,
            at: AT,
        }
    }

    fn granted(role: PersonRole) -> RoleGrantEvent {
        RoleGrantEvent::RoleGranted {
            person: person(1),
            role,
            by: person(2),
            at: AT,
        }
    }

    fn revoked(role: PersonRole) -> RoleGrantEvent {
        RoleGrantEvent::RoleRevoked {
            person: person(1),
            role,
            by: person(2),
            at: AT,
        }
    }

    #[test]
    fn the_province_admin_grants_each_role_once() {
        Given::<RoleGrants>::nothing()
            .when(&grant(PersonRole::Auditor, true))
            .then(vec![granted(PersonRole::Auditor)]);
        Given::<RoleGrants>::events(vec![granted(PersonRole::Auditor)])
            .when(&grant(PersonRole::Analyst, true))
            .then(vec![granted(PersonRole::Analyst)]);
        Given::<RoleGrants>::events(vec![granted(PersonRole::Auditor)])
            .when(&grant(PersonRole::Auditor, true))
            .then_error(RoleGrantError::AlreadyGranted);
        Given::<RoleGrants>::nothing()
            .when(&grant(PersonRole::Auditor, false))
            .then_error(RoleGrantError::NotProvinceAdmin);
    }

    #[test]
    fn revocation_takes_one_role_away() {
        let both = vec![granted(PersonRole::Auditor), granted(PersonRole::Analyst)];
        Given::<RoleGrants>::events(both.clone())
            .when(&revoke(PersonRole::Auditor, true))
            .then(vec![revoked(PersonRole::Auditor)]);
        let mut after = both;
        after.push(revoked(PersonRole::Auditor));
        let held = RoleGrants::fold(&after);
        assert!(!held.holds(PersonRole::Auditor));
        assert!(held.holds(PersonRole::Analyst));
        Given::<RoleGrants>::events(after)
            .when(&revoke(PersonRole::Auditor, true))
            .then_error(RoleGrantError::NotGranted);
        Given::<RoleGrants>::events(vec![granted(PersonRole::Auditor)])
            .when(&revoke(PersonRole::Auditor, false))
            .then_error(RoleGrantError::NotProvinceAdmin);
    }

    #[test]
    fn only_auditor_and_analyst_are_person_roles() {
        assert_eq!(PersonRole::parse("auditor"), Ok(PersonRole::Auditor));
        assert_eq!(PersonRole::parse("analyst"), Ok(PersonRole::Analyst));
        assert_eq!(PersonRole::parse("feed"), Err(RoleGrantError::UnknownRole));
        assert_eq!(
            RoleGrantError::UnknownRole.kind(),
            RefusalKind::Invalid { field: "role" }
        );
        assert_eq!(PersonRole::Analyst.service_role(), ServiceRole::Analyst);
    }
}
