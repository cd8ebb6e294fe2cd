//! The store's vocabulary: streams, expected versions, new and recorded events, outcomes.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// The name of one stream (one aggregate instance, or a claim), e.g. `venue-0192…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
    /// Longest accepted stream name, in bytes.
    pub const MAX_LEN: usize = 200;

    /// Parses a stream name: 1 to 200 bytes, no whitespace or control characters.
    pub fn parse(raw: impl Into<String>) -> Result<Self, String> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(format!("stream id must be 1 to {} bytes", Self::MAX_LEN));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("stream id must not contain whitespace or control characters".into());
        }
        Ok(Self(raw))
    }

    /// A stream name made of a category and an id, `category-id`.
    pub fn of(category: &str, id: impl fmt::Display) -> Self {
        Self(format!("{category}-{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StreamId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(raw)
    }
}

impl From<StreamId> for String {
    fn from(id: StreamId) -> String {
        id.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the caller believes the stream's current version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check: append whatever the version.
    Any,
    /// The stream must be exactly at this version (0 = the stream does not exist yet).
    Exact(u64),
}

impl ExpectedVersion {
    /// The stream must not exist yet.
    pub const NO_STREAM: ExpectedVersion = ExpectedVersion::Exact(0);

    pub(crate) fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::Exact(expected) => expected == actual,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// Who and what caused an append; stored with every event of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The acting principal (a person or service-account id, or `operator`/`system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// An event to append: its type, schema version and JSON payload (serialised once, here, so
/// the stored bytes are exactly the hashed bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub payload: String,
}

impl NewEvent {
    /// Serialises `payload` as compact JSON.
    pub fn new(
        event_type: impl Into<String>,
        schema_version: u32,
        payload: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_type: event_type.into(),
            schema_version,
            payload: serde_json::to_string(payload)?,
        })
    }
}

/// Events for one stream, with the version the caller saw.
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// The answer remembered under an idempotency key, committed with the request's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The key, already scoped by the caller (for example `actor:key`).
    pub key: String,
    /// A digest of the request body, to tell a retry from a reused key.
    pub request_hash: String,
    /// The answer to give again, as JSON.
    pub response: String,
}

/// An idempotency record as stored, with the position of the request's last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIdempotency {
    pub key: String,
    pub request_hash: String,
    pub response: String,
    pub position: u64,
}

/// One atomic append: all its streams' events commit together, or none do.
#[derive(Debug, Clone, Default)]
pub struct AppendRequest {
    pub streams: Vec<StreamAppend>,
    pub metadata: Metadata,
    pub idempotency: Option<IdempotencyRecord>,
}

impl AppendRequest {
    /// A request for one stream.
    pub fn single(stream: StreamId, expected: ExpectedVersion, events: Vec<NewEvent>) -> Self {
        Self {
            streams: vec![StreamAppend {
                stream,
                expected,
                events,
            }],
            ..Self::default()
        }
    }

    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    pub(crate) fn event_count(&self) -> usize {
        self.streams.iter().map(|s| s.events.len()).sum()
    }
}

/// What a committed append got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Position of the request's first event.
    pub first_position: u64,
    /// Position of the request's last event.
    pub last_position: u64,
    /// Each stream's version after the append, in request order.
    pub versions: Vec<(StreamId, u64)>,
    pub recorded_at: OffsetDateTime,
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: u64,
    pub stream: String,
    pub version: u64,
    pub event_type: String,
    pub schema_version: u32,
    /// The payload JSON exactly as hashed.
    pub payload: String,
    /// The metadata JSON exactly as hashed; see [`RecordedEvent::metadata`].
    pub metadata: String,
    pub recorded_at: OffsetDateTime,
    pub hash: [u8; 32],
}

impl RecordedEvent {
    /// Decodes the payload into `T`.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }

    /// Decodes the metadata.
    pub fn metadata(&self) -> Result<Metadata, serde_json::Error> {
        serde_json::from_str(&self.metadata)
    }
}

/// The result of walking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    /// Events whose hash was checked (up to and including the first bad one).
    pub checked: u64,
    pub first_bad_position: Option<u64>,
    /// Why that position is bad (`missing` or `hash mismatch`), when it is.
    pub problem: Option<String>,
}
