//! Bearer authentication. Service-account tokens (`yk_sa_…`) are looked up by their SHA-256
//! in the `service_accounts` projection; the token itself is never stored or logged. Citizen
//! session tokens (`yk_s_…`) are verified by their MAC and expiry alone.

use actix_web::http::header;
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use crate::crypto::session;
use crate::error::ApiError;
use crate::server::AppState;
use domain::identity::PersonId;

/// Prefix of service-account tokens.
pub const SERVICE_TOKEN_PREFIX: &str = "yk_sa_";

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
            Principal::Person { person_id } => format!("person-{person_id}"),
        }
    }

    fn has_any_role(&self, roles: &[&str]) -> bool {
        match self {
            Principal::ServiceAccount { role, .. } => roles.contains(&role.as_str()),
            Principal::Person { .. } => false,
        }
    }
}

/// Hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Authenticates the request: 401 without a valid bearer token.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthenticated)?;
    if token.starts_with(session::PREFIX) {
        let person_id = session::verify(&state.keys.session_key, token, state.clock.now())
            .map_err(|e| ApiError::Unauthorized {
                code: e.code(),
                detail: e.to_string(),
            })?;
        return Ok(Principal::Person {
            person_id: PersonId::new(person_id),
        });
    }
    if !token.starts_with(SERVICE_TOKEN_PREFIX) {
        return Err(ApiError::Unauthenticated);
    }
    let account = projections::service_accounts::by_token_hash(&state.db, &token_hash(token))
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Principal::ServiceAccount {
        account_id: account.account_id,
        role: account.role,
    })
}

/// Authenticates a logged-in citizen: 401 without a session, 403 for a service account.
pub async fn person(req: &HttpRequest, state: &AppState) -> Result<PersonId, ApiError> {
    match authenticate(req, state).await? {
        Principal::Person { person_id } => Ok(person_id),
        Principal::ServiceAccount { .. } => Err(ApiError::Forbidden(
            "this route is for logged-in citizens, not service accounts".into(),
        )),
    }
}

/// Authenticates, then requires one of `roles`: 403 otherwise.
pub async fn require(
    req: &HttpRequest,
    state: &AppState,
    roles: &[&str],
) -> Result<Principal, ApiError> {
    let principal = authenticate(req, state).await?;
    if principal.has_any_role(roles) {
        Ok(principal)
    } else {
        Err(ApiError::Forbidden(format!(
            "this route needs the {} role",
            roles.join(" or ")
        )))
    }
}
