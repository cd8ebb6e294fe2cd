//! The one error type of the HTTP layer and its RFC 9457 `application/problem+json` form: the
//! only place that knows HTTP statuses. Use-case refusals ([`ServiceError`]) map here by kind.
//!
//! Every refusal carries a stable dotted `code`; validation refusals list each field with
//! the rule it broke. A 500 logs its cause chain under an opaque id and shows only the id.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use services::error::VALIDATION_FAILED;
use services::ServiceError;
use utoipa::ToSchema;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON path (`document.number`).
    pub field: String,
    /// Stable dotted name of the rule (`resident_id.check_digit`).
    pub code: String,
    /// The rule in one sentence.
    pub detail: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, dotted error code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra members some problems carry (for example `next_allowed_at`).
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// Everything a route can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    /// A 422 whose rule has its own stable code at the top level (`code.wrong_kind`), with
    /// the fields listed as for [`ApiError::Validation`].
    #[error("the request is invalid")]
    Unprocessable {
        code: &'static str,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("authentication required: send a valid bearer token")]
    Unauthenticated,
    /// 401 with a reason: a refused identity assertion or an expired session.
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 413: the body is larger than the server reads.
    #[error("{0}")]
    TooLarge(String),
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        extensions: serde_json::Map<String, serde_json::Value>,
    },
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    #[error("the read model has not reached position {position} yet; retry shortly")]
    Lagging { position: u64 },
    #[error("{0}")]
    NotReady(String),
    /// 503 with its own code (a dependency is down, retry shortly).
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
    /// 429: too many requests of this kind; retry after the seconds given.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 500 for an unexpected failure, keeping the cause for the log; a database out of
    /// reach is a 503 `store.unavailable` instead (see [`ServiceError::internal`]).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        match ServiceError::internal(error) {
            ServiceError::Internal(cause) => ApiError::Internal(cause),
            other => other.into(),
        }
    }

    /// A 422 naming one field and the rule it broke.
    pub fn invalid(field: impl Into<String>, code: &str, detail: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            code: code.into(),
            detail: detail.into(),
        }])
    }

    /// A 404 for an unknown resource.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::NotFound {
            code,
            detail: detail.into(),
        }
    }

    /// A 409 for a broken business rule.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
            extensions: serde_json::Map::new(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "request.malformed_json",
            ApiError::Validation(_) => "validation.failed",
            ApiError::Unprocessable { code, .. } => code,
            ApiError::BadRequest { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Gone { code, .. } => code,
            ApiError::Unauthenticated => "auth.unauthenticated",
            ApiError::Unauthorized { code, .. } => code,
            ApiError::Forbidden(_) => "auth.forbidden",
            ApiError::MethodNotAllowed(_) => "request.method_not_allowed",
            ApiError::TooLarge(_) => "request.too_large",
            ApiError::Lagging { .. } => "projection.lagging",
            ApiError::NotReady(_) => "service.not_ready",
            ApiError::Unavailable { code, .. } => code,
            ApiError::RateLimited { .. } => "rate.limited",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) | ApiError::BadRequest { .. } => "Bad request",
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => "Invalid request",
            ApiError::Unauthenticated | ApiError::Unauthorized { .. } => "Unauthenticated",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound { .. } => "Not found",
            ApiError::MethodNotAllowed(_) => "Method not allowed",
            ApiError::TooLarge(_) => "Payload too large",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Gone { .. } => "Gone",
            ApiError::Lagging { .. } => "Read model lagging",
            ApiError::NotReady(_) | ApiError::Unavailable { .. } => "Not ready",
            ApiError::RateLimited { .. } => "Too many requests",
            ApiError::Internal(_) => "Internal error",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        let (detail, errors, extensions) = match self {
            ApiError::Validation(errors) | ApiError::Unprocessable { errors, .. } => (
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.detail))
                    .collect::<Vec<_>>()
                    .join("; "),
                errors.clone(),
                serde_json::Map::new(),
            ),
            ApiError::Conflict { extensions, .. } => {
                (self.to_string(), Vec::new(), extensions.clone())
            }
            ApiError::RateLimited { retry_after_secs } => {
                let mut ext = serde_json::Map::new();
                ext.insert("retry_after".into(), (*retry_after_secs).into());
                (self.to_string(), Vec::new(), ext)
            }
            ApiError::Internal(_) => {
                let id = uuid::Uuid::now_v7();
                tracing::error!(error_id = %id, error = ?self, "internal error");
                let mut ext = serde_json::Map::new();
                ext.insert("error_id".into(), id.to_string().into());
                (
                    format!("an internal error occurred; quote error id {id} to the operator"),
                    Vec::new(),
                    ext,
                )
            }
            _ => (self.to_string(), Vec::new(), serde_json::Map::new()),
        };
        Problem {
            type_: format!("https://yuekang.example/problems/{code}"),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code: code.to_owned(),
            errors,
            extensions,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthenticated | ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::Lagging { .. } | ApiError::NotReady(_) | ApiError::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if matches!(
            self,
            ApiError::Unauthenticated | ApiError::Unauthorized { .. }
        ) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if matches!(
            self,
            ApiError::Lagging { .. } | ApiError::NotReady(_) | ApiError::Unavailable { .. }
        ) {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        response.json(self.problem())
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let fields = |errors: Vec<services::FieldError>| -> Vec<FieldError> {
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field,
                    code: e.code,
                    detail: e.detail,
                })
                .collect()
        };
        match error {
            ServiceError::Invalid { code, errors } if code == VALIDATION_FAILED => {
                ApiError::Validation(fields(errors))
            }
            ServiceError::Invalid { code, errors } => ApiError::Unprocessable {
                code,
                errors: fields(errors),
            },
            ServiceError::Unauthenticated { code, detail } => {
                if code == "auth.unauthenticated" {
                    ApiError::Unauthenticated
                } else {
                    ApiError::Unauthorized { code, detail }
                }
            }
            ServiceError::Forbidden(detail) => ApiError::Forbidden(detail),
            ServiceError::NotFound { code, detail } => ApiError::NotFound { code, detail },
            ServiceError::Conflict {
                code,
                detail,
                extensions,
            } => ApiError::Conflict {
                code,
                detail,
                extensions,
            },
            ServiceError::Unavailable { code, detail } => ApiError::Unavailable { code, detail },
            ServiceError::Gone { code, detail } => ApiError::Gone { code, detail },
            ServiceError::RateLimited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            ServiceError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_lists_fields_and_rules() {
        let problem = ApiError::Validation(vec![FieldError {
            field: "document.number".into(),
            code: "resident_id.check_digit".into(),
            detail: "the check character does not match (ISO 7064 MOD 11-2)".into(),
        }])
        .problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "validation.failed");
        assert!(problem.detail.contains("document.number"));
        let json = serde_json::to_value(&problem).expect("json");
        assert_eq!(json["errors"][0]["code"], "resident_id.check_digit");
        assert_eq!(
            json["type"],
            "https://yuekang.example/problems/validation.failed"
        );
    }

    #[test]
    fn an_unreachable_database_answers_503_problem_json() {
        for error in [
            ApiError::from(ServiceError::from(event_store::StoreError::Database {
                context: "reading a stream",
                source: sqlx::Error::PoolTimedOut,
            })),
            ApiError::internal(event_store::StoreError::Database {
                context: "pinging the database",
                source: sqlx::Error::Io(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                )),
            }),
            ApiError::from(ServiceError::from(
                commands::CommandError::<ServiceError>::Store(
                    event_store::StoreError::CommitUnknown("connection reset".into()),
                ),
            )),
        ] {
            let response = error.error_response();
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{error:?}"
            );
            assert_eq!(
                response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .map(|v| v.as_bytes()),
                Some(&b"application/problem+json"[..])
            );
            assert!(response.headers().contains_key(header::RETRY_AFTER));
            assert_eq!(error.problem().code, "store.unavailable");
        }
        let bad_sql = ApiError::internal(event_store::StoreError::Database {
            context: "reading a stream",
            source: sqlx::Error::RowNotFound,
        });
        assert_eq!(bad_sql.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let problem = ApiError::internal(anyhow::anyhow!("password=hunter2")).problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
        assert!(problem.extensions.contains_key("error_id"));
    }
}
