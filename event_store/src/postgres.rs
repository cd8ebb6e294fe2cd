//! The PostgreSQL adapter: appends serialised by a transaction-scoped advisory lock (so
//! several server processes share one gap-free log), new positions announced by NOTIFY.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;
use time::OffsetDateTime;

use crate::adapter::{Adapter, COMMIT_CONTEXT};
use crate::error::{AppendError, StoreError};
use crate::hash::ChainKey;
use crate::model::{AppendOutcome, RecordedEvent, StoredIdempotency};
use crate::plan::{self, AppendCache, Head, PendingAppend};
use crate::reads::Reads;
use crate::row::decode_append_state;

/// The NOTIFY channel carrying the last committed position.
pub(crate) const CHANNEL: &str = "yuekang_events";

#[derive(Debug)]
pub(crate) struct PgAdapter {
    readers: PgPool,
    writer: PgPool,
    chain_key: ChainKey,
}

impl PgAdapter {
    /// The versions of `streams` and the log head, read inside the append transaction.
    async fn read_state(
        &self,
        conn: &mut sqlx::PgConnection,
        streams: &[&str],
    ) -> Result<(std::collections::HashMap<String, u64>, Head), StoreError> {
        let rows = sqlx::query(include_str!("sql/postgres/read_for_append.sql"))
            .bind(streams)
            .fetch_all(conn)
            .await
            .map_err(StoreError::db("reading stream versions and the log head"))?;
        decode_append_state(&rows)
    }

    pub(crate) async fn new(readers: PgPool, chain_key: ChainKey) -> Result<Self, StoreError> {
        let options = (*readers.connect_options()).clone();
        let writer = PgPoolOptions::new()
            .max_connections(1)
            // As the readers' pool: while the database is away an append waits this long for
            // its connection (then answers unavailable), not the default 30 s, and the
            // reconnection backoff stays short once it is back.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await
            .map_err(StoreError::db("opening the PostgreSQL writer connection"))?;
        Ok(Self {
            readers,
            writer,
            chain_key,
        })
    }

    pub(crate) fn readers(&self) -> &PgPool {
        &self.readers
    }
}

#[async_trait]
impl Adapter for PgAdapter {
    async fn commit(
        &self,
        batch: &[PendingAppend<'_>],
        now: OffsetDateTime,
        cache: &mut AppendCache,
    ) -> Result<Vec<Result<AppendOutcome, AppendError>>, StoreError> {
        // BEGIN and the advisory lock in one round trip.
        let mut tx = self
            .writer
            .begin_with(include_str!("sql/postgres/begin.sql"))
            .await
            .map_err(StoreError::db(
                "beginning the append transaction under the lock",
            ))?;

        let streams: Vec<&str> = batch
            .iter()
            .flat_map(|p| p.request.streams.iter().map(|s| s.stream.as_str()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let cached = cache.lookup(&streams);
        let from_cache = cached.is_some();
        let (mut versions, mut head) = match cached {
            Some(known) => known,
            None => {
                let state = self.read_state(&mut tx, &streams).await?;
                cache.observe(state.1);
                state
            }
        };

        let wanted: Vec<&str> = batch
            .iter()
            .filter_map(|p| p.request.idempotency.as_ref().map(|r| r.key.as_str()))
            .collect();
        let mut taken = HashSet::new();
        if !wanted.is_empty() {
            for row in sqlx::query(include_str!("sql/postgres/taken_keys.sql"))
                .bind(&wanted)
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::db("reading idempotency keys"))?
            {
                taken.insert(row.try_get(0).map_err(StoreError::db("decoding a key"))?);
            }
        }

        let mut plan = plan::plan(&self.chain_key, batch, head, &mut versions, &taken, now);
        if from_cache && plan.has_conflicts() {
            // A conflict decided from memory may only mean another process moved the
            // stream: decide again from what the database says.
            (versions, head) = self.read_state(&mut tx, &streams).await?;
            cache.observe(head);
            plan = plan::plan(&self.chain_key, batch, head, &mut versions, &taken, now);
        }
        if !plan.rows.is_empty() {
            let n = plan.rows.len();
            let mut position = Vec::with_capacity(n);
            let mut stream = Vec::with_capacity(n);
            let mut version = Vec::with_capacity(n);
            let mut event_type = Vec::with_capacity(n);
            let mut schema_version = Vec::with_capacity(n);
            let mut payload = Vec::with_capacity(n);
            let mut metadata = Vec::with_capacity(n);
            let mut recorded_at = Vec::with_capacity(n);
            let mut hash = Vec::with_capacity(n);
            for r in &plan.rows {
                position.push(r.position as i64);
                stream.push(r.stream);
                version.push(r.version as i64);
                event_type.push(r.event_type);
                schema_version.push(i64::from(r.schema_version));
                payload.push(r.payload);
                metadata.push(r.metadata);
                recorded_at.push(r.recorded_at);
                hash.push(r.hash.to_vec());
            }
            sqlx::query(include_str!("sql/postgres/insert_events.sql"))
                .bind(position)
                .bind(stream)
                .bind(version)
                .bind(event_type)
                .bind(schema_version)
                .bind(payload)
                .bind(metadata)
                .bind(recorded_at)
                .bind(hash)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("inserting and announcing events"))?;
        }
        if !plan.keys.is_empty() {
            let mut key = Vec::new();
            let mut request_hash = Vec::new();
            let mut response = Vec::new();
            let mut position = Vec::new();
            for (r, p) in &plan.keys {
                key.push(r.key.as_str());
                request_hash.push(r.request_hash.as_str());
                response.push(r.response.as_str());
                position.push(*p as i64);
            }
            sqlx::query(include_str!("sql/postgres/insert_keys.sql"))
                .bind(key)
                .bind(request_hash)
                .bind(response)
                .bind(position)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("inserting idempotency keys"))?;
        }
        cache.reserve(&plan.rows);
        tx.commit().await.map_err(StoreError::db(COMMIT_CONTEXT))?;
        let head = plan.rows.last().map_or(head, |r| Head {
            position: r.position,
            hash: r.hash,
        });
        cache.remember(head, versions, &plan.rows);
        Ok(plan.outcomes)
    }

    async fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        Reads::on(&self.readers).read_stream(stream).await
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        Reads::on(&self.readers).read_all(after, limit).await
    }

    async fn read_filtered(
        &self,
        after: u64,
        limit: u32,
        stream: Option<&str>,
        event_type: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        Reads::on(&self.readers)
            .read_filtered(after, limit, stream, event_type)
            .await
    }

    async fn max_key_position(&self) -> Result<u64, StoreError> {
        Reads::on(&self.readers).max_key_position().await
    }

    async fn last_position(&self) -> Result<u64, StoreError> {
        Reads::on(&self.readers).last_position().await
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        Reads::on(&self.readers).stream_version(stream).await
    }

    async fn idempotency(&self, key: &str) -> Result<Option<StoredIdempotency>, StoreError> {
        Reads::on(&self.readers).idempotency(key).await
    }

    async fn close(&self) {
        self.writer.close().await;
    }
}
