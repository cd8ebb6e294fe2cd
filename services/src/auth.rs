//! Who is calling: a bearer token becomes a [`Principal`]. Citizen session tokens (`yk_s_…`)
//! are verified by their MAC and expiry alone; service-account tokens (`yk_sa_…`) are looked
//! up by their SHA-256 in the `service_accounts` read model (the token is never stored).

use crypto::session;
use crypto::token::{token_hash, SERVICE_TOKEN_PREFIX};
use domain::identity::PersonId;
use domain::role_grant::PersonRole;
use domain::service_account::{ServiceAccount, ServiceAccountState};
use domain::session::Sessions;

use crate::{ServiceError, ServiceResult, Services};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    ServiceAccount {
        account_id: String,
        role: String,
    },
    /// A logged-in citizen.
    Person {
        person_id: PersonId,
    },
}

impl Principal {
    /// The actor recorded in event metadata.
    pub fn actor(&self) -> String {
        match self {
            Principal::ServiceAccount { account_id, .. } => format!("service-account-{account_id}"),
            Principal::Person { person_id } => person_actor(*person_id),
        }
    }

    /// The principal when it holds one of `roles`: a service account of that role, or a person
    /// granted it now (auditor and analyst only; read from their role stream, so a
    /// revocation counts from its commit). `Forbidden` otherwise.
    pub async fn require(self, services: &Services, roles: &[&str]) -> ServiceResult<Self> {
        let held = match &self {
            Principal::ServiceAccount { role, .. } => roles.contains(&role.as_str()),
            Principal::Person { person_id } => {
                let mut held = false;
                for role in roles.iter().filter_map(|r| PersonRole::parse(r).ok()) {
                    if crate::role_grants::holds(services, *person_id, role).await? {
                        held = true;
                        break;
                    }
                }
                held
            }
        };
        if held {
            Ok(self)
        } else {
            Err(ServiceError::Forbidden(format!(
                "this route needs the {} role",
                roles.join(" or ")
            )))
        }
    }

    /// The logged-in citizen: `Forbidden` for a service account.
    pub fn person(self) -> ServiceResult<PersonId> {
        match self {
            Principal::Person { person_id } => Ok(person_id),
            Principal::ServiceAccount { .. } => Err(ServiceError::Forbidden(
                "this route is for logged-in citizens, not service accounts".into(),
            )),
        }
    }
}

/// The actor a citizen's commands are recorded under.
pub fn person_actor(person: PersonId) -> String {
    format!("person-{person}")
}

/// What a missing or unknown token is refused with.
pub fn unauthenticated() -> ServiceError {
    ServiceError::Unauthenticated {
        code: "auth.unauthenticated",
        detail: "authentication required: send a valid bearer token".into(),
    }
}

/// Authenticates a bearer token.
pub async fn authenticate(services: &Services, token: &str) -> ServiceResult<Principal> {
    if token.starts_with(session::PREFIX) {
        let verified =
            session::verify(&services.keys.session_key, token, services.now()).map_err(|e| {
                ServiceError::Unauthenticated {
                    code: e.code(),
                    detail: e.to_string(),
                }
            })?;
        let person_id = PersonId::new(verified.person_id);
        // Signed out, or the person shredded: read from the log, so it counts at once.
        let ended =
            crate::support::fold::<Sessions>(services, &crate::streams::sessions(person_id))
                .await?;
        if !ended.counts(verified.session_id, verified.epoch) {
            return Err(ServiceError::Unauthenticated {
                code: "session.ended",
                detail: "this session was ended (signed out); log in again".into(),
            });
        }
        return Ok(Principal::Person { person_id });
    }
    if !token.starts_with(SERVICE_TOKEN_PREFIX) {
        return Err(unauthenticated());
    }
    let account = projections::service_accounts::by_token_hash(&services.db, &token_hash(token))
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(unauthenticated)?;
    // A revocation counts from its commit, whether or not the read model has applied it.
    let id = uuid::Uuid::parse_str(&account.account_id).map_err(ServiceError::internal)?;
    if !matches!(
        crate::support::fold::<ServiceAccount>(services, &crate::streams::service_account(id))
            .await?,
        ServiceAccountState::Active { .. }
    ) {
        return Err(unauthenticated());
    }
    services.limiter.take(
        crate::limits::Action::Service,
        &account.account_id,
        services.now(),
    )?;
    Ok(Principal::ServiceAccount {
        account_id: account.account_id,
        role: account.role,
    })
}
