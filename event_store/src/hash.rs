//! The hash chain: each event's SHA-256 covers its predecessor's hash and every stored field.

use sha2::{Digest, Sha256};

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

/// `SHA-256(domain tag ‖ prev ‖ fields)`, variable-length fields length-prefixed so no two
/// different events can encode to the same bytes.
pub fn chain(prev: &[u8; 32], event: &HashInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"yuekang.event.v1");
    h.update(prev);
    h.update(event.position.to_be_bytes());
    field(&mut h, event.stream);
    h.update(event.version.to_be_bytes());
    field(&mut h, event.event_type);
    h.update(event.schema_version.to_be_bytes());
    field(&mut h, event.payload);
    field(&mut h, event.metadata);
    h.update(event.recorded_at_micros.to_be_bytes());
    h.finalize().into()
}

fn field(h: &mut Sha256, value: &str) {
    h.update((value.len() as u64).to_be_bytes());
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

    #[test]
    fn any_changed_field_or_predecessor_changes_the_hash() {
        let base = chain(&GENESIS, &input("{\"a\":1}"));
        assert_ne!(base, chain(&GENESIS, &input("{\"a\":2}")));
        assert_ne!(base, chain(&[1; 32], &input("{\"a\":1}")));
        assert_eq!(base, chain(&GENESIS, &input("{\"a\":1}")));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = input("{}");
        a.stream = "ab";
        a.event_type = "c";
        let mut b = input("{}");
        b.stream = "a";
        b.event_type = "bc";
        assert_ne!(chain(&GENESIS, &a), chain(&GENESIS, &b));
    }
}
