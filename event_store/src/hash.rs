//! The hash chain: each event's HMAC-SHA256, keyed with a secret kept outside the database,
//! covers its predecessor's hash and every stored field. Whoever can write the database but
//! does not hold the key cannot rewrite an event and recompute a chain that still verifies.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret keying the chain (the keys file's `chain_key`, see docs/keys.md).
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key [`crate::StoreOptions::default`] uses: tests and benchmarks only; the server
    /// always keys the chain with the keys file's `chain_key`.
    pub const fn for_tests() -> Self {
        Self([0x7e; 32])
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey([redacted])")
    }
}

/// The "previous hash" of the first event in the log.
pub const GENESIS: [u8; 32] = [0; 32];

/// The fields of an event that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    pub position: u64,
    pub stream: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub payload: &'a str,
    pub metadata: &'a str,
    pub recorded_at_micros: i64,
}

impl crate::model::RecordedEvent {
    /// The fields of this event its hash covers.
    pub fn hash_input(&self) -> HashInput<'_> {
        HashInput {
            position: self.position,
            stream: &self.stream,
            version: self.version,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            payload: &self.payload,
            metadata: &self.metadata,
            // As the writer stores it (`plan::micros`): Unix time in microseconds.
            recorded_at_micros: (self.recorded_at.unix_timestamp_nanos() / 1_000) as i64,
        }
    }
}

/// `HMAC-SHA256(key, domain tag ‖ prev ‖ fields)`, variable-length fields length-prefixed so
/// no two different events can encode to the same bytes.
pub fn chain(key: &ChainKey, prev: &[u8; 32], event: &HashInput<'_>) -> [u8; 32] {
    let Ok(mut h) = Hmac::<Sha256>::new_from_slice(&key.0) else {
        unreachable!("HMAC takes a key of any length")
    };
    h.update(b"yuekang.event.v2");
    h.update(prev);
    h.update(&event.position.to_be_bytes());
    field(&mut h, event.stream);
    h.update(&event.version.to_be_bytes());
    field(&mut h, event.event_type);
    h.update(&event.schema_version.to_be_bytes());
    field(&mut h, event.payload);
    field(&mut h, event.metadata);
    h.update(&event.recorded_at_micros.to_be_bytes());
    h.finalize().into_bytes().into()
}

fn field(h: &mut Hmac<Sha256>, value: &str) {
    h.update(&(value.len() as u64).to_be_bytes());
    h.update(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(payload: &'a str) -> HashInput<'a> {
        HashInput {
            position: 1,
            stream: "s-1",
            version: 1,
            event_type: "Happened",
            schema_version: 1,
            payload,
            metadata: "{}",
            recorded_at_micros: 0,
        }
    }

    const KEY: ChainKey = ChainKey::for_tests();

    #[test]
    fn any_changed_field_or_predecessor_changes_the_hash() {
        let base = chain(&KEY, &GENESIS, &input("{\"a\":1}"));
        assert_ne!(base, chain(&KEY, &GENESIS, &input("{\"a\":2}")));
        assert_ne!(base, chain(&KEY, &[1; 32], &input("{\"a\":1}")));
        assert_eq!(base, chain(&KEY, &GENESIS, &input("{\"a\":1}")));
    }

    #[test]
    fn the_hash_depends_on_the_key() {
        let event = input("{}");
        let other = ChainKey::new([1; 32]);
        assert_ne!(
            chain(&KEY, &GENESIS, &event),
            chain(&other, &GENESIS, &event)
        );
        assert_eq!(format!("{other:?}"), "ChainKey([redacted])");
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = input("{}");
        a.stream = "ab";
        a.event_type = "c";
        let mut b = input("{}");
        b.stream = "a";
        b.event_type = "bc";
        assert_ne!(chain(&KEY, &GENESIS, &a), chain(&KEY, &GENESIS, &b));
    }
}
