//! Service-account bearer tokens: their prefix, how a fresh one is drawn, and the SHA-256 by
//! which it is stored and looked up (the token itself is never stored or logged).

use sha2::{Digest, Sha256};

/// Prefix of service-account tokens.
pub const SERVICE_TOKEN_PREFIX: &str = "yk_sa_";

/// Hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh service-account token: the prefix and two random (v4) UUIDs in hex, 244 random
/// bits.
pub fn new_service_token() -> String {
    let secret: String = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .map(|u| hex::encode(u.as_bytes()))
        .collect();
    format!("{SERVICE_TOKEN_PREFIX}{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_prefix_and_hash_to_hex() {
        let token = new_service_token();
        assert!(token.starts_with(SERVICE_TOKEN_PREFIX));
        assert_eq!(token.len(), SERVICE_TOKEN_PREFIX.len() + 64);
        let hash = token_hash(&token);
        assert_eq!(hash.len(), 64);
        assert_ne!(token_hash(&new_service_token()), hash);
    }
}
