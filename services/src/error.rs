//! The one error of the use cases: the kind of refusal with its stable dotted code, never an
//! HTTP status (the HTTP crate maps kinds to statuses in one place).

use commands::CommandError;
use domain::{Refusal, RefusalKind};
use serde::Serialize;

/// One field that broke a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, as a JSON path (`document.number`).
    pub field: String,
    /// Stable dotted name of the rule (`resident_id.check_digit`).
    pub code: String,
    /// The rule in one sentence.
    pub detail: String,
}

/// The code of an [`ServiceError::Invalid`] whose rule has no code of its own.
pub const VALIDATION_FAILED: &str = "validation.failed";

/// The code of an [`ServiceError::Unavailable`] for a database out of reach (or a commit
/// whose outcome is unknown): retry, a command with the same idempotency key.
pub const STORE_UNAVAILABLE: &str = "store.unavailable";

/// Why a use case refused, by kind.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks rules about its fields, each listed. `code` is
    /// [`VALIDATION_FAILED`] unless the refusal has a rule of its own (`code.wrong_kind`).
    #[error("the request is invalid")]
    Invalid {
        code: &'static str,
        errors: Vec<FieldError>,
    },
    /// Who is asking could not be established (a refused identity assertion, a spent or
    /// expired token).
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: String },
    /// The actor is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// What the request names does not exist (for this actor).
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    /// A business rule refuses the command in the current state; `extensions` are extra
    /// members of the answer (`next_allowed_at`, `org_id`).
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        extensions: serde_json::Map<String, serde_json::Value>,
    },
    /// What the request names has ended for good (a dissolved grid).
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// Not now: a read model has not caught up, or a dependency is down; retry shortly.
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
    /// Too many requests of this kind from this person, address or account: retry after the
    /// seconds given.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// An unexpected failure, with its cause chain (logged, never shown).
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// What every use case returns.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// An unexpected failure, keeping the cause; except that a database out of reach (or
    /// an append whose commit's outcome is unknown) is no fault of the request:
    /// [`ServiceError::Unavailable`] with [`STORE_UNAVAILABLE`], to be retried (with the same
    /// idempotency key).
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        if event_store::is_unavailable_error(error.as_ref()) {
            return ServiceError::Unavailable {
                code: STORE_UNAVAILABLE,
                detail: "the database is unavailable; retry shortly (with the same Idempotency-Key, for a command)".into(),
            };
        }
        ServiceError::Internal(error)
    }

    /// One field and the rule it broke.
    pub fn invalid(field: impl Into<String>, code: &str, detail: impl Into<String>) -> Self {
        ServiceError::Invalid {
            code: VALIDATION_FAILED,
            errors: vec![FieldError {
                field: field.into(),
                code: code.into(),
                detail: detail.into(),
            }],
        }
    }

    /// One field refused by a rule that is also the answer's code.
    pub fn invalid_with_code(field: impl Into<String>, code: &'static str, detail: String) -> Self {
        ServiceError::Invalid {
            code,
            errors: vec![FieldError {
                field: field.into(),
                code: code.into(),
                detail,
            }],
        }
    }

    /// An unknown resource.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        ServiceError::NotFound {
            code,
            detail: detail.into(),
        }
    }

    /// A broken business rule.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ServiceError::Conflict {
            code,
            detail: detail.into(),
            extensions: serde_json::Map::new(),
        }
    }

    /// A refusal of the actor.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ServiceError::Forbidden(detail.into())
    }

    /// Adds an extra member to a conflict (other kinds carry none).
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        if let ServiceError::Conflict { extensions, .. } = &mut self {
            extensions.insert(name.into(), value.into());
        }
        self
    }

    /// A broken domain rule, by the kind and code the rule says of itself.
    pub fn refused<E: Refusal>(rule: E) -> Self {
        let detail = rule.to_string();
        match rule.kind() {
            RefusalKind::Invalid { field } => ServiceError::invalid(field, rule.code(), detail),
            RefusalKind::Unauthorized => ServiceError::Unauthenticated {
                code: rule.code(),
                detail,
            },
            RefusalKind::Forbidden => ServiceError::Forbidden(detail),
            RefusalKind::NotFound => ServiceError::NotFound {
                code: rule.code(),
                detail,
            },
            RefusalKind::Gone => ServiceError::Gone {
                code: rule.code(),
                detail,
            },
            RefusalKind::Conflict => ServiceError::Conflict {
                code: rule.code(),
                detail,
                extensions: rule
                    .extensions()
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value.into()))
                    .collect(),
            },
        }
    }

    /// The stable code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid { code, .. }
            | ServiceError::Unauthenticated { code, .. }
            | ServiceError::NotFound { code, .. }
            | ServiceError::Conflict { code, .. }
            | ServiceError::Gone { code, .. }
            | ServiceError::Unavailable { code, .. } => code,
            ServiceError::Forbidden(_) => "auth.forbidden",
            ServiceError::RateLimited { .. } => "rate.limited",
            ServiceError::Internal(_) => "internal",
        }
    }
}

impl From<domain::document::DocumentError> for ServiceError {
    fn from(e: domain::document::DocumentError) -> Self {
        ServiceError::invalid(e.field, e.code, e.detail)
    }
}

impl From<Vec<domain::document::DocumentError>> for ServiceError {
    fn from(errors: Vec<domain::document::DocumentError>) -> Self {
        ServiceError::Invalid {
            code: VALIDATION_FAILED,
            errors: errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field.into(),
                    code: e.code.into(),
                    detail: e.detail,
                })
                .collect(),
        }
    }
}

impl From<domain::EventDecodeError> for ServiceError {
    fn from(e: domain::EventDecodeError) -> Self {
        ServiceError::internal(e)
    }
}

impl From<serde_json::Error> for ServiceError {
    fn from(e: serde_json::Error) -> Self {
        ServiceError::internal(e)
    }
}

impl From<event_store::StoreError> for ServiceError {
    fn from(e: event_store::StoreError) -> Self {
        ServiceError::internal(e)
    }
}

impl<E> From<CommandError<E>> for ServiceError
where
    E: Into<ServiceError> + std::fmt::Debug + Send + Sync + 'static,
{
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(rule) => rule.into(),
            // The stream's name may hold a document digest or a person's id: the problem
            // names only its kind (the log and the trace keep the rest).
            CommandError::Conflict { stream, .. } => ServiceError::conflict(
                "concurrency.conflict",
                format!(
                    "another request changed the same {} record at the same time; retry",
                    domain::streams::split(stream.as_str()).map_or("", |(category, _)| category)
                ),
            ),
            CommandError::IdempotencyKeyReused => ServiceError::conflict(
                "idempotency.key_reused",
                "this Idempotency-Key was already used with a different request",
            ),
            // The store's error itself (its variant is transparent, hiding it from the chain).
            CommandError::Store(e) => ServiceError::internal(e),
            other => ServiceError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_rule_keeps_its_kind_code_and_extensions() {
        let forbidden = ServiceError::refused(domain::venue::InspectionError::NotAllowedToUnbind);
        assert!(matches!(&forbidden, ServiceError::Forbidden(d) if d.contains("admin")));
        let missing = ServiceError::refused(domain::venue::InspectionError::NotBound);
        assert_eq!(missing.code(), "venue.not_bound");
        assert!(matches!(missing, ServiceError::NotFound { .. }));
        let next = time::macros::datetime!(2026-03-09 00:00 +08:00);
        let limited = ServiceError::refused(domain::venue::VenueError::WeeklyEditLimit {
            next_allowed_at: next,
        });
        let ServiceError::Conflict {
            code, extensions, ..
        } = limited
        else {
            panic!("a conflict");
        };
        assert_eq!(code, "venue.weekly_edit_limit");
        assert_eq!(extensions["next_allowed_at"], "2026-03-09T00:00:00+08:00");
    }

    #[test]
    fn a_concurrency_conflict_names_no_stream() {
        let stream =
            event_store::StreamId::parse("identity-3f2a9c0de1b2c3d4e5f6a7b8c9d0e1f2").expect("id");
        let e = ServiceError::from(CommandError::<ServiceError>::Conflict {
            stream,
            expected: event_store::ExpectedVersion::Exact(1),
            actual: 2,
        });
        assert_eq!(e.code(), "concurrency.conflict");
        let ServiceError::Conflict { detail, .. } = e else {
            panic!("a conflict");
        };
        assert_eq!(
            detail,
            "another request changed the same identity record at the same time; retry"
        );
        assert!(!detail.contains("3f2a9c"));
    }

    #[test]
    fn a_conflict_carries_its_extensions_and_code() {
        let e = ServiceError::conflict("org.admin_has_org", "you already administer one")
            .with("org_id", "x");
        assert_eq!(e.code(), "org.admin_has_org");
        let ServiceError::Conflict { extensions, .. } = e else {
            panic!("a conflict");
        };
        assert_eq!(extensions["org_id"], "x");
    }

    #[test]
    fn an_unreachable_database_is_unavailable_not_internal() {
        use event_store::StoreError;
        let down = || StoreError::Unavailable("the database is locked".into());
        for e in [
            ServiceError::from(down()),
            ServiceError::from(StoreError::Closed),
            ServiceError::from(CommandError::<ServiceError>::Store(down())),
            ServiceError::from(CommandError::<ServiceError>::Store(
                StoreError::CommitUnknown("connection reset".into()),
            )),
            ServiceError::internal(anyhow::Error::from(down()).context("loading the venue")),
        ] {
            assert!(
                matches!(
                    e,
                    ServiceError::Unavailable {
                        code: STORE_UNAVAILABLE,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
        for e in [
            ServiceError::from(StoreError::Corrupt("bad row".into())),
            ServiceError::from(CommandError::<ServiceError>::Store(StoreError::Corrupt(
                "bad row".into(),
            ))),
            ServiceError::internal(anyhow::anyhow!("something else")),
        ] {
            assert!(matches!(e, ServiceError::Internal(_)), "{e:?}");
        }
    }

    #[test]
    fn document_errors_become_field_errors() {
        let e = ServiceError::from(vec![domain::document::DocumentError {
            field: "document.number",
            code: "resident_id.check_digit",
            detail: "the check character does not match".into(),
        }]);
        let ServiceError::Invalid { code, errors } = e else {
            panic!("invalid");
        };
        assert_eq!(code, VALIDATION_FAILED);
        assert_eq!(errors[0].field, "document.number");
    }
}
