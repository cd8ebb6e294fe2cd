//! The adapter port: what each backend (SQLite, PostgreSQL) does for the store and the writer;
//! everything backend-neutral lives in the store, the writer and the planner.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::{AppendError, StoreError};
use crate::model::{AppendOutcome, RecordedEvent, StoredIdempotency};
use crate::plan::{AppendCache, PendingAppend};

/// The error context of a failed COMMIT of an append (its outcome is unknown).
pub(crate) const COMMIT_CONTEXT: &str = "committing the append transaction";

/// What an adapter does.
#[async_trait]
pub(crate) trait Adapter: Send + Sync + std::fmt::Debug + 'static {
    /// Commits one batch in one transaction under the append lock; answers each request.
    /// `cache` holds what the previous commit left; see [`AppendCache`]. A failed COMMIT is
    /// reported with the context [`COMMIT_CONTEXT`].
    async fn commit(
        &self,
        batch: &[PendingAppend<'_>],
        now: OffsetDateTime,
        cache: &mut AppendCache,
    ) -> Result<Vec<Result<AppendOutcome, AppendError>>, StoreError>;
    /// A stream's events in version order.
    async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError>;
    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError>;
    async fn read_filtered(
        &self,
        after: u64,
        limit: u32,
        stream: Option<&str>,
        event_type: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;
    async fn last_position(&self) -> Result<u64, StoreError>;
    /// The highest position any idempotency record points at (a witness that the log once
    /// reached that far).
    async fn max_key_position(&self) -> Result<u64, StoreError>;
    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError>;
    async fn idempotency(&self, key: &str) -> Result<Option<StoredIdempotency>, StoreError>;
    async fn close(&self);
}
