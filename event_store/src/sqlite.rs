//! The SQLite adapter: one writer connection taking `BEGIN IMMEDIATE`, readers from the pool.

use std::collections::HashSet;
use std::sync::OnceLock;

use async_trait::async_trait;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sqlx::Row;
use time::OffsetDateTime;

use crate::adapter::{Adapter, COMMIT_CONTEXT};
use crate::error::{AppendError, StoreError};
use crate::hash::ChainKey;
use crate::model::{AppendOutcome, RecordedEvent, StoredIdempotency};
use crate::plan::{self, AppendCache, Head, PendingAppend};
use crate::reads::Reads;
use crate::row::decode_append_state;

#[derive(Debug)]
pub(crate) struct SqliteAdapter {
    readers: SqlitePool,
    writer: SqlitePool,
    chain_key: ChainKey,
}

impl SqliteAdapter {
    /// The versions of `streams` and the log head, read inside the append transaction.
    async fn read_state(
        &self,
        conn: &mut sqlx::SqliteConnection,
        streams: &[&str],
    ) -> Result<(std::collections::HashMap<String, u64>, Head), StoreError> {
        let rows = sqlx::query(include_str!("sql/sqlite/read_for_append.sql"))
            .bind(json(&streams)?)
            .fetch_all(conn)
            .await
            .map_err(StoreError::db("reading stream versions and the log head"))?;
        decode_append_state(&rows)
    }

    pub(crate) async fn new(readers: SqlitePool, chain_key: ChainKey) -> Result<Self, StoreError> {
        let options = (*readers.connect_options()).clone();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(StoreError::db("opening the SQLite writer connection"))?;
        Ok(Self {
            readers,
            writer,
            chain_key,
        })
    }
}

/// Rows per multi-row INSERT, largest first; each size is one prepared statement, cached
/// by the connection. (256 rows × 9 columns stays far below SQLite's variable limit.)
const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// `INSERT … VALUES (…), …` for `rows` rows.
fn insert_statement(rows: usize) -> &'static str {
    static STATEMENTS: OnceLock<Vec<(usize, String)>> = OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        let head = include_str!("sql/sqlite/insert_events.sql")
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        CHUNKS
            .iter()
            .map(|&n| {
                let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ");
                (n, format!("{head} {values}"))
            })
            .collect()
    });
    statements
        .iter()
        .find(|(n, _)| *n == rows)
        .map(|(_, sql)| sql.as_str())
        .unwrap_or_else(|| unreachable!("no statement for {rows} rows"))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl Adapter for SqliteAdapter {
    async fn commit(
        &self,
        batch: &[PendingAppend<'_>],
        now: OffsetDateTime,
        cache: &mut AppendCache,
    ) -> Result<Vec<Result<AppendOutcome, AppendError>>, StoreError> {
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::db("beginning the append transaction"))?;

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
            for row in sqlx::query(include_str!("sql/sqlite/taken_keys.sql"))
                .bind(json(&wanted)?)
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
        let mut rest = &plan.rows[..];
        while !rest.is_empty() {
            let size = CHUNKS
                .iter()
                .copied()
                .find(|&c| c <= rest.len())
                .unwrap_or(1);
            let (chunk, tail) = rest.split_at(size);
            let mut query = sqlx::query(insert_statement(size));
            for r in chunk {
                query = query
                    .bind(r.position as i64)
                    .bind(r.stream)
                    .bind(r.version as i64)
                    .bind(r.event_type)
                    .bind(i64::from(r.schema_version))
                    .bind(r.payload)
                    .bind(r.metadata)
                    .bind(r.recorded_at)
                    .bind(&r.hash[..]);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("inserting events"))?;
            rest = tail;
        }
        if !plan.keys.is_empty() {
            let keys: Vec<_> = plan
                .keys
                .iter()
                .map(|(r, position)| (&r.key, &r.request_hash, &r.response, position))
                .collect();
            sqlx::query(include_str!("sql/sqlite/insert_keys.sql"))
                .bind(json(&keys)?)
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
        Reads::on(&self.writer).stream_version(stream).await
    }

    async fn idempotency(&self, key: &str) -> Result<Option<StoredIdempotency>, StoreError> {
        Reads::on(&self.readers).idempotency(key).await
    }

    async fn close(&self) {
        self.writer.close().await;
    }
}
