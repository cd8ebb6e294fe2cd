//! The red-code feed's records: each record id is claimed once on `feed-record-<id>`, so a
//! replayed batch changes nothing (the identity streams hold what the records say).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::DocumentDigest;
use crate::refusal::{Refusal, RefusalKind};
use crate::Decider;

/// A feed record's id, unique across all records the feed ever sends: 1 to 64 characters of
/// letters, digits, `.`, `_`, `:` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FeedRecordId(String);

impl FeedRecordId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, &'static str> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > 64 {
            return Err("a record id has 1 to 64 characters");
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err("a record id uses only letters, digits, '.', '_', ':' and '-'");
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FeedRecordId {
    type Error = &'static str;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<FeedRecordId> for String {
    fn from(id: FeedRecordId) -> String {
        id.0
    }
}

impl std::fmt::Display for FeedRecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The claim on a feed record id (stream `feed-record-<id>`): a record is applied once; the
/// same id again is a duplicate, whatever it carries.
#[derive(Debug)]
pub struct FeedRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimFeedRecord {
    pub digest: DocumentDigest,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum FeedRecordEvent {
    FeedRecordAccepted {
        digest: DocumentDigest,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for FeedRecordEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum FeedRecordState {
    New,
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedRecordError {
    #[error("this record id was already accepted")]
    Duplicate,
}

impl Refusal for FeedRecordError {
    fn code(&self) -> &'static str {
        match self {
            FeedRecordError::Duplicate => "feed.duplicate",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            FeedRecordError::Duplicate => RefusalKind::Conflict,
        }
    }
}

impl Decider for FeedRecord {
    type Command = ClaimFeedRecord;
    type Event = FeedRecordEvent;
    type State = FeedRecordState;
    type Error = FeedRecordError;

    fn initial() -> FeedRecordState {
        FeedRecordState::New
    }

    fn decide(
        command: &ClaimFeedRecord,
        state: &FeedRecordState,
    ) -> Result<Vec<FeedRecordEvent>, FeedRecordError> {
        match state {
            FeedRecordState::Accepted => Err(FeedRecordError::Duplicate),
            FeedRecordState::New => Ok(vec![FeedRecordEvent::FeedRecordAccepted {
                digest: command.digest.clone(),
                at: command.at,
            }]),
        }
    }

    fn evolve(_state: FeedRecordState, event: &FeedRecordEvent) -> FeedRecordState {
        match event {
            FeedRecordEvent::FeedRecordAccepted { .. } => FeedRecordState::Accepted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    #[test]
    fn record_ids_are_parsed() {
        assert!(FeedRecordId::parse("PSB-2026:0001_a.b").is_ok());
        assert!(FeedRecordId::parse("").is_err());
        assert!(FeedRecordId::parse("has space").is_err());
        assert!(FeedRecordId::parse("x".repeat(65)).is_err());
        assert_eq!(
            serde_json::to_string(&FeedRecordId::parse("r1").expect("id")).expect("json"),
            "\"r1\""
        );
    }

    #[test]
    fn a_record_id_is_accepted_once() {
        let at = datetime!(2026-03-02 09:00 +08:00);
        let digest = DocumentDigest::parse("e".repeat(64)).expect("digest");
        let claim = ClaimFeedRecord {
            digest: digest.clone(),
            at,
        };
        let accepted = FeedRecordEvent::FeedRecordAccepted { digest, at };
        Given::<FeedRecord>::nothing()
            .when(&claim)
            .then(vec![accepted.clone()]);
        Given::<FeedRecord>::events(vec![accepted])
            .when(&claim)
            .then_error(FeedRecordError::Duplicate);
        assert_eq!(
            (
                FeedRecordError::Duplicate.code(),
                FeedRecordError::Duplicate.kind()
            ),
            ("feed.duplicate", RefusalKind::Conflict)
        );
    }
}
