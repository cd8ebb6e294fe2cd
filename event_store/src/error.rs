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
