//! The command pipeline itself.

use std::collections::HashMap;
use std::sync::Arc;

use domain::{Decider, DomainEvent, EncodedEvent, EventDecodeError};
use event_store::{
    AppendError, AppendRequest, Clock, EventAppender, EventReader, EventStore, ExpectedVersion,
    IdempotencyRecord, Metadata, NewEvent, RecordedEvent, StoreError, StreamAppend, StreamId,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::context::CommandContext;

/// A stream as loaded for deciding.
#[derive(Debug, Clone)]
pub struct LoadedStream {
    pub stream: StreamId,
    /// The version seen at load (0: the stream does not exist).
    pub version: u64,
    pub events: Vec<RecordedEvent>,
}

/// Every stream a command asked for, as of one load.
#[derive(Debug, Clone)]
pub struct Loaded {
    streams: Vec<LoadedStream>,
}

impl Loaded {
    /// The loaded stream named `stream`.
    ///
    /// # Panics
    /// When `stream` was not among the streams the command asked to load: a programming
    /// error in the handler.
    pub fn stream(&self, stream: &StreamId) -> &LoadedStream {
        self.find(stream)
            .unwrap_or_else(|| panic!("stream {stream} was not loaded for this command"))
    }

    fn find(&self, stream: &StreamId) -> Option<&LoadedStream> {
        self.streams.iter().find(|s| &s.stream == stream)
    }

    /// Decodes `stream`'s events and folds them through decider `D`.
    pub fn fold<D>(&self, stream: &StreamId) -> Result<D::State, EventDecodeError>
    where
        D: Decider,
        D::Event: DomainEvent,
    {
        let events = self
            .stream(stream)
            .events
            .iter()
            .map(|e| D::Event::decode(&e.event_type, e.schema_version, &e.payload))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(D::fold(&events))
    }

    /// These streams and `more` (a stream loaded twice keeps its first load), for a use case
    /// that learns from what it read which further streams it needs.
    pub fn join(mut self, more: Loaded) -> Loaded {
        for stream in more.streams {
            if self.find(&stream.stream).is_none() {
                self.streams.push(stream);
            }
        }
        self
    }

    /// The names of the loaded streams, in load order.
    pub fn names(&self) -> Vec<StreamId> {
        self.streams.iter().map(|s| s.stream.clone()).collect()
    }

    /// The highest position among the loaded events (what a no-op command answers).
    pub fn last_position(&self) -> u64 {
        self.streams
            .iter()
            .filter_map(|s| s.events.last().map(|e| e.position))
            .max()
            .unwrap_or(0)
    }
}

/// What `decide` wants appended, and the answer to give the caller.
#[derive(Debug, Clone)]
pub struct Decision<R> {
    /// Events per stream. A stream that was loaded is appended at its loaded version; one
    /// that was not is appended without a version check.
    pub appends: Vec<(StreamId, Vec<EncodedEvent>)>,
    /// Loaded streams the decision read but does not append to, which must still be at
    /// their loaded version when the events commit (a binding checked, say).
    pub checks: Vec<StreamId>,
    pub response: R,
}

impl<R> Decision<R> {
    /// Nothing to append: the command is already in effect.
    pub fn unchanged(response: R) -> Self {
        Self {
            appends: Vec::new(),
            checks: Vec::new(),
            response,
        }
    }

    /// Requires `stream` (a loaded stream) to be unchanged when the events commit.
    pub fn check(mut self, stream: StreamId) -> Self {
        self.checks.push(stream);
        self
    }

    /// Encodes `events` for `stream`.
    pub fn append<E: DomainEvent>(
        mut self,
        stream: StreamId,
        events: &[E],
    ) -> Result<Self, serde_json::Error> {
        let encoded = events
            .iter()
            .map(E::encode)
            .collect::<Result<Vec<_>, _>>()?;
        self.appends.push((stream, encoded));
        Ok(self)
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<R> {
    /// Its events were committed; `position` is that of its last event.
    Committed { response: R, position: u64 },
    /// A retry under the same idempotency key: the first answer, nothing appended.
    Replayed { response: R, position: u64 },
    /// Nothing needed appending; `position` is the last event that already recorded it.
    Unchanged { response: R, position: u64 },
}

impl<R> Outcome<R> {
    pub fn response(&self) -> &R {
        match self {
            Outcome::Committed { response, .. }
            | Outcome::Replayed { response, .. }
            | Outcome::Unchanged { response, .. } => response,
        }
    }

    pub fn position(&self) -> u64 {
        match self {
            Outcome::Committed { position, .. }
            | Outcome::Replayed { position, .. }
            | Outcome::Unchanged { position, .. } => *position,
        }
    }

    /// The same outcome with its answer mapped by `f` (for what is added to an answer after
    /// it was recorded, never recorded with it).
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Outcome<S> {
        match self {
            Outcome::Committed { response, position } => Outcome::Committed {
                response: f(response),
                position,
            },
            Outcome::Replayed { response, position } => Outcome::Replayed {
                response: f(response),
                position,
            },
            Outcome::Unchanged { response, position } => Outcome::Unchanged {
                response: f(response),
                position,
            },
        }
    }

    pub fn into_response(self) -> R {
        match self {
            Outcome::Committed { response, .. }
            | Outcome::Replayed { response, .. }
            | Outcome::Unchanged { response, .. } => response,
        }
    }
}

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E> {
    /// A business rule refused it.
    #[error("command refused")]
    Rejected(E),
    /// The streams kept moving; the retries ran out.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// The idempotency key came back with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error("stored events could not be read")]
    Decode(#[from] EventDecodeError),
    #[error("events or answer could not be encoded")]
    Encode(#[source] serde_json::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> CommandError<E> {
    /// The same error with the refusal mapped by `f` (the other variants carried over).
    pub fn map_rejected<F>(self, f: impl FnOnce(E) -> F) -> CommandError<F> {
        match self {
            CommandError::Rejected(e) => CommandError::Rejected(f(e)),
            CommandError::Conflict {
                stream,
                expected,
                actual,
            } => CommandError::Conflict {
                stream,
                expected,
                actual,
            },
            CommandError::IdempotencyKeyReused => CommandError::IdempotencyKeyReused,
            CommandError::Decode(e) => CommandError::Decode(e),
            CommandError::Encode(e) => CommandError::Encode(e),
            CommandError::Store(e) => CommandError::Store(e),
        }
    }
}

/// Runs commands against the store.
#[derive(Debug, Clone)]
pub struct CommandBus {
    store: EventStore,
    /// How many times a conflicted command is decided again.
    retries: u32,
    /// Seals the answers remembered under idempotency keys (none: kept as plain JSON).
    seal: Option<Arc<dyn AnswerSeal>>,
    /// This process's commands on the same streams take turns (shared by every clone);
    /// `None`: they race and the version check sorts them out (a benchmark's baseline).
    locks: Option<Arc<StreamLocks>>,
}

/// In-process turns per contended stream: once a stream has lost a race to a version
/// conflict, this process's commands that load it take turns on it (load, decide, append)
/// for a while ([`HOT_FOR`]) instead of racing again, so a hot aggregate queues rather than
/// deciding everything twice. Streams that never conflict (a venue that thousands of
/// check-ins only read) are never queued on. Other processes on the same database are still
/// caught by the version check at append (and retried).
#[derive(Debug, Default)]
struct StreamLocks {
    turns: std::sync::Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
    /// When each stream last lost a race.
    hot: std::sync::Mutex<HashMap<StreamId, std::time::Instant>>,
}

/// How long a stream that lost a race is queued on.
const HOT_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// The turns a command holds; given back (and forgotten when nobody waits) when dropped.
struct StreamTurns {
    locks: Arc<StreamLocks>,
    held: Vec<(StreamId, Arc<tokio::sync::Mutex<()>>)>,
    guards: Vec<tokio::sync::OwnedMutexGuard<()>>,
}

impl StreamLocks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>> {
        self.turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that `stream` lost a race.
    fn lost_race(&self, stream: &StreamId) {
        let mut hot = self
            .hot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        hot.retain(|_, at| now.duration_since(*at) < HOT_FOR);
        hot.insert(stream.clone(), now);
    }

    /// Those of `streams` that lost a race lately.
    fn contended(&self, streams: &[StreamId]) -> Vec<StreamId> {
        let hot = self
            .hot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if hot.is_empty() {
            return Vec::new();
        }
        let now = std::time::Instant::now();
        streams
            .iter()
            .filter(|s| {
                hot.get(*s)
                    .is_some_and(|at| now.duration_since(*at) < HOT_FOR)
            })
            .cloned()
            .collect()
    }

    /// Waits for the turn on each of `streams`, taken in name order (so two commands on
    /// overlapping streams never wait for each other in a circle).
    async fn take(self: &Arc<Self>, streams: &[StreamId]) -> StreamTurns {
        let mut names = streams.to_vec();
        names.sort();
        names.dedup();
        let held: Vec<_> = {
            let mut map = self.map();
            names
                .into_iter()
                .map(|name| {
                    let lock = map.entry(name.clone()).or_default().clone();
                    (name, lock)
                })
                .collect()
        };
        let mut guards = Vec::with_capacity(held.len());
        for (_, lock) in &held {
            guards.push(lock.clone().lock_owned().await);
        }
        StreamTurns {
            locks: self.clone(),
            held,
            guards,
        }
    }
}

impl Drop for StreamTurns {
    fn drop(&mut self) {
        self.guards.clear();
        let mut map = self.locks.map();
        for (name, lock) in self.held.drain(..) {
            // Only the map and this command hold it: nobody waits, forget it.
            if Arc::strong_count(&lock) == 2 {
                map.remove(&name);
            }
        }
    }
}

/// How the answers remembered under idempotency keys are kept: sealed, so the table holds
/// nothing personal in clear. `key` is the scoped idempotency key.
pub trait AnswerSeal: Send + Sync + std::fmt::Debug {
    fn seal(&self, key: &str, answer: &str) -> Result<String, String>;
    /// The answer, when `stored` was sealed for `key` by this seal.
    fn open(&self, key: &str, stored: &str) -> Option<String>;
}

impl CommandBus {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            retries: 3,
            seal: None,
            locks: Some(Arc::default()),
        }
    }

    /// The same bus sealing the answers it remembers under idempotency keys.
    pub fn with_answer_seal(mut self, seal: Arc<dyn AnswerSeal>) -> Self {
        self.seal = Some(seal);
        self
    }

    /// The same bus without turns per stream: concurrent commands on one stream race, and
    /// the losers decide again on conflict (the benchmarks' baseline).
    pub fn without_turns(mut self) -> Self {
        self.locks = None;
        self
    }

    /// The same bus with another retry bound (0: a conflict is returned at once).
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.store.clock()
    }

    /// Loads `streams`, decides, appends at the loaded versions; retries on conflict.
    pub async fn execute<R, E, F>(
        &self,
        ctx: &CommandContext,
        streams: &[StreamId],
        decide: F,
    ) -> Result<Outcome<R>, CommandError<E>>
    where
        R: Serialize + DeserializeOwned,
        F: Fn(&Loaded) -> Result<Decision<R>, E>,
    {
        self.run(ctx, streams.to_vec(), None, decide).await
    }

    /// Loads `streams` as of now: for a use case that reads what it must authorise or learn
    /// before the command (then [`CommandBus::execute_loaded`] decides on the same load).
    pub async fn load(&self, streams: &[StreamId]) -> Result<Loaded, StoreError> {
        let mut loaded = Vec::with_capacity(streams.len());
        for stream in streams {
            let events = self.store.read_stream(stream, None).await?;
            loaded.push(LoadedStream {
                stream: stream.clone(),
                version: events.last().map_or(0, |e| e.version),
                events,
            });
        }
        Ok(Loaded { streams: loaded })
    }

    /// As [`CommandBus::execute`], deciding first on streams the caller already loaded (each
    /// stream is read once per request); the versions seen at that load are the expected
    /// versions, and a conflict reloads the same streams and decides again.
    pub async fn execute_loaded<R, E, F>(
        &self,
        ctx: &CommandContext,
        loaded: Loaded,
        decide: F,
    ) -> Result<Outcome<R>, CommandError<E>>
    where
        R: Serialize + DeserializeOwned,
        F: Fn(&Loaded) -> Result<Decision<R>, E>,
    {
        self.run(ctx, loaded.names(), Some(loaded), decide).await
    }

    async fn run<R, E, F>(
        &self,
        ctx: &CommandContext,
        streams: Vec<StreamId>,
        mut preloaded: Option<Loaded>,
        decide: F,
    ) -> Result<Outcome<R>, CommandError<E>>
    where
        R: Serialize + DeserializeOwned,
        F: Fn(&Loaded) -> Result<Decision<R>, E>,
    {
        let scoped_key = ctx.scoped_key();
        // A retry under a key already answered is not looked up first (that would be a read
        // per command): it is decided, and the first answer is given where the decision
        // would differ from it. Committing finds the key taken (in the same transaction as
        // the events, so never twice); a refusal or a no-op looks the key up then.
        // Turns on the streams that lost races lately; more are taken after a conflict.
        let mut turns = match &self.locks {
            Some(locks) => Some(locks.take(&locks.contended(&streams)).await),
            None => None,
        };
        let mut attempt = 0;
        loop {
            let loaded = match preloaded.take() {
                Some(loaded) => loaded,
                None => self.load(&streams).await?,
            };
            let decision = match decide(&loaded) {
                Ok(decision) => decision,
                Err(refused) => {
                    // Perhaps refused because this very command was carried out before.
                    return match self.replay(ctx, scoped_key.as_deref()).await? {
                        Some(replay) => Ok(replay),
                        None => Err(CommandError::Rejected(refused)),
                    };
                }
            };
            if decision.appends.iter().all(|(_, events)| events.is_empty()) {
                if let Some(replay) = self.replay(ctx, scoped_key.as_deref()).await? {
                    return Ok(replay);
                }
                return Ok(Outcome::Unchanged {
                    position: loaded.last_position(),
                    response: decision.response,
                });
            }
            let request = self.request(ctx, scoped_key.clone(), &loaded, &decision)?;
            match self.store.append(request).await {
                Ok(outcome) => {
                    return Ok(Outcome::Committed {
                        response: decision.response,
                        position: outcome.last_position,
                    })
                }
                Err(AppendError::Conflict {
                    stream,
                    expected,
                    actual,
                }) => {
                    // Our own earlier attempt (same key) may be what moved the stream.
                    if let Some(replay) = self.replay(ctx, scoped_key.as_deref()).await? {
                        return Ok(replay);
                    }
                    if let Some(locks) = &self.locks {
                        locks.lost_race(&stream);
                        // Decide again holding the turns on every contended stream (given
                        // back first: turns are always taken together, in name order).
                        drop(turns.take());
                        turns = Some(locks.take(&locks.contended(&streams)).await);
                    }
                    if attempt >= self.retries {
                        return Err(CommandError::Conflict {
                            stream,
                            expected,
                            actual,
                        });
                    }
                    attempt += 1;
                    tracing::debug!(%stream, attempt, "conflict; deciding again on fresh state");
                }
                Err(AppendError::IdempotencyKeyExists { .. }) => {
                    // A concurrent request with the same key won the race.
                    return match self.replay(ctx, scoped_key.as_deref()).await? {
                        Some(replay) => Ok(replay),
                        None => Err(CommandError::IdempotencyKeyReused),
                    };
                }
                Err(AppendError::Invalid(why)) => {
                    return Err(CommandError::Store(StoreError::Corrupt(why.to_owned())))
                }
                Err(AppendError::Store(e)) => return Err(CommandError::Store(e)),
            }
        }
    }

    /// Runs a command of decider `D` on one stream; `respond` builds the answer from the
    /// events decided.
    pub async fn decide<D, R>(
        &self,
        ctx: &CommandContext,
        stream: StreamId,
        command: &D::Command,
        respond: impl Fn(&[D::Event]) -> R,
    ) -> Result<Outcome<R>, CommandError<D::Error>>
    where
        D: Decider,
        D::Event: DomainEvent,
        R: Serialize + DeserializeOwned,
    {
        let streams = [stream.clone()];
        let result = self
            .execute(ctx, &streams, |loaded| {
                let state = loaded.fold::<D>(&stream).map_err(Failure::Decode)?;
                let events = D::decide(command, &state).map_err(Failure::Rule)?;
                Decision::unchanged(respond(&events))
                    .append(stream.clone(), &events)
                    .map_err(Failure::Encode)
            })
            .await;
        result.map_err(|error| match error {
            CommandError::Rejected(Failure::Rule(e)) => CommandError::Rejected(e),
            CommandError::Rejected(Failure::Decode(e)) | CommandError::Decode(e) => {
                CommandError::Decode(e)
            }
            CommandError::Rejected(Failure::Encode(e)) | CommandError::Encode(e) => {
                CommandError::Encode(e)
            }
            CommandError::Conflict {
                stream,
                expected,
                actual,
            } => CommandError::Conflict {
                stream,
                expected,
                actual,
            },
            CommandError::IdempotencyKeyReused => CommandError::IdempotencyKeyReused,
            CommandError::Store(e) => CommandError::Store(e),
        })
    }

    async fn replay<R: DeserializeOwned, E>(
        &self,
        ctx: &CommandContext,
        scoped_key: Option<&str>,
    ) -> Result<Option<Outcome<R>>, CommandError<E>> {
        let (Some(key), Some(idempotency)) = (scoped_key, &ctx.idempotency) else {
            return Ok(None);
        };
        let Some(stored) = self.store.idempotency(key).await? else {
            return Ok(None);
        };
        if stored.request_hash != idempotency.request_hash {
            return Err(CommandError::IdempotencyKeyReused);
        }
        let answer = match &self.seal {
            Some(seal) => seal.open(key, &stored.response).ok_or_else(|| {
                CommandError::Encode(serde::de::Error::custom(
                    "a remembered answer does not open under the answer key",
                ))
            })?,
            None => stored.response,
        };
        let response = serde_json::from_str(&answer).map_err(CommandError::Encode)?;
        Ok(Some(Outcome::Replayed {
            response,
            position: stored.position,
        }))
    }

    fn request<R: Serialize, E>(
        &self,
        ctx: &CommandContext,
        scoped_key: Option<String>,
        loaded: &Loaded,
        decision: &Decision<R>,
    ) -> Result<AppendRequest, CommandError<E>> {
        let idempotency = match (scoped_key, &ctx.idempotency) {
            (Some(key), Some(k)) => {
                let answer =
                    serde_json::to_string(&decision.response).map_err(CommandError::Encode)?;
                let response = match &self.seal {
                    Some(seal) => seal.seal(&key, &answer).map_err(|e| {
                        CommandError::Encode(serde::ser::Error::custom(format!(
                            "sealing the answer: {e}"
                        )))
                    })?,
                    None => answer,
                };
                Some(IdempotencyRecord {
                    key,
                    request_hash: k.request_hash.clone(),
                    response,
                })
            }
            _ => None,
        };
        let appended = |s: &StreamId| {
            decision
                .appends
                .iter()
                .any(|(a, events)| a == s && !events.is_empty())
        };
        let checks = decision
            .checks
            .iter()
            .filter(|s| !appended(s))
            .filter_map(|s| loaded.find(s))
            .map(|s| StreamAppend {
                stream: s.stream.clone(),
                expected: ExpectedVersion::Exact(s.version),
                events: Vec::new(),
            });
        Ok(AppendRequest {
            streams: decision
                .appends
                .iter()
                .filter(|(_, events)| !events.is_empty())
                .map(|(stream, events)| StreamAppend {
                    stream: stream.clone(),
                    expected: loaded
                        .find(stream)
                        .map_or(ExpectedVersion::Any, |s| ExpectedVersion::Exact(s.version)),
                    events: events
                        .iter()
                        .map(|e| NewEvent {
                            event_type: e.event_type.clone(),
                            schema_version: e.schema_version,
                            payload: e.payload.clone(),
                        })
                        .collect(),
                })
                .chain(checks)
                .collect(),
            metadata: Metadata {
                actor: Some(ctx.actor.clone()),
                command_id: Some(ctx.command_id),
                correlation_id: Some(ctx.correlation_id),
                causation_id: ctx.causation_id,
                idempotency_key: ctx.idempotency.as_ref().map(|k| k.key.clone()),
            },
            idempotency,
        })
    }
}

/// Inside [`CommandBus::decide`]: a refusal, or a failure to read or write events.
enum Failure<E> {
    Rule(E),
    Decode(EventDecodeError),
    Encode(serde_json::Error),
}
