//! The public store handle: reading, appending through the group-commit writer, the head
//! notification, and chain verification.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::adapter::Adapter;
use crate::cache::{StreamCache, FOREIGN_POLL};
use crate::clock::{Clock, SystemClock};
use crate::db::Database;
use crate::error::{AppendError, StoreError};
use crate::hash::{self, ChainKey};
use crate::model::{
    AppendOutcome, AppendRequest, RecordedEvent, StoredIdempotency, StreamId, VerifyReport,
};
use crate::plan::micros;
use crate::postgres::{PgAdapter, CHANNEL};
use crate::reads::Reads;
use crate::sqlite::SqliteAdapter;
use crate::writer::{self, advance, Job, WriterStats};

/// Reading the log.
#[async_trait]
pub trait EventReader: Send + Sync {
    /// A stream's events in version order; with `as_of`, only those recorded by then.
    async fn read_stream(
        &self,
        stream: &StreamId,
        as_of: Option<OffsetDateTime>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;
    /// Up to `limit` events after `after`, in position order.
    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError>;
    /// The position of the last committed event (0 when the log is empty).
    async fn last_position(&self) -> Result<u64, StoreError>;
}

/// Appending to the log.
#[async_trait]
pub trait EventAppender: Send + Sync {
    /// Commits every event of `request` or none of them.
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError>;
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub clock: Arc<dyn Clock>,
    /// The most events one group commit gathers.
    pub max_batch_events: usize,
    /// The secret keying the hash chain ([`ChainKey::for_tests`] by default: the server
    /// passes the keys file's `chain_key`).
    pub chain_key: ChainKey,
    /// Keep the streams read in memory, brought up to date by this process's appends and
    /// emptied when another process appends (on by default; off: every read goes to the
    /// database, as the benchmarks' baseline).
    pub keep_streams: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            max_batch_events: 4_000,
            chain_key: ChainKey::for_tests(),
            keep_streams: true,
        }
    }
}

/// The event store. Cheap to clone; every clone shares the one writer task.
#[derive(Debug, Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    /// The same database for derived data (see [`Database::for_derived_data`]).
    derived: Database,
    adapter: Arc<dyn Adapter>,
    jobs: mpsc::Sender<Job>,
    head: watch::Sender<u64>,
    clock: Arc<dyn Clock>,
    chain_key: ChainKey,
    writer: Mutex<Option<JoinHandle<()>>>,
    listener: Option<JoinHandle<()>>,
    stats: Arc<WriterStats>,
    streams: Arc<StreamCache>,
    keep_streams: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

const PAGE_MAX: u32 = 10_000;

impl EventStore {
    /// Opens the store on a migrated database and starts its writer task (and, on
    /// PostgreSQL, the LISTEN task that learns of other processes' appends).
    pub async fn open(db: Database, options: StoreOptions) -> Result<Self, StoreError> {
        let (adapter, listener): (Arc<dyn Adapter>, _) = match &db {
            Database::Sqlite(pool) => (
                Arc::new(SqliteAdapter::new(pool.clone(), options.chain_key.clone()).await?),
                None,
            ),
            Database::Postgres(pool) => {
                let adapter = PgAdapter::new(pool.clone(), options.chain_key.clone()).await?;
                let readers = adapter.readers().clone();
                (Arc::new(adapter), Some(readers))
            }
        };
        let listening = match listener {
            // LISTEN before answering, so no append made after `open` returns is missed.
            Some(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
                    .await
                    .map_err(StoreError::db("opening the LISTEN connection"))?;
                listener
                    .listen(CHANNEL)
                    .await
                    .map_err(StoreError::db("listening for new events"))?;
                Some((pool, listener))
            }
            None => None,
        };
        let derived = db.for_derived_data().await?;
        let streams = Arc::new(StreamCache::default());
        let last = adapter.last_position().await?;
        streams.start_at(last);
        let (head, _) = watch::channel(last);
        let listener = match listening {
            Some((pool, listener)) => Some(tokio::spawn(listen(
                pool,
                listener,
                head.clone(),
                streams.clone(),
            ))),
            None => Some(tokio::spawn(poll_head(
                adapter.clone(),
                head.clone(),
                streams.clone(),
            ))),
        };
        let (jobs, rx) = mpsc::channel(8_192);
        let stats = Arc::new(WriterStats::default());
        let writer = tokio::spawn(writer::run(
            adapter.clone(),
            rx,
            head.clone(),
            options.clock.clone(),
            options.max_batch_events.max(1),
            stats.clone(),
            streams.clone(),
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                derived,
                adapter,
                jobs,
                head,
                clock: options.clock,
                chain_key: options.chain_key,
                writer: Mutex::new(Some(writer)),
                listener,
                stats,
                streams,
                keep_streams: options.keep_streams,
            }),
        })
    }

    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// The database for derived data, whose commits are not flushed one by one: what the
    /// projections write their read models and checkpoints through.
    pub fn derived_database(&self) -> &Database {
        &self.inner.derived
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Group-commit counters of this process's writer.
    pub fn writer_stats(&self) -> &WriterStats {
        &self.inner.stats
    }

    /// Watches the last committed position known to this process.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.head.subscribe()
    }

    /// The last committed position known to this process, without a round trip.
    pub fn known_head(&self) -> u64 {
        *self.inner.head.borrow()
    }

    /// Stream reads served from memory and from the database so far (the benchmarks).
    pub fn stream_cache_counts(&self) -> (u64, u64) {
        self.inner.streams.counts()
    }

    /// The answer remembered under an idempotency key, if any.
    pub async fn idempotency(&self, key: &str) -> Result<Option<StoredIdempotency>, StoreError> {
        self.inner.adapter.idempotency(key).await
    }

    /// Forgets the answers remembered under idempotency keys for commands committed before
    /// `before`: a retry after that is a new command. Returns how many were forgotten. The
    /// log is untouched.
    pub async fn forget_answers_before(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let sql = include_str!("sql/forget_answers.sql");
        let ctx = StoreError::db("forgetting old idempotency answers");
        let done = match &self.inner.db {
            Database::Sqlite(pool) => sqlx::query(sql)
                .bind(micros(before))
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
            Database::Postgres(pool) => sqlx::query(sql)
                .bind(micros(before))
                .execute(pool)
                .await
                .map(|r| r.rows_affected()),
        };
        done.map_err(ctx)
    }

    /// The log after `after`, as a stream read page by page.
    ///
    /// On PostgreSQL the next page is fetched while the caller works through the current
    /// one (the server does the reading, in another process). On SQLite pages are read one
    /// after the other: there the driver's own thread does the reading, and a prefetching
    /// task only competes with the caller for two cores (measured slower).
    pub fn read_all_stream(
        &self,
        after: u64,
        page: u32,
    ) -> BoxStream<'static, Result<RecordedEvent, StoreError>> {
        let adapter = self.inner.adapter.clone();
        let page = page.clamp(1, PAGE_MAX);
        let pages = match self.inner.db {
            Database::Postgres(_) => prefetched_pages(adapter, after, page).boxed(),
            Database::Sqlite(_) => sequential_pages(adapter, after, page).boxed(),
        };
        pages
            .flat_map(|page| match page {
                Ok(events) => stream::iter(events.into_iter().map(Ok)).left_stream(),
                Err(e) => stream::once(async { Err(e) }).right_stream(),
            })
            .boxed()
    }

    /// Up to `limit` events after `after`, optionally only of one stream and/or one type,
    /// in position order (for auditors paging through the log).
    pub async fn read_filtered(
        &self,
        after: u64,
        limit: u32,
        stream: Option<&str>,
        event_type: Option<&str>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner
            .adapter
            .read_filtered(after, limit.clamp(1, PAGE_MAX), stream, event_type)
            .await
    }

    /// Walks the whole chain: every position present, every hash recomputed, and the log
    /// reaching as far as this process has seen it and as far as the idempotency records
    /// say it once did (so removing the newest events is found too).
    pub async fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.verify_reaching(0).await
    }

    /// As [`EventStore::verify`], with `anchor` a position the caller knows the log reached
    /// (for example the highest projection checkpoint).
    pub async fn verify_reaching(&self, anchor: u64) -> Result<VerifyReport, StoreError> {
        let witness = self.inner.adapter.max_key_position().await?;
        let anchor = anchor.max(witness).max(self.known_head());
        let mut prev = hash::GENESIS;
        let mut expected = 1u64;
        let mut checked = 0u64;
        loop {
            let page = self.inner.adapter.read_all(expected - 1, PAGE_MAX).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            for event in &page {
                checked += 1;
                let problem = if event.position != expected {
                    Some((expected, "missing"))
                } else if event.hash
                    != hash::chain(&self.inner.chain_key, &prev, &event.hash_input())
                {
                    Some((event.position, "hash mismatch"))
                } else {
                    None
                };
                if let Some((position, problem)) = problem {
                    return Ok(VerifyReport {
                        ok: false,
                        checked,
                        first_bad_position: Some(position),
                        problem: Some(problem.to_owned()),
                    });
                }
                prev = event.hash;
                expected += 1;
            }
            if last + 1 != expected {
                break;
            }
        }
        if expected <= anchor {
            // The chain is intact as far as it goes, but it stops short of a position that
            // was once committed: its newest events were removed.
            return Ok(VerifyReport {
                ok: false,
                checked,
                first_bad_position: Some(expected),
                problem: Some("missing".to_owned()),
            });
        }
        Ok(VerifyReport {
            ok: true,
            checked,
            first_bad_position: None,
            problem: None,
        })
    }

    /// Stops accepting appends, commits what is queued, and closes the writer.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.jobs.send(Job::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
        let writer = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        if let Some(listener) = &self.inner.listener {
            listener.abort();
        }
        self.inner.adapter.close().await;
    }
}

#[async_trait]
impl EventReader for EventStore {
    async fn read_stream(
        &self,
        stream: &StreamId,
        as_of: Option<OffsetDateTime>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events: Vec<RecordedEvent> = if self.inner.keep_streams {
            let cache = &self.inner.streams;
            let events = match cache.get(stream.as_str()) {
                Ok(events) => events,
                Err(ticket) => {
                    let events = self.inner.adapter.read_stream(stream.as_str()).await?;
                    cache.fill(ticket, events)
                }
            };
            events.iter().map(|e| (**e).clone()).collect()
        } else {
            self.inner.adapter.read_stream(stream.as_str()).await?
        };
        if let Some(as_of) = as_of {
            // The unbroken run of versions recorded by then: with several writers' clocks a
            // later version could carry an earlier time, and history has no holes.
            let cut = events
                .iter()
                .position(|e| e.recorded_at > as_of)
                .unwrap_or(events.len());
            events.truncate(cut);
        }
        Ok(events)
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let limit = limit.clamp(1, PAGE_MAX);
        // The newest events this process committed are kept in memory (the projections
        // follow the log there).
        if self.inner.keep_streams {
            if let Some(events) = self.inner.streams.read_tail(after, limit as usize) {
                return Ok(events);
            }
        }
        self.inner.adapter.read_all(after, limit).await
    }

    async fn last_position(&self) -> Result<u64, StoreError> {
        self.inner.adapter.last_position().await
    }
}

#[async_trait]
impl EventAppender for EventStore {
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let metadata_json = serde_json::to_string(&request.metadata)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .jobs
            .send(Job::Append {
                request,
                metadata_json,
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        let outcome = answer.await.map_err(|_| StoreError::Closed)?;
        if let Err(AppendError::Conflict { stream, .. }) = &outcome {
            // What this process kept of the stream may be behind the log (another process
            // appended): its next read goes to the database.
            self.inner.streams.forget(stream.as_str());
        }
        outcome
    }
}

/// Pages of the log after `after`, each read when the previous one has been taken.
fn sequential_pages(
    adapter: Arc<dyn Adapter>,
    after: u64,
    page: u32,
) -> impl Stream<Item = Result<Vec<RecordedEvent>, StoreError>> + Send + 'static {
    stream::unfold(Some(after), move |after| {
        let adapter = adapter.clone();
        async move {
            let after = after?;
            match adapter.read_all(after, page).await {
                Ok(events) if events.is_empty() => None,
                Ok(events) => {
                    let next = (events.len() == page as usize)
                        .then(|| events.last().map(|e| e.position))
                        .flatten();
                    Some((Ok(events), next))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}

/// Pages of the log after `after`, the next one read ahead by a task of its own.
fn prefetched_pages(
    adapter: Arc<dyn Adapter>,
    after: u64,
    page: u32,
) -> impl Stream<Item = Result<Vec<RecordedEvent>, StoreError>> + Send + 'static {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut pages = std::pin::pin!(sequential_pages(adapter, after, page));
        while let Some(page) = pages.next().await {
            if tx.send(page).await.is_err() {
                return; // the reader went away
            }
        }
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) })
}

/// Follows other processes' appends on PostgreSQL. When the connection drops, the listener
/// reconnects on the next call; the head is re-read then, in case notifications were missed.
async fn listen(
    pool: sqlx::PgPool,
    mut listener: sqlx::postgres::PgListener,
    head: watch::Sender<u64>,
    streams: Arc<StreamCache>,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(note)) => {
                if let Ok(position) = note.payload().parse::<u64>() {
                    streams.observe_head(position);
                    advance(&head, position);
                }
            }
            Ok(None) => {
                // The listener reconnects (and LISTENs again) on the next call; whatever was
                // committed until then is announced to nobody, so read the head once the
                // new connection has had time to come up.
                tracing::warn!("lost the LISTEN connection; reconnecting");
                // Appends announced to nobody meanwhile may have moved cached streams.
                streams.forget_all();
                let (pool, head, streams) = (pool.clone(), head.clone(), streams.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if let Ok(position) = Reads::on(&pool).last_position().await {
                        streams.observe_head(position);
                        advance(&head, position);
                    }
                });
            }
            Err(error) => {
                tracing::warn!(%error, "LISTEN failed; retrying");
                streams.forget_all();
                tokio::time::sleep(Duration::from_secs(1)).await;
                // Whatever was announced meanwhile is lost: read the head instead.
                if let Ok(position) = Reads::on(&pool).last_position().await {
                    streams.observe_head(position);
                    advance(&head, position);
                }
            }
        }
    }
}

/// Follows other processes' appends on SQLite, which announces nothing: reads the log head
/// every [`FOREIGN_POLL`]; a head beyond this process's own commits empties the stream cache
/// and wakes whoever follows the head (the projections).
async fn poll_head(adapter: Arc<dyn Adapter>, head: watch::Sender<u64>, streams: Arc<StreamCache>) {
    let mut tick = tokio::time::interval(FOREIGN_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match adapter.last_position().await {
            Ok(position) => {
                if streams.observe_head(position) {
                    tracing::debug!(position, "another process appended");
                }
                advance(&head, position);
            }
            // The database is away: whatever happens meanwhile is not known.
            Err(_) => streams.forget_all(),
        }
    }
}
