//! Request extractors: who is calling (a signed-in citizen, or any authenticated caller), and
//! a command's body with its `Idempotency-Key`. Authentication happens as the handler's
//! arguments are extracted; the body is parsed only when the handler asks, so who may act is
//! answered before what the request says.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};
use commands::CommandContext;
use domain::identity::PersonId;
use serde::de::DeserializeOwned;
use services::auth::{person_actor, Principal};

use crate::error::{ApiError, FieldError};
use crate::state::AppState;

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The bearer token of a request, if it sends one.
pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// The application state a handler was registered with.
fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no application state registered")))
}

/// Any authenticated caller: `401` without a valid bearer token.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The caller when it holds one of `roles` (a service account of that role, or a person
    /// granted it): `403` otherwise.
    pub async fn require(self, state: &AppState, roles: &[&str]) -> Result<Principal, ApiError> {
        Ok(self.0.require(&state.services, roles).await?)
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = state(req);
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthenticated)?;
            let state = state?;
            Ok(Caller(
                services::auth::authenticate(&state.services, &token).await?,
            ))
        })
    }
}

/// A signed-in citizen: `401` without a session, `403` for a service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedIn(pub PersonId);

impl SignedIn {
    /// The actor their commands are recorded under (`person-<id>`).
    pub fn actor(&self) -> String {
        person_actor(self.0)
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { Ok(SignedIn(caller.await?.0.person()?)) })
    }
}

/// A command's request: its body (parsed on demand, with the same errors as actix's JSON
/// extractor) and its `Idempotency-Key` with a digest of the request.
pub struct CommandBody {
    req: HttpRequest,
    body: Bytes,
}

/// The body may hold personal data: its length shows, never its bytes.
impl std::fmt::Debug for CommandBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandBody")
            .field("path", &self.req.match_pattern())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl CommandBody {
    /// The body as `T`: `400` when it is not JSON, `422 body.shape` when it has another shape.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            if e.is_data() {
                ApiError::Validation(vec![FieldError {
                    field: "body".into(),
                    code: "body.shape".into(),
                    detail: e.to_string(),
                }])
            } else {
                ApiError::MalformedJson(e.to_string())
            }
        })
    }

    /// The command's context: the actor, and the `Idempotency-Key` (validated) with a digest
    /// of the method, route and body.
    pub fn context(&self, actor: impl Into<String>) -> Result<CommandContext, ApiError> {
        let key = crate::idempotency::from_request(&self.req, &self.body)?;
        Ok(CommandContext::new(actor).with_idempotency(key))
    }

    /// The context of a command whose request has no body (`DELETE`): the digest covers the
    /// method and route alone, whatever bytes were sent.
    pub fn bodiless_context(&self, actor: impl Into<String>) -> Result<CommandContext, ApiError> {
        let key = crate::idempotency::from_request(&self.req, &[])?;
        Ok(CommandContext::new(actor).with_idempotency(key))
    }
}

impl FromRequest for CommandBody {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(format!("the body is larger than the server reads: {e}"))
                } else {
                    ApiError::BadRequest {
                        code: "request.body",
                        detail: e.to_string(),
                    }
                }
            })?;
            Ok(CommandBody { req, body })
        })
    }
}

/// The client's address (the connection's peer; a proxy in front is one client), the key of
/// the per-address rate limits.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequest for ClientAddress {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientAddress(
            req.peer_addr()
                .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string()),
        )))
    }
}
