//! Citizen session bearer tokens: `yk_s_<payload>.<mac>`, the payload naming the person, the
//! session (its id, so one session can be ended), when it was issued and when it expires; the
//! MAC an HMAC-SHA256 under the session key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

/// Every session token starts with this, so it is told apart from service-account tokens.
pub const PREFIX: &str = "yk_s_";
/// How long a session lasts unless the caller chooses otherwise.
pub const DEFAULT_TTL_HOURS: i64 = 12;

/// Why a session token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the session token's signature does not match; it was altered or not issued here")]
    BadSignature,
    #[error("the session expired at {expired_at}; log in again")]
    Expired { expired_at: OffsetDateTime },
}

impl SessionError {
    /// A stable machine-readable code for the problem document.
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Malformed(_) => "session.malformed",
            SessionError::BadSignature => "session.bad_signature",
            SessionError::Expired { .. } => "session.expired",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    pid: Uuid,
    /// The session's id.
    sid: Uuid,
    /// Unix time in seconds.
    iat: i64,
    /// Unix time in seconds.
    exp: i64,
    /// The person's session epoch at issue: ending all their sessions moves it on.
    ep: u32,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedSession {
    pub person_id: Uuid,
    pub session_id: Uuid,
    pub issued_at: OffsetDateTime,
    /// The person's session epoch when the token was issued.
    pub epoch: u32,
}

fn mac(key: &[u8; 32]) -> Hmac<Sha256> {
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    mac
}

/// A token for session `session_id` of `person_id` in the person's session `epoch`, valid from
/// `now` for `ttl` (to the second), and when it expires.
pub fn issue(
    key: &[u8; 32],
    person_id: Uuid,
    session_id: Uuid,
    epoch: u32,
    now: OffsetDateTime,
    ttl: time::Duration,
) -> (String, OffsetDateTime) {
    let exp = (now + ttl).unix_timestamp();
    let expires_at = OffsetDateTime::from_unix_timestamp(exp).unwrap_or(now + ttl);
    // UUIDs and integers always serialise.
    let json = serde_json::json!({
        "pid": person_id,
        "sid": session_id,
        "iat": now.unix_timestamp(),
        "exp": exp,
        "ep": epoch,
    })
    .to_string();
    let payload = URL_SAFE_NO_PAD.encode(json.as_bytes());
    let mut mac = mac(key);
    mac.update(payload.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    (format!("{PREFIX}{payload}.{tag}"), expires_at)
}

/// The person and session a token was issued for, when its MAC matches (compared in constant
/// time) and it has not expired at `now`. Whether the session was ended is the caller's to ask.
pub fn verify(
    key: &[u8; 32],
    token: &str,
    now: OffsetDateTime,
) -> Result<VerifiedSession, SessionError> {
    let body = token
        .strip_prefix(PREFIX)
        .ok_or(SessionError::Malformed("a session token starts with yk_s_"))?;
    let (payload, tag) = body.split_once('.').ok_or(SessionError::Malformed(
        "a session token has a payload and a signature separated by a dot",
    ))?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| SessionError::Malformed("the signature is not base64url"))?;
    let mut mac = mac(key);
    mac.update(payload.as_bytes());
    mac.verify_slice(&tag)
        .map_err(|_| SessionError::BadSignature)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| SessionError::Malformed("the payload is not base64url"))?;
    let payload: Payload = serde_json::from_slice(&json)
        .map_err(|_| SessionError::Malformed("the payload is not the expected JSON"))?;
    if now.unix_timestamp() >= payload.exp {
        return Err(SessionError::Expired {
            expired_at: OffsetDateTime::from_unix_timestamp(payload.exp)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        });
    }
    Ok(VerifiedSession {
        person_id: payload.pid,
        session_id: payload.sid,
        issued_at: OffsetDateTime::from_unix_timestamp(payload.iat)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        epoch: payload.ep,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: [u8; 32] = [7; 32];
    const NOW: OffsetDateTime = datetime!(2022-03-01 08:00 UTC);

    fn ttl() -> time::Duration {
        time::Duration::hours(DEFAULT_TTL_HOURS)
    }

    #[test]
    fn an_issued_token_verifies_until_it_expires() {
        let person = Uuid::new_v4();
        let session = Uuid::new_v4();
        let (token, expires_at) = issue(&KEY, person, session, 3, NOW, ttl());
        assert!(token.starts_with(PREFIX));
        assert_eq!(expires_at, datetime!(2022-03-01 20:00 UTC));
        let verified = VerifiedSession {
            person_id: person,
            session_id: session,
            issued_at: NOW,
            epoch: 3,
        };
        assert_eq!(verify(&KEY, &token, NOW), Ok(verified));
        assert_eq!(
            verify(&KEY, &token, expires_at - time::Duration::seconds(1)),
            Ok(verified)
        );
        let expired = verify(&KEY, &token, expires_at).expect_err("expired");
        assert_eq!(expired.code(), "session.expired");
        assert_eq!(
            expired,
            SessionError::Expired {
                expired_at: expires_at
            }
        );
    }

    #[test]
    fn altered_or_foreign_tokens_are_refused() {
        let (token, _) = issue(&KEY, Uuid::new_v4(), Uuid::new_v4(), 0, NOW, ttl());
        assert_eq!(
            verify(&[8; 32], &token, NOW),
            Err(SessionError::BadSignature)
        );
        // A payload naming someone else, with the original MAC.
        let (other, _) = issue(&[8; 32], Uuid::new_v4(), Uuid::new_v4(), 0, NOW, ttl());
        let (_, tag) = token.split_once('.').expect("dot");
        let (other_payload, _) = other.split_once('.').expect("dot");
        let spliced = format!("{other_payload}.{tag}");
        assert_eq!(verify(&KEY, &spliced, NOW), Err(SessionError::BadSignature));
        for (i, original) in token.char_indices().skip(PREFIX.len()) {
            let replacement = if original == 'A' { "B" } else { "A" };
            let mut altered = token.clone();
            altered.replace_range(i..i + 1, replacement);
            assert!(
                verify(&KEY, &altered, NOW).is_err(),
                "changing position {i} was accepted"
            );
        }
    }

    #[test]
    fn malformed_tokens_are_refused_as_malformed() {
        for bad in ["", "yk_s_", "yk_s_abc", "svc_abc.def", "yk_s_abc.!!"] {
            let error = verify(&KEY, bad, NOW).expect_err(bad);
            assert_eq!(error.code(), "session.malformed", "{bad}");
        }
    }
}
