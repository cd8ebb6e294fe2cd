//! The reads both backends run alike: one SQL text (in `sql/`) and one function, whichever
//! pool it runs on.
//!
//! The shared statements use `$1, $2, …` placeholders, each first appearing in ascending
//! order (sqlx binds them by number on SQLite as on PostgreSQL; see decision 0008). What
//! really differs — the append transaction, which binds arrays on PostgreSQL and JSON on
//! SQLite — stays in `sql/postgres/` and `sql/sqlite/`.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use crate::error::StoreError;
use crate::model::{RecordedEvent, StoredIdempotency};
use crate::row::{decode_event, decode_key, position_param};

/// The log read through one pool of either backend.
#[derive(Debug)]
pub(crate) struct Reads<'p, DB: Database> {
    pool: &'p Pool<DB>,
}

impl<'p, DB> Reads<'p, DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
{
    pub(crate) fn on(pool: &'p Pool<DB>) -> Self {
        Self { pool }
    }

    /// A stream's events in version order.
    pub(crate) async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        sqlx::query(include_str!("sql/read_stream.sql"))
            .bind(stream)
            .fetch_all(self.pool)
            .await
            .map_err(StoreError::db("reading a stream"))?
            .iter()
            .map(decode_event)
            .collect()
    }

    /// Up to `limit` events after `after`, in position order.
    pub(crate) async fn read_all(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_all_from(position_param(after), i64::from(limit))
            .await
    }

    async fn read_all_from(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        sqlx::query(include_str!("sql/read_all.sql"))
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool)
            .await
            .map_err(StoreError::db("reading the log"))?
            .iter()
            .map(decode_event)
            .collect()
    }

    /// Up to `limit` events after `after`, optionally of one stream and/or one type.
    pub(crate) async fn read_filtered(
        &self,
        after: u64,
        limit: u32,
        stream: Option<&str>,
        event_type: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let after = position_param(after);
        let limit = i64::from(limit);
        // One statement per combination, so each filter can use its index.
        let query = match (stream, event_type) {
            (None, None) => return self.read_all_from(after, limit).await,
            (Some(stream), None) => sqlx::query(include_str!("sql/read_by_stream.sql"))
                .bind(after)
                .bind(stream)
                .bind(limit),
            (None, Some(event_type)) => sqlx::query(include_str!("sql/read_by_type.sql"))
                .bind(after)
                .bind(event_type)
                .bind(limit),
            (Some(stream), Some(event_type)) => {
                sqlx::query(include_str!("sql/read_by_stream_and_type.sql"))
                    .bind(after)
                    .bind(stream)
                    .bind(event_type)
                    .bind(limit)
            }
        };
        query
            .fetch_all(self.pool)
            .await
            .map_err(StoreError::db("reading the log"))?
            .iter()
            .map(decode_event)
            .collect()
    }

    /// The position of the last committed event (0 when the log is empty).
    pub(crate) async fn last_position(&self) -> Result<u64, StoreError> {
        let position: i64 = sqlx::query_scalar(include_str!("sql/last_position.sql"))
            .fetch_one(self.pool)
            .await
            .map_err(StoreError::db("reading the last position"))?;
        Ok(position as u64)
    }

    /// The highest position any idempotency record points at.
    pub(crate) async fn max_key_position(&self) -> Result<u64, StoreError> {
        let position: i64 = sqlx::query_scalar(include_str!("sql/max_key_position.sql"))
            .fetch_one(self.pool)
            .await
            .map_err(StoreError::db("reading idempotency positions"))?;
        Ok(position as u64)
    }

    /// A stream's current version (0 when it has no events).
    pub(crate) async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(include_str!("sql/stream_version.sql"))
            .bind(stream)
            .fetch_one(self.pool)
            .await
            .map_err(StoreError::db("reading a stream version"))?;
        Ok(version as u64)
    }

    /// The answer remembered under an idempotency key, if any.
    pub(crate) async fn idempotency(
        &self,
        key: &str,
    ) -> Result<Option<StoredIdempotency>, StoreError> {
        sqlx::query(include_str!("sql/get_key.sql"))
            .bind(key)
            .fetch_optional(self.pool)
            .await
            .map_err(StoreError::db("reading an idempotency key"))?
            .as_ref()
            .map(decode_key)
            .transpose()
    }
}
