//! Pseudonymised export of events (CLI `export events` and `GET /v1/exports/events.ndjson`).

use std::path::Path;

use anyhow::Context;
use event_store::RecordedEvent;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret keying pseudonyms: `pseudonym.key` in the data directory, made on first use.
/// Exports made with one key can be joined with each other, never with the live ids.
pub fn pseudonym_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("pseudonym.key");
    if let Ok(hexed) = std::fs::read_to_string(&path) {
        return hex::decode(hexed.trim()).with_context(|| format!("reading {}", path.display()));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.into_bytes())
        .collect();
    std::fs::write(&path, hex::encode(&key))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

/// `category-id` with the id replaced by a keyed hash; no category: the whole value.
pub fn pseudonym(key: &[u8], value: &str) -> String {
    let (category, id) = match value.split_once('-') {
        // Service accounts are `service-account-<id>`.
        Some(("service", rest)) => match rest.split_once('-') {
            Some((second, id)) => (format!("service-{second}"), id),
            None => (String::new(), value),
        },
        Some((category, id)) => (category.to_owned(), id),
        None => (String::new(), value),
    };
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    mac.update(id.as_bytes());
    let digest = hex::encode(&mac.finalize().into_bytes()[..12]);
    if category.is_empty() {
        format!("p{digest}")
    } else {
        format!("{category}-p{digest}")
    }
}

/// One export line (without the newline).
pub fn line(key: &[u8], event: &RecordedEvent) -> anyhow::Result<String> {
    let metadata = event.metadata().context("decoding metadata")?;
    let data: serde_json::Value =
        serde_json::from_str(&event.payload).context("decoding a payload")?;
    Ok(serde_json::to_string(&serde_json::json!({
        "position": event.position,
        "stream": pseudonym(key, &event.stream),
        "version": event.version,
        "type": event.event_type,
        "schema_version": event.schema_version,
        "recorded_at": event.recorded_at.format(&time::format_description::well_known::Rfc3339)?,
        "actor": metadata.actor.map(|a| pseudonym(key, &a)),
        "data": data,
    }))?)
}

#[cfg(test)]
mod tests {
    use super::pseudonym;

    #[test]
    fn pseudonyms_keep_the_category_and_hide_the_id() {
        let a = pseudonym(b"k1", "person-0192f0c4-aaaa");
        assert!(a.starts_with("person-p"));
        assert!(!a.contains("0192f0c4"));
        assert_eq!(a, pseudonym(b"k1", "person-0192f0c4-aaaa"));
        assert_ne!(a, pseudonym(b"k2", "person-0192f0c4-aaaa"));
        let s = pseudonym(b"k1", "service-account-0192f0c4");
        assert!(s.starts_with("service-account-p"), "{s}");
    }
}
