//! The append-only event log: a narrow reading/appending API over SQLite and PostgreSQL.
//!
//! The store knows nothing of the domain. Every event gets a gap-free, commit-ordered global
//! position, a per-stream version and a SHA-256 hash chaining it to its predecessor. Appends
//! go through one writer task per process that group-commits concurrent requests (see
//! [`writer`]); each request still gets its own outcome.

mod adapter;
mod cache;
pub mod clock;
mod db;
mod error;
pub mod hash;
mod model;
mod plan;
mod postgres;
mod reads;
mod row;
mod sqlite;
mod store;
#[doc(hidden)]
pub mod testing;
mod writer;

pub use clock::{Clock, ManualClock, SystemClock};
pub use db::{redact_url, Backend, Database};
pub use error::{is_unavailable_error, is_unreachable, AppendError, StoreError};
pub use hash::ChainKey;
pub use model::{
    AppendOutcome, AppendRequest, ExpectedVersion, IdempotencyRecord, Metadata, NewEvent,
    RecordedEvent, StoredIdempotency, StreamAppend, StreamId, VerifyReport,
};
pub use store::{EventAppender, EventReader, EventStore, StoreOptions};
pub use writer::WriterStats;
