//! Group commit: one task per process gathers concurrent append requests and commits them in
//! one transaction, answering each request with its own outcome.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use crate::adapter::{Adapter, COMMIT_CONTEXT};
use crate::cache::StreamCache;
use crate::clock::Clock;
use crate::error::{AppendError, StoreError};
use crate::model::{AppendOutcome, AppendRequest};
use crate::plan::{AppendCache, PendingAppend};

#[allow(clippy::large_enum_variant)] // Shutdown is sent once; boxing every append would cost more.
pub(crate) enum Job {
    Append {
        request: AppendRequest,
        metadata_json: String,
        reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// The longest a batch waits for the appenders of the previous batch to come back.
const LINGER: Duration = Duration::from_micros(1_000);

struct Queued {
    request: AppendRequest,
    metadata_json: String,
    reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
}

/// Counters of the group-commit writer, for `/metrics` and the benchmark.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed (or attempted) by the writer.
    pub batches: AtomicU64,
    /// Append requests carried by those transactions.
    pub requests: AtomicU64,
}

impl WriterStats {
    /// `(batches, requests)` so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.batches.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
        )
    }
}

pub(crate) async fn run(
    adapter: Arc<dyn Adapter>,
    mut jobs: mpsc::Receiver<Job>,
    head: watch::Sender<u64>,
    clock: Arc<dyn Clock>,
    max_batch_events: usize,
    stats: Arc<WriterStats>,
    streams: Arc<StreamCache>,
) {
    let mut batch: Vec<Queued> = Vec::new();
    let mut stop: Option<oneshot::Sender<()>> = None;
    // How many requests the previous batch had: under steady concurrent load the same
    // appenders come back as soon as they are answered, so wait briefly for them.
    let mut expected = 1usize;
    let mut cache = AppendCache::feeding(streams);
    while stop.is_none() {
        let Some(first) = jobs.recv().await else {
            break;
        };
        let mut events = 0;
        let mut next = Some(first);
        let linger_until = Instant::now() + LINGER;
        loop {
            match next.take() {
                Some(Job::Append {
                    request,
                    metadata_json,
                    reply,
                }) => {
                    events += request.event_count();
                    batch.push(Queued {
                        request,
                        metadata_json,
                        reply,
                    });
                }
                Some(Job::Shutdown(done)) => {
                    stop = Some(done);
                    break;
                }
                None => {}
            }
            if events >= max_batch_events {
                break;
            }
            match jobs.try_recv() {
                Ok(job) => next = Some(job),
                Err(mpsc::error::TryRecvError::Empty)
                    if batch.len() < expected && Instant::now() < linger_until =>
                {
                    // Wait (parked, not spinning: the appenders need the cores) for the next
                    // request until the linger is over.
                    let until = tokio::time::Instant::from_std(linger_until);
                    match tokio::time::timeout_at(until, jobs.recv()).await {
                        Ok(Some(job)) => next = Some(job),
                        Ok(None) | Err(_) => break,
                    }
                }
                Err(_) => break,
            }
        }
        expected = batch.len().max(1);
        if !batch.is_empty() {
            stats.batches.fetch_add(1, Ordering::Relaxed);
            stats
                .requests
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            commit_batch(
                adapter.as_ref(),
                &mut batch,
                &head,
                clock.as_ref(),
                &mut cache,
            )
            .await;
        }
    }
    jobs.close();
    if let Some(done) = stop {
        let _ = done.send(());
    }
}

async fn commit_batch(
    adapter: &dyn Adapter,
    batch: &mut Vec<Queued>,
    head: &watch::Sender<u64>,
    clock: &dyn Clock,
    cache: &mut AppendCache,
) {
    let now = clock.now();
    let pending: Vec<PendingAppend<'_>> = batch
        .iter()
        .map(|q| PendingAppend {
            request: &q.request,
            metadata_json: &q.metadata_json,
        })
        .collect();
    let mut result = adapter.commit(&pending, now, cache).await;
    if result.as_ref().is_err_and(is_unique_violation) {
        // Perhaps another process appended since our last commit (our next position was
        // taken): forget what we knew and try once more from a fresh read.
        cache.clear();
        result = adapter.commit(&pending, now, cache).await;
    }
    let outcomes = match result {
        Ok(outcomes) => outcomes,
        Err(error) if is_ambiguous(&error) => {
            // COMMIT itself failed: the batch may or may not be in the log. Retrying could
            // append it twice, so every request gets the error (idempotency keys make the
            // client's own retry safe).
            cache.clear();
            tracing::error!(%error, requests = pending.len(), "commit outcome unknown");
            pending
                .iter()
                .map(|_| {
                    Err(AppendError::Store(StoreError::CommitUnknown(
                        error.to_string(),
                    )))
                })
                .collect()
        }
        Err(error) if pending.len() == 1 => {
            vec![explain_failure(adapter, &pending[0], error).await]
        }
        Err(error) if is_unavailable(&error) => {
            // The database is down or locked: trying the requests one by one would only
            // make every caller wait once per request.
            cache.clear();
            tracing::error!(%error, requests = pending.len(), "database unavailable");
            pending
                .iter()
                .map(|_| {
                    Err(AppendError::Store(StoreError::Unavailable(
                        error.to_string(),
                    )))
                })
                .collect()
        }
        Err(error) => {
            // Something failed the whole transaction before COMMIT; commit each request
            // alone so that one bad request cannot fail the others.
            tracing::warn!(%error, requests = pending.len(), "group commit failed; retrying one by one");
            let mut outcomes = Vec::with_capacity(pending.len());
            for one in &pending {
                cache.clear();
                let outcome = match adapter.commit(std::slice::from_ref(one), now, cache).await {
                    Ok(mut single) => single
                        .pop()
                        .unwrap_or(Err(AppendError::Store(StoreError::Closed))),
                    Err(error) if is_ambiguous(&error) => Err(AppendError::Store(
                        StoreError::CommitUnknown(error.to_string()),
                    )),
                    Err(error) => explain_failure(adapter, one, error).await,
                };
                outcomes.push(outcome);
            }
            outcomes
        }
    };
    drop(pending);
    let mut last = 0;
    for (queued, outcome) in batch.drain(..).zip(outcomes) {
        if let Ok(o) = &outcome {
            last = last.max(o.last_position);
        }
        let _ = queued.reply.send(outcome);
    }
    if last > 0 {
        advance(head, last);
    }
}

/// Raises the known head to `position` if it is newer (after a commit, and on PostgreSQL when
/// another process announces one).
pub(crate) fn advance(head: &watch::Sender<u64>, position: u64) {
    head.send_if_modified(|known| {
        if position > *known {
            *known = position;
            true
        } else {
            false
        }
    });
}

/// A lone request whose transaction failed: a unique-constraint violation means a stream or
/// key moved under us (another process without the lock); say which, typed. Anything else
/// is a store error.
async fn explain_failure(
    adapter: &dyn Adapter,
    pending: &PendingAppend<'_>,
    error: StoreError,
) -> Result<AppendOutcome, AppendError> {
    if is_unique_violation(&error) {
        for append in &pending.request.streams {
            match adapter.stream_version(append.stream.as_str()).await {
                Ok(actual) if !append.expected.admits(actual) => {
                    return Err(AppendError::Conflict {
                        stream: append.stream.clone(),
                        expected: append.expected,
                        actual,
                    })
                }
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(record) = &pending.request.idempotency {
            if let Ok(Some(_)) = adapter.idempotency(&record.key).await {
                return Err(AppendError::IdempotencyKeyExists {
                    key: record.key.clone(),
                });
            }
        }
    }
    Err(error.into())
}

/// The message of SQLite's trigger refusing an insert over an existing event: when our own
/// insert meets it, another writer took our next position or version, as a unique violation.
pub(crate) const INSERT_OVER_EXISTING: &str = "an insert over an existing event is refused";

/// A unique-constraint violation (or SQLite's insert-over-existing trigger, which fires
/// first): another writer took our next position or version.
fn is_unique_violation(error: &StoreError) -> bool {
    matches!(error, StoreError::Database { source, .. }
    if source.as_database_error().is_some_and(|d| {
        d.is_unique_violation() || d.message().contains(INSERT_OVER_EXISTING)
    }))
}

/// The database cannot be reached, is locked, or is shutting down or starting up: nothing
/// about one request caused it.
fn is_unavailable(error: &StoreError) -> bool {
    error.is_unavailable()
}

/// Whether `error` came from COMMIT itself, after which the outcome is unknown.
fn is_ambiguous(error: &StoreError) -> bool {
    matches!(error, StoreError::Database { context, .. } if *context == COMMIT_CONTEXT)
}
