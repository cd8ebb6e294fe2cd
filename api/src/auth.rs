//! Bearer authentication of a request: the token is read from the `Authorization` header and
//! authenticated by the use-case layer.

use actix_web::http::header;
use actix_web::HttpRequest;
use domain::identity::PersonId;
pub use services::auth::Principal;

use crate::error::ApiError;
use crate::state::AppState;

/// Authenticates the request: 401 without a valid bearer token.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthenticated)?;
    Ok(services::auth::authenticate(&state.services, token).await?)
}

/// Authenticates a logged-in citizen: 401 without a session, 403 for a service account.
pub async fn person(req: &HttpRequest, state: &AppState) -> Result<PersonId, ApiError> {
    Ok(authenticate(req, state).await?.person()?)
}

/// Authenticates, then requires one of `roles`: 403 otherwise.
pub async fn require(
    req: &HttpRequest,
    state: &AppState,
    roles: &[&str],
) -> Result<Principal, ApiError> {
    Ok(authenticate(req, state).await?.require(roles)?)
}
