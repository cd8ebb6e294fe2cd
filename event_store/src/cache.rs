//! The streams this process has read, kept in memory and brought up to date by its own writer,
//! so that deciding a command reads no stream from the database in the steady state.
//!
//! It cannot serve a stale stream for long, and never a stale stream to an append that relies
//! on it:
//! - this process's commits extend (or mark as moved) the cached streams they append to, from
//!   the very rows they wrote, before any appender is answered;
//! - a read that raced with such a commit is not kept: a stream marked moved past the version
//!   the read saw stays out of the cache;
//! - other processes' appends are noticed by the writer (positions are dense: our next
//!   position is taken, or a fresh read finds the log longer than our own commits left it), by
//!   PostgreSQL's notifications, and on SQLite by a poll of the log head
//!   ([`FOREIGN_POLL`]); each empties the cache, and reads begun before it are not kept;
//! - an append that relied on a stale stream is refused by its version check, as before; the
//!   store then forgets that stream, so the command bus's retry reads it from the database.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::model::RecordedEvent;

/// How often a SQLite store reads the log head to notice other processes' appends.
pub(crate) const FOREIGN_POLL: Duration = Duration::from_millis(100);

/// Events kept at most (over all streams); past this the cache starts afresh.
const MAX_EVENTS: usize = 200_000;

/// A stream as kept: shared, so a hit costs no copy of the events' bytes.
pub(crate) type Events = Arc<Vec<Arc<RecordedEvent>>>;

#[derive(Debug, Default)]
pub(crate) struct StreamCache {
    inner: Mutex<Inner>,
    /// The highest position this process's writer has committed (or found committed).
    confirmed: AtomicU64,
    /// The last position of the commit under way (0: none): a head up to here may be ours.
    inflight: AtomicU64,
    /// Streams served from memory, and read from the database (for the benchmarks).
    hits: AtomicU64,
    misses: AtomicU64,
    /// The newest events this process committed, an unbroken run of positions: the
    /// projections read the log's tail from here instead of each reading it from the database.
    tail: Mutex<VecDeque<Arc<RecordedEvent>>>,
}

/// Events of the log's tail kept at most.
const TAIL_EVENTS: usize = 20_000;

#[derive(Debug, Default)]
struct Inner {
    /// Bumped whenever the cache is emptied: a read begun before is not kept.
    epoch: u64,
    entries: HashMap<String, Entry>,
    /// Reads from the database under way, per stream.
    reading: HashMap<String, usize>,
    held: usize,
}

#[derive(Debug)]
enum Entry {
    Known(Events),
    /// Appended to while being read: a read that saw less than `version` is not kept.
    Moved {
        version: u64,
    },
}

/// A read from the database under way; hand it back to [`StreamCache::fill`] or drop it.
#[derive(Debug)]
pub(crate) struct Ticket<'a> {
    cache: &'a StreamCache,
    stream: String,
    epoch: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut inner = self.cache.lock();
        if let Some(n) = inner.reading.get_mut(&self.stream) {
            *n -= 1;
            if *n == 0 {
                inner.reading.remove(&self.stream);
                if matches!(inner.entries.get(&self.stream), Some(Entry::Moved { .. })) {
                    inner.entries.remove(&self.stream);
                }
            }
        }
    }
}

impl StreamCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stream from memory, or a ticket to read it from the database.
    pub(crate) fn get(&self, stream: &str) -> Result<Events, Ticket<'_>> {
        let mut inner = self.lock();
        if let Some(Entry::Known(events)) = inner.entries.get(stream) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(events.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        *inner.reading.entry(stream.to_owned()).or_default() += 1;
        Err(Ticket {
            cache: self,
            stream: stream.to_owned(),
            epoch: inner.epoch,
        })
    }

    /// Keeps what `ticket`'s read found, unless the stream moved past it or the cache was
    /// emptied meanwhile.
    pub(crate) fn fill(&self, ticket: Ticket<'_>, events: Vec<RecordedEvent>) -> Events {
        let events: Events = Arc::new(events.into_iter().map(Arc::new).collect());
        let mut inner = self.lock();
        let version = events.last().map_or(0, |e| e.version);
        let keep = inner.epoch == ticket.epoch
            && match inner.entries.get(&ticket.stream) {
                None => true,
                Some(Entry::Moved { version: moved }) => *moved <= version,
                Some(Entry::Known(known)) => known.last().map_or(0, |e| e.version) < version,
            };
        if keep {
            if inner.held + events.len() > MAX_EVENTS {
                inner.clear();
            }
            inner.held += events.len();
            let old = inner
                .entries
                .insert(ticket.stream.clone(), Entry::Known(events.clone()));
            if let Some(Entry::Known(old)) = old {
                inner.held -= old.len();
            }
        }
        drop(inner);
        drop(ticket);
        events
    }

    /// After a commit of this process, its events (in position order): the cached streams it
    /// appended to get them; a stream being read is marked as moved.
    pub(crate) fn committed(&self, recorded: Vec<Arc<RecordedEvent>>) {
        if let Some(last) = recorded.last() {
            self.confirmed.fetch_max(last.position, Ordering::SeqCst);
        }
        self.inflight.store(0, Ordering::SeqCst);
        self.extend_tail(&recorded);
        let mut inner = self.lock();
        let inner = &mut *inner;
        for event in recorded {
            match inner.entries.get_mut(event.stream.as_str()) {
                Some(Entry::Known(events))
                    if events.last().map_or(0, |e| e.version) + 1 == event.version =>
                {
                    Arc::make_mut(events).push(event);
                    inner.held += 1;
                }
                Some(Entry::Known(events)) => {
                    inner.held -= events.len();
                    inner.entries.remove(event.stream.as_str());
                }
                Some(Entry::Moved { version }) => *version = event.version,
                None if inner.reading.contains_key(event.stream.as_str()) => {
                    inner.entries.insert(
                        event.stream.clone(),
                        Entry::Moved {
                            version: event.version,
                        },
                    );
                }
                None => {}
            }
        }
        if inner.held > MAX_EVENTS {
            inner.clear();
        }
    }

    fn tail(&self) -> MutexGuard<'_, VecDeque<Arc<RecordedEvent>>> {
        self.tail.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends this process's newest commit to the tail; after a gap (another process
    /// appended in between) the tail starts afresh with it.
    fn extend_tail(&self, events: &[Arc<RecordedEvent>]) {
        let Some(first) = events.first() else {
            return;
        };
        let mut tail = self.tail();
        if tail
            .back()
            .is_some_and(|e| e.position + 1 != first.position)
        {
            tail.clear();
        }
        tail.extend(events.iter().cloned());
        while tail.len() > TAIL_EVENTS {
            tail.pop_front();
        }
    }

    /// Up to `limit` events after `after` from the tail, when the tail holds the event right
    /// after `after` (it then holds every event from there to its end, in order); `None`:
    /// read the database.
    pub(crate) fn read_tail(&self, after: u64, limit: usize) -> Option<Vec<RecordedEvent>> {
        let tail = self.tail();
        let first = tail.front()?.position;
        let last = tail.back()?.position;
        if after + 1 < first || after >= last {
            return None;
        }
        let skip = (after + 1 - first) as usize;
        Some(
            tail.iter()
                .skip(skip)
                .take(limit)
                .map(|e| (**e).clone())
                .collect(),
        )
    }

    /// This process is about to commit up to `position`.
    pub(crate) fn reserve(&self, position: u64) {
        self.inflight.store(position, Ordering::SeqCst);
    }

    /// The commit under way failed, perhaps after committing: what it wrote, if anything,
    /// counts as another process's.
    pub(crate) fn abandon(&self) {
        self.inflight.store(0, Ordering::SeqCst);
    }

    /// The log head was read as `position` (by the writer, a notification or a poll): beyond
    /// what this process committed or is committing, another process appended, so nothing
    /// kept can be trusted. Answers whether that was so.
    pub(crate) fn observe_head(&self, position: u64) -> bool {
        // In this order: a commit clears `inflight` only after raising `confirmed`.
        let inflight = self.inflight.load(Ordering::SeqCst);
        let confirmed = self.confirmed.load(Ordering::SeqCst);
        if position > inflight.max(confirmed) {
            self.confirmed.fetch_max(position, Ordering::SeqCst);
            self.forget_all();
            true
        } else {
            false
        }
    }

    /// The log head when the store opened.
    pub(crate) fn start_at(&self, position: u64) {
        self.confirmed.fetch_max(position, Ordering::SeqCst);
    }

    /// Streams served from memory and read from the database so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Empties the cache (reads under way are not kept).
    pub(crate) fn forget_all(&self) {
        self.lock().clear();
    }

    /// Forgets one stream (its next read goes to the database).
    pub(crate) fn forget(&self, stream: &str) {
        let mut inner = self.lock();
        if let Some(Entry::Known(events)) = inner.entries.remove(stream) {
            inner.held -= events.len();
        }
        // A read of it under way must not put back what it saw.
        inner.epoch += 1;
    }
}

impl Inner {
    fn clear(&mut self) {
        self.epoch += 1;
        self.entries.clear();
        self.held = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(stream: &str, position: u64, version: u64) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: stream.to_owned(),
            version,
            event_type: "Counted".into(),
            schema_version: 1,
            payload: "{}".into(),
            metadata: "{}".into(),
            recorded_at: time::OffsetDateTime::UNIX_EPOCH,
            hash: [0; 32],
        }
    }

    /// A commit of these (stream, position, version) events.
    fn rows(events: &[(&str, u64, u64)]) -> Vec<Arc<RecordedEvent>> {
        events
            .iter()
            .map(|(s, p, v)| Arc::new(stored(s, *p, *v)))
            .collect()
    }

    fn kept_versions(cache: &StreamCache, stream: &str) -> Option<Vec<u64>> {
        cache
            .get(stream)
            .ok()
            .map(|events| events.iter().map(|e| e.version).collect())
    }

    #[test]
    fn a_read_is_kept_and_extended_by_this_process_commits() {
        let cache = StreamCache::default();
        let ticket = cache.get("s").expect_err("nothing kept yet");
        cache.fill(ticket, vec![stored("s", 1, 1)]);
        assert_eq!(kept_versions(&cache, "s"), Some(vec![1]));
        cache.committed(rows(&[("s", 2, 2), ("t", 3, 1), ("s", 4, 3)]));
        assert_eq!(kept_versions(&cache, "s"), Some(vec![1, 2, 3]));
        assert_eq!(kept_versions(&cache, "t"), None, "never read: not kept");
        assert_eq!(cache.counts(), (2, 2));
    }

    #[test]
    fn a_read_that_raced_a_commit_is_not_kept() {
        let cache = StreamCache::default();
        let ticket = cache.get("s").expect_err("miss");
        // The commit lands while the read is under way, and the read saw the log before it.
        cache.committed(rows(&[("s", 1, 1)]));
        cache.fill(ticket, Vec::new());
        assert_eq!(kept_versions(&cache, "s"), None, "the empty read is stale");
        // Nothing is left behind for a stream nobody reads.
        let inner = cache.lock();
        assert!(inner.entries.is_empty() && inner.reading.is_empty());
        drop(inner);
        // A read that did see the commit is kept.
        let ticket = cache.get("s").expect_err("miss");
        cache.committed(rows(&[("s", 2, 2)]));
        cache.fill(ticket, vec![stored("s", 1, 1), stored("s", 2, 2)]);
        assert_eq!(kept_versions(&cache, "s"), Some(vec![1, 2]));
    }

    #[test]
    fn another_process_empties_the_cache_and_reads_begun_before_are_not_kept() {
        let cache = StreamCache::default();
        cache.start_at(5);
        let ticket = cache.get("s").expect_err("miss");
        cache.fill(ticket, vec![stored("s", 5, 1)]);
        // Our own commit under way up to 7, and then done: no one else's.
        cache.reserve(7);
        assert!(!cache.observe_head(7));
        cache.committed(rows(&[("s", 6, 2), ("u", 7, 1)]));
        assert!(!cache.observe_head(7));
        assert_eq!(kept_versions(&cache, "s"), Some(vec![1, 2]));
        let ticket = cache.get("t").expect_err("miss");
        // Position 8 was not ours.
        assert!(cache.observe_head(8));
        assert_eq!(kept_versions(&cache, "s"), None);
        cache.fill(ticket, vec![stored("t", 3, 1)]);
        assert_eq!(kept_versions(&cache, "t"), None, "begun before: not kept");
        // A failed commit's reservation does not hide another process's appends.
        cache.reserve(12);
        cache.abandon();
        assert!(cache.observe_head(9));
    }

    #[test]
    fn the_tail_serves_only_an_unbroken_run_of_our_commits() {
        let cache = StreamCache::default();
        assert!(cache.read_tail(0, 10).is_none(), "nothing committed yet");
        cache.committed(rows(&[("a", 1, 1), ("b", 2, 1), ("a", 3, 2)]));
        let positions = |events: Option<Vec<RecordedEvent>>| {
            events.map(|e| e.iter().map(|e| e.position).collect::<Vec<_>>())
        };
        assert_eq!(positions(cache.read_tail(0, 10)), Some(vec![1, 2, 3]));
        assert_eq!(positions(cache.read_tail(1, 1)), Some(vec![2]));
        assert_eq!(positions(cache.read_tail(3, 10)), None, "past the tail");
        // Position 4 was another process's: the tail starts afresh after the gap.
        cache.committed(rows(&[("a", 5, 4), ("c", 6, 1)]));
        assert_eq!(positions(cache.read_tail(2, 10)), None, "before the gap");
        assert_eq!(positions(cache.read_tail(3, 10)), None, "4 is not held");
        assert_eq!(positions(cache.read_tail(4, 10)), Some(vec![5, 6]));
    }

    #[test]
    fn the_cache_holds_a_bounded_number_of_events() {
        let cache = StreamCache::default();
        let ticket = cache.get("big").expect_err("miss");
        let events = (1..=MAX_EVENTS as u64)
            .map(|v| stored("big", v, v))
            .collect();
        cache.fill(ticket, events);
        assert!(cache.get("big").is_ok());
        let ticket = cache.get("small").expect_err("miss");
        cache.fill(ticket, vec![stored("small", 1, 1)]);
        assert!(cache.get("big").is_err(), "started afresh past the bound");
        assert!(cache.get("small").is_ok());
        assert!(cache.lock().held <= MAX_EVENTS);
    }
}
