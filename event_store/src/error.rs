//! The store's typed errors: conflicts are data, infrastructure failures carry their cause.

use crate::model::{ExpectedVersion, StreamId};

/// A failure of the storage itself (connection, SQL, corrupt row, shut-down writer).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while {context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored row is malformed: {0}")]
    Corrupt(String),
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("the SQLite URL's synchronous is full or normal, not {0:?}")]
    BadSynchronous(String),
    #[error("the event store is shut down")]
    Closed,
    /// The database could not be reached, or stayed locked past the busy timeout.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// COMMIT failed: the append may or may not be in the log.
    #[error("the append's commit failed and its outcome is unknown: {0}")]
    CommitUnknown(String),
}

impl StoreError {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { context, source }
    }

    /// The database cannot be reached (or is locked, or shutting down or starting up): nothing
    /// about the request caused it, and the same request may well succeed shortly.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Closed => true,
            StoreError::Database { source, .. } => is_unreachable(source),
            _ => false,
        }
    }
}

/// Whether `error` says the database is out of reach rather than that a statement is wrong:
/// no connection (refused, reset, timed out waiting for the pool), the server shutting down
/// or starting up (PostgreSQL SQLSTATE class 08, 57P01–57P03, 53300), or SQLite busy or
/// locked past its timeout.
pub fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6).
            matches!(
                code.as_ref(),
                "5" | "6" | "57P01" | "57P02" | "57P03" | "53300"
            ) || (code.len() == 5 && code.starts_with("08"))
        }),
        _ => false,
    }
}

/// Whether `error`, or any error in its chain of causes, means the database was out of reach
/// (see [`is_unreachable`]) or that an append's commit failed with its outcome unknown: a
/// request failing so should be answered "unavailable, retry" (with the same idempotency key),
/// never as an internal error.
pub fn is_unavailable_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(store) = e.downcast_ref::<StoreError>() {
            if store.is_unavailable() || matches!(store, StoreError::CommitUnknown(_)) {
                return true;
            }
        }
        if e.downcast_ref::<sqlx::Error>().is_some_and(is_unreachable) {
            return true;
        }
        next = e.source();
    }
    false
}

/// Why one append request was not committed. The other requests of its batch are unaffected.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream moved on since the caller loaded it.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// Another request already committed under this idempotency key.
    #[error("idempotency key already used")]
    IdempotencyKeyExists { key: String },
    /// The request itself is unusable (no events, one stream named twice, ...).
    #[error("invalid append request: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_databases_are_told_from_bad_statements() {
        let unreachable = [
            StoreError::Database {
                context: "reading",
                source: sqlx::Error::PoolTimedOut,
            },
            StoreError::Database {
                context: "reading",
                source: sqlx::Error::Io(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                )),
            },
            StoreError::Unavailable("locked".into()),
            StoreError::Closed,
        ];
        for e in &unreachable {
            assert!(e.is_unavailable(), "{e:?}");
            assert!(is_unavailable_error(e), "{e:?}");
        }
        let unknown = StoreError::CommitUnknown("connection reset".into());
        assert!(!unknown.is_unavailable(), "the writer must not retry it");
        assert!(
            is_unavailable_error(&unknown),
            "but the caller may, with its key"
        );
        let wrong = [
            StoreError::Database {
                context: "reading",
                source: sqlx::Error::RowNotFound,
            },
            StoreError::Corrupt("bad row".into()),
        ];
        for e in &wrong {
            assert!(!e.is_unavailable(), "{e:?}");
            assert!(!is_unavailable_error(e), "{e:?}");
        }
        // Found under other errors too.
        #[derive(Debug, thiserror::Error)]
        #[error("loading the venue")]
        struct Loading(#[source] StoreError);
        let wrapped = Loading(StoreError::Database {
            context: "reading",
            source: sqlx::Error::PoolClosed,
        });
        assert!(is_unavailable_error(&wrapped));
        assert!(!is_unavailable_error(&Loading(StoreError::Corrupt(
            "x".into()
        ))));
    }
}
