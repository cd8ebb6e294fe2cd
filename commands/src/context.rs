//! Who is acting, and the ids that tie a command's events together.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// An idempotency key with a digest of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

impl IdempotencyKey {
    /// `key` as sent by the client, and the request it protects (method, route and body,
    /// say): a retry must carry the same bytes to get the first answer again.
    pub fn new(key: impl Into<String>, request: &[u8]) -> Self {
        Self {
            key: key.into(),
            request_hash: hex::encode(Sha256::digest(request)),
        }
    }
}

/// The acting principal and the tracing ids of one command.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// A person or service-account id, or `operator` / `system`.
    pub actor: String,
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub idempotency: Option<IdempotencyKey>,
}

impl CommandContext {
    /// A new command by `actor`, correlated with itself.
    pub fn new(actor: impl Into<String>) -> Self {
        let command_id = Uuid::now_v7();
        Self {
            actor: actor.into(),
            command_id,
            correlation_id: command_id,
            causation_id: None,
            idempotency: None,
        }
    }

    pub fn with_idempotency(mut self, key: Option<IdempotencyKey>) -> Self {
        self.idempotency = key;
        self
    }

    pub fn with_correlation(mut self, correlation_id: Uuid, causation_id: Option<Uuid>) -> Self {
        self.correlation_id = correlation_id;
        self.causation_id = causation_id;
        self
    }

    /// The key as stored: scoped by actor so that two clients cannot collide.
    pub(crate) fn scoped_key(&self) -> Option<String> {
        self.idempotency
            .as_ref()
            .map(|k| format!("{}:{}", self.actor, k.key))
    }
}
