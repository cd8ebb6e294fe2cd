//! Planning one group-commit batch, without I/O: version checks, positions, hashes.
//!
//! Both adapters read the log head, the current versions of the batch's streams and the
//! idempotency keys already taken (all under the append lock), then call [`plan`], then write
//! the rows it returns. Requests are considered in arrival order; a rejected request leaves
//! no trace and does not affect the others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::cache::StreamCache;
use crate::error::AppendError;
use crate::hash::{self, ChainKey, HashInput};
use crate::model::{AppendOutcome, AppendRequest, IdempotencyRecord, StreamId};

/// The last event of the log (position 0 and the genesis hash when the log is empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub position: u64,
    pub hash: [u8; 32],
}

impl Head {
    pub const EMPTY: Head = Head {
        position: 0,
        hash: hash::GENESIS,
    };
}

/// One request of a batch, with its metadata already serialised.
#[derive(Debug)]
pub(crate) struct PendingAppend<'a> {
    pub request: &'a AppendRequest,
    pub metadata_json: &'a str,
}

/// One row to insert into `events`.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub position: u64,
    pub stream: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub payload: &'a str,
    pub metadata: &'a str,
    pub recorded_at: i64,
    pub hash: [u8; 32],
}

impl Row<'_> {
    /// The event as it will read back from the log.
    pub(crate) fn recorded(&self) -> crate::model::RecordedEvent {
        crate::model::RecordedEvent {
            position: self.position,
            stream: self.stream.to_owned(),
            version: self.version,
            event_type: self.event_type.to_owned(),
            schema_version: self.schema_version,
            payload: self.payload.to_owned(),
            metadata: self.metadata.to_owned(),
            // Written by `micros` above, so always in range.
            recorded_at: crate::row::micros_to_time(self.recorded_at)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            hash: self.hash,
        }
    }
}

/// What the batch writes, and what each request is answered.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub rows: Vec<Row<'a>>,
    pub keys: Vec<(&'a IdempotencyRecord, u64)>,
    pub outcomes: Vec<Result<AppendOutcome, AppendError>>,
}

impl Plan<'_> {
    /// Whether any request was refused for a stale expected version.
    pub(crate) fn has_conflicts(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| matches!(o, Err(AppendError::Conflict { .. })))
    }
}

/// Unix time in microseconds, as stored in `recorded_at`.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

pub(crate) fn plan<'a>(
    key: &ChainKey,
    batch: &[PendingAppend<'a>],
    mut head: Head,
    versions: &mut HashMap<String, u64>,
    taken_keys: &HashSet<String>,
    now: OffsetDateTime,
) -> Plan<'a> {
    let recorded_at = micros(now);
    let mut used_keys: HashSet<&str> = HashSet::new();
    let mut plan = Plan {
        rows: Vec::new(),
        keys: Vec::new(),
        outcomes: Vec::with_capacity(batch.len()),
    };
    for pending in batch {
        let request = pending.request;
        if let Err(e) = check(request, versions, taken_keys, &used_keys) {
            plan.outcomes.push(Err(e));
            continue;
        }
        let first_position = head.position + 1;
        let mut new_versions = Vec::with_capacity(request.streams.len());
        for append in &request.streams {
            let stream = append.stream.as_str();
            let mut version = versions.get(stream).copied().unwrap_or(0);
            for event in &append.events {
                version += 1;
                let position = head.position + 1;
                let hash = hash::chain(
                    key,
                    &head.hash,
                    &HashInput {
                        position,
                        stream,
                        version,
                        event_type: &event.event_type,
                        schema_version: event.schema_version,
                        payload: &event.payload,
                        metadata: pending.metadata_json,
                        recorded_at_micros: recorded_at,
                    },
                );
                plan.rows.push(Row {
                    position,
                    stream,
                    version,
                    event_type: &event.event_type,
                    schema_version: event.schema_version,
                    payload: &event.payload,
                    metadata: pending.metadata_json,
                    recorded_at,
                    hash,
                });
                head = Head { position, hash };
            }
            versions.insert(stream.to_owned(), version);
            new_versions.push((append.stream.clone(), version));
        }
        if let Some(record) = &request.idempotency {
            used_keys.insert(record.key.as_str());
            plan.keys.push((record, head.position));
        }
        plan.outcomes.push(Ok(AppendOutcome {
            first_position,
            last_position: head.position,
            versions: new_versions,
            recorded_at: now,
        }));
    }
    plan
}

fn check(
    request: &AppendRequest,
    versions: &HashMap<String, u64>,
    taken_keys: &HashSet<String>,
    used_keys: &HashSet<&str>,
) -> Result<(), AppendError> {
    if request.event_count() == 0 {
        return Err(AppendError::Invalid("an append needs at least one event"));
    }
    // The key first: a retry racing its own first attempt must be answered with the first
    // attempt's answer, not with the conflict that attempt caused.
    if let Some(record) = &request.idempotency {
        if taken_keys.contains(&record.key) || used_keys.contains(record.key.as_str()) {
            return Err(AppendError::IdempotencyKeyExists {
                key: record.key.clone(),
            });
        }
    }
    let mut seen: HashSet<&StreamId> = HashSet::new();
    for append in &request.streams {
        if !seen.insert(&append.stream) {
            return Err(AppendError::Invalid("a stream appears twice in one append"));
        }
        let actual = versions.get(append.stream.as_str()).copied().unwrap_or(0);
        if !append.expected.admits(actual) {
            return Err(AppendError::Conflict {
                stream: append.stream.clone(),
                expected: append.expected,
                actual,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExpectedVersion, NewEvent};

    fn request(stream: &str, expected: ExpectedVersion, n: usize) -> AppendRequest {
        let events = (0..n)
            .map(|i| NewEvent::new("Happened", 1, &i).expect("serialise"))
            .collect();
        AppendRequest::single(StreamId::parse(stream).expect("id"), expected, events)
    }

    #[test]
    fn a_conflict_skips_only_its_own_request() {
        let a = request("a", ExpectedVersion::NO_STREAM, 2);
        let stale = request("a", ExpectedVersion::NO_STREAM, 1);
        let b = request("b", ExpectedVersion::Any, 1);
        let batch = [&a, &stale, &b].map(|request| PendingAppend {
            request,
            metadata_json: "{}",
        });
        let mut versions = HashMap::new();
        let plan = plan(
            &ChainKey::for_tests(),
            &batch,
            Head::EMPTY,
            &mut versions,
            &HashSet::new(),
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(plan.rows.len(), 3);
        assert_eq!(
            plan.rows.iter().map(|r| r.position).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(matches!(plan.outcomes[0], Ok(ref o) if o.last_position == 2));
        assert!(matches!(
            plan.outcomes[1],
            Err(AppendError::Conflict { actual: 2, .. })
        ));
        assert!(matches!(plan.outcomes[2], Ok(ref o) if o.first_position == 3));
        assert_eq!(plan.rows[1].hash, {
            let r = &plan.rows[1];
            hash::chain(
                &ChainKey::for_tests(),
                &plan.rows[0].hash,
                &HashInput {
                    position: 2,
                    stream: r.stream,
                    version: 2,
                    event_type: r.event_type,
                    schema_version: 1,
                    payload: r.payload,
                    metadata: "{}",
                    recorded_at_micros: 0,
                },
            )
        });
    }

    #[test]
    fn empty_requests_and_reused_keys_are_refused() {
        let empty = AppendRequest::default();
        let mut keyed = request("k", ExpectedVersion::Any, 1);
        keyed.idempotency = Some(IdempotencyRecord {
            key: "actor:1".into(),
            request_hash: "h".into(),
            response: "{}".into(),
        });
        let again = keyed.clone();
        let batch = [&empty, &keyed, &again].map(|request| PendingAppend {
            request,
            metadata_json: "{}",
        });
        let plan = plan(
            &ChainKey::for_tests(),
            &batch,
            Head::EMPTY,
            &mut HashMap::new(),
            &HashSet::new(),
            OffsetDateTime::UNIX_EPOCH,
        );
        assert!(matches!(plan.outcomes[0], Err(AppendError::Invalid(_))));
        assert!(plan.outcomes[1].is_ok());
        assert!(matches!(
            plan.outcomes[2],
            Err(AppendError::IdempotencyKeyExists { .. })
        ));
        assert_eq!(plan.keys.len(), 1);
    }
}

/// What the writer knows of the log from its own last commit: the head and the versions of
/// recently appended streams. With it, a batch touching only known streams skips the read
/// round trip. It cannot go stale silently: positions are dense, so if any other process
/// appended meanwhile, our next position already exists and the insert fails on the primary
/// key; the writer then clears the cache and retries the batch with a fresh read.
///
/// It also keeps the process's [`StreamCache`] honest: every committed row goes into it
/// ([`AppendCache::remember`]), and a fresh read finding the log longer than this process
/// left it empties it ([`AppendCache::observe`]).
#[derive(Debug, Default)]
pub(crate) struct AppendCache {
    head: Option<Head>,
    versions: HashMap<String, u64>,
    streams: Arc<StreamCache>,
}

impl AppendCache {
    /// Streams remembered at most; past this the cache starts afresh.
    const MAX_STREAMS: usize = 100_000;

    /// An empty cache feeding `streams`.
    pub(crate) fn feeding(streams: Arc<StreamCache>) -> Self {
        Self {
            head: None,
            versions: HashMap::new(),
            streams,
        }
    }

    /// The head and these streams' versions, if every one of them is known.
    pub(crate) fn lookup(&self, streams: &[&str]) -> Option<(HashMap<String, u64>, Head)> {
        let head = self.head?;
        let mut versions = HashMap::with_capacity(streams.len());
        for stream in streams {
            versions.insert((*stream).to_owned(), *self.versions.get(*stream)?);
        }
        Some((versions, head))
    }

    /// The head as just read from the database, inside the append transaction.
    pub(crate) fn observe(&self, head: Head) {
        if self.streams.observe_head(head.position) {
            tracing::debug!(
                position = head.position,
                "another process appended; the stream cache starts afresh"
            );
        }
    }

    /// About to commit `rows`: positions up to theirs are ours.
    pub(crate) fn reserve(&self, rows: &[Row<'_>]) {
        if let Some(last) = rows.last() {
            self.streams.reserve(last.position);
        }
    }

    /// Remembers the state after a committed batch, and its rows.
    pub(crate) fn remember(
        &mut self,
        head: Head,
        versions: HashMap<String, u64>,
        rows: &[Row<'_>],
    ) {
        if self.versions.len() + versions.len() > Self::MAX_STREAMS {
            self.versions.clear();
        }
        self.head = Some(head);
        self.versions.extend(versions);
        self.streams
            .committed(rows.iter().map(|r| Arc::new(r.recorded())).collect());
    }

    /// Forgets what the writer knew (after a failed or doubtful commit).
    pub(crate) fn clear(&mut self) {
        self.head = None;
        self.versions.clear();
        self.streams.abandon();
    }
}
