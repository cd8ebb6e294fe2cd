//! Service accounts: machine principals (the red-code feed, auditors, analysts) created by the
//! operator. The bearer token is shown once; only its SHA-256 is ever stored.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

/// A service account's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceAccountId(Uuid);

impl ServiceAccountId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for ServiceAccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a service account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRole {
    /// Posts red-code feed batches and answers appeals.
    Feed,
    /// Reads the full history and verifies its integrity.
    Auditor,
    /// Rebuilds projections, reads reports and pseudonymised exports.
    Analyst,
}

impl ServiceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceRole::Feed => "feed",
            ServiceRole::Auditor => "auditor",
            ServiceRole::Analyst => "analyst",
        }
    }

    /// Parses `feed`, `auditor` or `analyst`.
    pub fn parse(raw: &str) -> Result<Self, ServiceAccountError> {
        match raw {
            "feed" => Ok(ServiceRole::Feed),
            "auditor" => Ok(ServiceRole::Auditor),
            "analyst" => Ok(ServiceRole::Analyst),
            other => Err(ServiceAccountError::UnknownRole(other.to_owned())),
        }
    }
}

/// A service account's display name: 1 to 100 characters, no control characters. It names a
/// system ("provincial PSB feed"), never a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceAccountName(String);

impl ServiceAccountName {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ServiceAccountError> {
        let raw = raw.into();
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > 100 {
            return Err(ServiceAccountError::InvalidName(
                "a service account name has 1 to 100 characters",
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ServiceAccountError::InvalidName(
                "a service account name has no control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceAccountName {
    type Error = ServiceAccountError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<ServiceAccountName> for String {
    fn from(name: ServiceAccountName) -> String {
        name.0
    }
}

/// Hex SHA-256 of a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHash(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAccountCommand {
    Create {
        role: ServiceRole,
        name: ServiceAccountName,
        token_hash: TokenHash,
        at: OffsetDateTime,
    },
    Revoke {
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ServiceAccountEvent {
    ServiceAccountCreated {
        role: ServiceRole,
        name: ServiceAccountName,
        token_hash: TokenHash,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    ServiceAccountRevoked {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for ServiceAccountEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum ServiceAccountState {
    Absent,
    Active { role: ServiceRole },
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceAccountError {
    #[error("service account already exists")]
    AlreadyExists,
    #[error("no such service account")]
    Unknown,
    #[error("service account is already revoked")]
    AlreadyRevoked,
    #[error("unknown role {0:?}: expected feed, auditor or analyst")]
    UnknownRole(String),
    #[error("{0}")]
    InvalidName(&'static str),
}

impl Refusal for ServiceAccountError {
    fn code(&self) -> &'static str {
        match self {
            ServiceAccountError::AlreadyExists => "service_account.exists",
            ServiceAccountError::Unknown => "service_account.unknown",
            ServiceAccountError::AlreadyRevoked => "service_account.revoked",
            ServiceAccountError::UnknownRole(_) => "service_account.role",
            ServiceAccountError::InvalidName(_) => "service_account.name",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            ServiceAccountError::AlreadyExists | ServiceAccountError::AlreadyRevoked => {
                RefusalKind::Conflict
            }
            ServiceAccountError::Unknown => RefusalKind::NotFound,
            ServiceAccountError::UnknownRole(_) => RefusalKind::Invalid { field: "role" },
            ServiceAccountError::InvalidName(_) => RefusalKind::Invalid { field: "name" },
        }
    }
}

/// The service-account aggregate.
#[derive(Debug)]
pub struct ServiceAccount;

impl Decider for ServiceAccount {
    type Command = ServiceAccountCommand;
    type Event = ServiceAccountEvent;
    type State = ServiceAccountState;
    type Error = ServiceAccountError;

    fn initial() -> ServiceAccountState {
        ServiceAccountState::Absent
    }

    fn decide(
        command: &ServiceAccountCommand,
        state: &ServiceAccountState,
    ) -> Result<Vec<ServiceAccountEvent>, ServiceAccountError> {
        match (command, state) {
            (
                ServiceAccountCommand::Create {
                    role,
                    name,
                    token_hash,
                    at,
                },
                ServiceAccountState::Absent,
            ) => Ok(vec![ServiceAccountEvent::ServiceAccountCreated {
                role: *role,
                name: name.clone(),
                token_hash: token_hash.clone(),
                at: *at,
            }]),
            (
                ServiceAccountCommand::Create { .. },
                ServiceAccountState::Active { .. } | ServiceAccountState::Revoked,
            ) => Err(ServiceAccountError::AlreadyExists),
            (ServiceAccountCommand::Revoke { at }, ServiceAccountState::Active { .. }) => {
                Ok(vec![ServiceAccountEvent::ServiceAccountRevoked { at: *at }])
            }
            (ServiceAccountCommand::Revoke { .. }, ServiceAccountState::Absent) => {
                Err(ServiceAccountError::Unknown)
            }
            (ServiceAccountCommand::Revoke { .. }, ServiceAccountState::Revoked) => {
                Err(ServiceAccountError::AlreadyRevoked)
            }
        }
    }

    fn evolve(state: ServiceAccountState, event: &ServiceAccountEvent) -> ServiceAccountState {
        match (state, event) {
            (_, ServiceAccountEvent::ServiceAccountCreated { role, .. }) => {
                ServiceAccountState::Active { role: *role }
            }
            (_, ServiceAccountEvent::ServiceAccountRevoked { .. }) => ServiceAccountState::Revoked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    fn create() -> ServiceAccountCommand {
        ServiceAccountCommand::Create {
            role: ServiceRole::Auditor,
            name: ServiceAccountName::parse("Provincial audit office").expect("name"),
            token_hash: TokenHash("ab".repeat(32)),
            at: datetime!(2026-03-02 01:00 UTC),
        }
    }

    fn created() -> ServiceAccountEvent {
        ServiceAccountEvent::ServiceAccountCreated {
            role: ServiceRole::Auditor,
            name: ServiceAccountName::parse("Provincial audit office").expect("name"),
            token_hash: TokenHash("ab".repeat(32)),
            at: datetime!(2026-03-02 01:00 UTC),
        }
    }

    #[test]
    fn an_account_is_created_once() {
        Given::<ServiceAccount>::nothing()
            .when(&create())
            .then(vec![created()]);
        Given::<ServiceAccount>::events(vec![created()])
            .when(&create())
            .then_error(ServiceAccountError::AlreadyExists);
    }

    #[test]
    fn only_an_active_account_is_revoked() {
        let revoke = ServiceAccountCommand::Revoke {
            at: datetime!(2026-03-03 01:00 UTC),
        };
        Given::<ServiceAccount>::nothing()
            .when(&revoke)
            .then_error(ServiceAccountError::Unknown);
        Given::<ServiceAccount>::events(vec![created()])
            .when(&revoke)
            .then(vec![ServiceAccountEvent::ServiceAccountRevoked {
                at: datetime!(2026-03-03 01:00 UTC),
            }]);
        Given::<ServiceAccount>::events(vec![
            created(),
            ServiceAccountEvent::ServiceAccountRevoked {
                at: datetime!(2026-03-03 01:00 UTC),
            },
        ])
        .when(&revoke)
        .then_error(ServiceAccountError::AlreadyRevoked);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let table = [
            (
                ServiceAccountError::AlreadyExists,
                "service_account.exists",
                RefusalKind::Conflict,
            ),
            (
                ServiceAccountError::Unknown,
                "service_account.unknown",
                RefusalKind::NotFound,
            ),
            (
                ServiceAccountError::AlreadyRevoked,
                "service_account.revoked",
                RefusalKind::Conflict,
            ),
            (
                ServiceAccountError::UnknownRole("admin".into()),
                "service_account.role",
                RefusalKind::Invalid { field: "role" },
            ),
            (
                ServiceAccountError::InvalidName("too long"),
                "service_account.name",
                RefusalKind::Invalid { field: "name" },
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }

    #[test]
    fn names_and_roles_are_parsed() {
        assert!(ServiceAccountName::parse("  ").is_err());
        assert!(ServiceAccountName::parse("a".repeat(101)).is_err());
        assert!(ServiceAccountName::parse("bad\nname").is_err());
        assert_eq!(
            ServiceAccountName::parse(" PSB feed ")
                .expect("name")
                .as_str(),
            "PSB feed"
        );
        assert_eq!(ServiceRole::parse("analyst"), Ok(ServiceRole::Analyst));
        assert!(matches!(
            ServiceRole::parse("admin"),
            Err(ServiceAccountError::UnknownRole(_))
        ));
    }
}
