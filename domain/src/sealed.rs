//! Personal data as the log holds it: ciphertext under the subject's data key. The domain
//! never sees the clear text; the API layer seals before deciding and opens when reading.

use serde::{Deserialize, Serialize};

/// An encrypted value (`v1.<nonce>.<ciphertext>`, AES-256-GCM under the subject's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    pub fn new(ciphertext: impl Into<String>) -> Self {
        Self(ciphertext.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
