//! The answers remembered under idempotency keys, sealed (the table holds nothing personal in
//! clear) and forgotten after a while (a retry after that is a new command).

use crypto::vault::AnswerKey;

/// Seals remembered answers under a key derived from the master key.
#[derive(Debug, Clone)]
pub struct SealedAnswers(AnswerKey);

impl SealedAnswers {
    pub fn new(keys: &crypto::keys::Keys) -> Self {
        Self(AnswerKey::derive(&keys.master_key))
    }
}

impl commands::AnswerSeal for SealedAnswers {
    fn seal(&self, key: &str, answer: &str) -> Result<String, String> {
        self.0.seal(key, answer).map_err(|e| e.to_string())
    }

    fn open(&self, key: &str, stored: &str) -> Option<String> {
        self.0.open(key, stored)
    }
}

/// How long answers are remembered by default.
pub const DEFAULT_TTL: time::Duration = time::Duration::hours(24);

/// Forgets the answers to commands committed more than `ttl` ago; how many were forgotten.
pub async fn forget_old(
    store: &event_store::EventStore,
    now: time::OffsetDateTime,
    ttl: time::Duration,
) -> Result<u64, crate::ServiceError> {
    store
        .forget_answers_before(now - ttl)
        .await
        .map_err(crate::ServiceError::internal)
}
