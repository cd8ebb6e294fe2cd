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
    if path.exists() {
        return read_key(&path);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| u.into_bytes())
        .collect();
    // Written to a private temporary file, then linked into place only if no key exists:
    // two first exports racing agree on one key, and no reader sees a half-written file.
    let temporary = data_dir.join(format!(".pseudonym.key.{}", uuid::Uuid::new_v4()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::io::Write::write_all(&mut file, hex::encode(&key).as_bytes())?;
        file.sync_all()?;
    }
    let linked = std::fs::hard_link(&temporary, &path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(key),
        // Another export made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key(&path),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let hexed =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let key = hex::decode(hexed.trim()).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(
        key.len() >= 16,
        "{} holds a key of {} bytes; at least 16 are needed",
        path.display(),
        key.len()
    );
    Ok(key)
}

/// `category-id` with the id replaced by a keyed hash; no category: the whole value.
pub fn pseudonym(key: &[u8], value: &str) -> String {
    // A stream's category (the longest that fits: `venue-member-…` is a binding), or for
    // other `kind-id` values (actors) the part before the first dash.
    let split = domain::streams::split(value)
        .or_else(|| value.split_once('-'))
        // A bare UUID (`0192f0c4-…`) is an id, not `category-id`.
        .filter(|_| uuid::Uuid::parse_str(value).is_err());
    match split {
        Some((category, id)) => format!("{category}-{}", hashed_id(key, id)),
        None => hashed_id(key, value),
    }
}

/// `p` and the first 12 bytes of HMAC-SHA256(key, id), hex: the pseudonym of one id, the
/// same in stream names, actors and payloads.
fn hashed_id(key: &[u8], id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    mac.update(id.as_bytes());
    format!("p{}", hex::encode(&mac.finalize().into_bytes()[..12]))
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
        "data": scrub(key, data, domain::week::today(event.recorded_at)),
    }))?)
}

/// Fields an export leaves out: free text (places visited, appeal details, trip details,
/// job titles), names and addresses of venues, organisations and grids (they tie back to
/// their admin), the feed's record ids, binding codes (printed on posters: they name the
/// venue) and notice numbers (printed on the notice: they name its holder).
const LEFT_OUT: [&str; 13] = [
    "visited",
    "detail",
    "trip_number",
    "origin",
    "arrival_date",
    "unit",
    "position",
    "address",
    "name",
    "record_id",
    "source",
    "code",
    "number",
];

/// A birth date as stored: `[year, ordinal day]` (the `time` crate's compact form) or
/// `"YYYY-MM-DD"`.
fn birth_date(value: &serde_json::Value) -> Option<time::Date> {
    match value {
        serde_json::Value::Array(parts) => {
            let year = i32::try_from(parts.first()?.as_i64()?).ok()?;
            let ordinal = u16::try_from(parts.get(1)?.as_u64()?).ok()?;
            time::Date::from_ordinal_date(year, ordinal).ok()
        }
        serde_json::Value::String(text) => time::Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok(),
        _ => None,
    }
}

/// A division code at city level (`440305` and `440305001` → `440300`): a district or a
/// town, with the rest of a record, can single a person out.
fn city_level(code: &str) -> Option<String> {
    (code.len() >= 6 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}00", &code[..4]))
}

/// Pseudonymises the ids inside a payload and drops what could single someone out: a UUID or
/// a document digest (64 hex) becomes its pseudonym, the same everywhere, so analysts can
/// still join on it; a sealed value (`v1.…`, ciphertext under a subject key) becomes
/// `"[sealed]"`; a birth date becomes the age band on the event's day (`day`); regions are
/// cut to their city; the fields of [`LEFT_OUT`] are dropped.
fn scrub(key: &[u8], value: serde_json::Value, day: time::Date) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let is_digest = s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
            if s.starts_with("v1.") && s.matches('.').count() == 2 {
                Value::String("[sealed]".into())
            } else if uuid::Uuid::parse_str(&s).is_ok() || is_digest {
                Value::String(hashed_id(key, &s))
            } else {
                Value::String(s)
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| scrub(key, v, day)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| !LEFT_OUT.contains(&k.as_str()))
                .map(|(k, v)| match (k.as_str(), &v) {
                    ("birth_date", born) => {
                        let band = birth_date(born)
                            .map(|born| domain::demographics::AgeBand::on(born, day).as_str());
                        ("age_band".to_owned(), band.map_or(Value::Null, Value::from))
                    }
                    ("region" | "town" | "destination", Value::String(code)) => {
                        (k, city_level(code).map_or(Value::Null, Value::from))
                    }
                    _ => (k, scrub(key, v, day)),
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::{pseudonym, pseudonym_key};

    #[test]
    fn the_key_is_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("yk-key-{}", uuid::Uuid::new_v4()));
        let first = pseudonym_key(&dir).expect("key");
        assert_eq!(first.len(), 32);
        assert_eq!(pseudonym_key(&dir).expect("again"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("pseudonym.key"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join("pseudonym.key"), "").expect("truncate");
        assert!(pseudonym_key(&dir).is_err(), "an empty key is refused");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn what_could_single_someone_out_is_coarsened_or_left_out() {
        let day = time::macros::date!(2026 - 03 - 02);
        let compact = super::scrub(b"k1", serde_json::json!({"birth_date": [1950, 66]}), day);
        assert_eq!(
            compact["age_band"], "60+",
            "the stored form: [year, ordinal day]"
        );
        let data = serde_json::json!({
            "birth_date": "1990-03-07",
            "sex": "male",
            "region": "440305",
            "venue": {"town": "440106001", "name": "天河城", "address": "v1.bm9uY2U.Y2lwaGVy"},
            "visited": ["深圳湾公园"],
            "detail": "我没有去过那里",
            "trip_number": "G1234",
            "origin": "湖北省武汉市",
            "arrival_date": "2026-02-28",
            "record_id": "psb-2026-000123",
            "source": "psb-2026-000123",
            "destination": "440305005",
            "code": "31234565",
            "number": "YK2026-000123",
            "reason": "close_contact",
        });
        let out = super::scrub(b"k1", data, day);
        assert_eq!(out["age_band"], "18-39", "35 on the event's day");
        assert!(out.get("birth_date").is_none());
        assert_eq!(out["sex"], "male");
        assert_eq!(out["region"], "440300");
        assert_eq!(out["venue"]["town"], "440100");
        assert_eq!(out["destination"], "440300");
        assert!(out.get("code").is_none() && out.get("number").is_none());
        let text = out.to_string();
        for gone in [
            "天河城",
            "深圳湾",
            "我没有",
            "G1234",
            "武汉",
            "2026-02-28",
            "psb-",
            "[sealed]",
        ] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert_eq!(out["reason"], "close_contact");
        assert_eq!(super::city_level("44"), None);
        assert_eq!(super::city_level("441900003").as_deref(), Some("441900"));
    }

    #[test]
    fn payload_ids_are_pseudonymised_and_sealed_values_dropped() {
        let person = "0192f0c4-7e57-7000-8000-000000000001";
        let digest = "ab".repeat(32);
        let data = serde_json::json!({
            "person_id": person,
            "digest": digest,
            "profile": "v1.bm9uY2U.Y2lwaGVy",
            "nested": [{"member": person}],
            "reason": "close_contact",
            "temperature_c": 36.5,
        });
        let out = super::scrub(b"k1", data, time::macros::date!(2026 - 03 - 02));
        let text = out.to_string();
        assert!(!text.contains(person) && !text.contains(&digest));
        assert_eq!(out["profile"], "[sealed]");
        assert_eq!(
            out["person_id"], out["nested"][0]["member"],
            "one id, one pseudonym"
        );
        assert!(!text.contains("0192f0c4"), "no part of the id survives");
        // The same id in a stream name gets the same pseudonym: analysts can join.
        let stream = pseudonym(b"k1", &format!("person-{person}"));
        assert_eq!(
            stream,
            format!("person-{}", out["person_id"].as_str().expect("str"))
        );
        let identity = pseudonym(b"k1", &format!("identity-{digest}"));
        assert_eq!(
            identity,
            format!("identity-{}", out["digest"].as_str().expect("str"))
        );
        assert!(pseudonym(b"k1", "feed-record-psb-1").starts_with("feed-record-p"));
        assert_eq!(out["reason"], "close_contact");
        assert_eq!(out["temperature_c"], 36.5);
    }

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
