//! The health-code QR payload: a long-lived token naming one person and the instant it was
//! issued, signed with the platform's Ed25519 code key (`YK2.<kid>.<person ‖ issued at>.
//! <signature>`), verifiable across key rotation. Tokens of the first format
//! (`YK1.<kid>.<person>.<signature>`, no issue time) still verify, as old tokens.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The first field of a code token: the format's version (the current one).
pub const VERSION: &str = "YK2";

/// The first format, without an issue time: still verified, never issued.
pub const VERSION_1: &str = "YK1";

/// What a verified code token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeClaims {
    pub person: Uuid,
    /// When the token was issued (Unix microseconds); `None` for a first-format token.
    pub issued_at_micros: Option<i64>,
}

/// The version tag of venue poster tokens.
pub const POSTER_VERSION: &str = "YKP1";

/// Why a code token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeTokenError {
    #[error("the code is not a Yuekang health code: {0}")]
    Malformed(&'static str),
    #[error("the code was signed with a key this platform does not hold (unknown or withdrawn)")]
    UnknownKey,
    #[error("the code's signature does not match its contents; it was forged or altered")]
    BadSignature,
}

impl CodeTokenError {
    /// A stable machine-readable code for the problem document.
    pub fn code(&self) -> &'static str {
        match self {
            CodeTokenError::Malformed(_) => "code_token.malformed",
            CodeTokenError::UnknownKey => "code_token.unknown_key",
            CodeTokenError::BadSignature => "code_token.bad_signature",
        }
    }
}

/// Why a keyring could not be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeKeyringError {
    #[error(
        "code key id {0:?} is invalid: a key id is 1 to 32 letters, digits, '-' or '_' \
         (it is printed inside every QR code)"
    )]
    BadKid(String),
    #[error("code key id {0:?} appears twice; every code key needs its own id")]
    DuplicateKid(String),
}

/// True when `kid` may name a code key: 1–32 of `[A-Za-z0-9_-]`, so it never holds the
/// token's `.` separator.
pub fn is_valid_kid(kid: &str) -> bool {
    (1..=32).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The platform's code keys: one active key that signs, and retired keys that still verify
/// the codes they signed. A withdrawn key is simply absent.
///
/// Verification is pure, so the ring remembers the tokens whose signature it has checked (by
/// their SHA-256, never the token itself; up to [`VERIFIED_CAPACITY`], then it starts afresh):
/// a poster scanned by thousands, or a code shown again, is checked once. The version, the
/// shape and the key id are still checked every time, so a withdrawn key refuses at once.
#[derive(Clone)]
pub struct CodeKeyring {
    active: (String, SigningKey),
    /// The active key's public half, derived once.
    active_public: VerifyingKey,
    retired: Vec<(String, VerifyingKey)>,
    verified: Arc<Mutex<HashSet<[u8; 32]>>>,
}

/// How many verified tokens a keyring remembers.
pub const VERIFIED_CAPACITY: usize = 50_000;

impl fmt::Debug for CodeKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeKeyring")
            .field("active_kid", &self.active.0)
            .field("active_key", &"[redacted]")
            .field(
                "retired_kids",
                &self.retired.iter().map(|(kid, _)| kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CodeKeyring {
    /// A keyring signing with `active` and still accepting codes of `retired`.
    pub fn new(
        active_kid: impl Into<String>,
        active: SigningKey,
        retired: Vec<(String, VerifyingKey)>,
    ) -> Result<Self, CodeKeyringError> {
        let active_kid = active_kid.into();
        let mut seen: Vec<&str> = Vec::with_capacity(retired.len() + 1);
        for kid in std::iter::once(&active_kid).chain(retired.iter().map(|(kid, _)| kid)) {
            if !is_valid_kid(kid) {
                return Err(CodeKeyringError::BadKid(kid.clone()));
            }
            if seen.contains(&kid.as_str()) {
                return Err(CodeKeyringError::DuplicateKid(kid.clone()));
            }
            seen.push(kid);
        }
        Ok(Self {
            active_public: active.verifying_key(),
            active: (active_kid, active),
            retired,
            verified: Arc::default(),
        })
    }

    /// The id of the key signing new codes.
    pub fn active_kid(&self) -> &str {
        &self.active.0
    }

    /// The ids of the keys that only verify.
    pub fn retired_kids(&self) -> impl Iterator<Item = &str> {
        self.retired.iter().map(|(kid, _)| kid.as_str())
    }

    /// The token for `person_id` issued at `issued_at_micros` (Unix microseconds) under the
    /// active key. It does not expire: the colour is resolved when it is scanned; the issue
    /// time says whether it is fresh enough for more than the colour.
    pub fn sign(&self, person_id: Uuid, issued_at_micros: i64) -> String {
        let mut body = [0u8; 24];
        body[..16].copy_from_slice(person_id.as_bytes());
        body[16..].copy_from_slice(&issued_at_micros.to_be_bytes());
        self.sign_bytes(VERSION, &body)
    }

    /// The person a token names and when it was issued, when the token (of either format)
    /// was signed by a key of this ring and not altered by a single character.
    pub fn verify(&self, token: &str) -> Result<CodeClaims, CodeTokenError> {
        let version = token.split('.').next().unwrap_or("");
        if version == VERSION_1 {
            let person = self.verify_as(VERSION_1, token, 16)?;
            return Ok(CodeClaims {
                person: uuid_of(&person),
                issued_at_micros: None,
            });
        }
        let body = self.verify_as(VERSION, token, 24)?;
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&body[16..]);
        Ok(CodeClaims {
            person: uuid_of(&body),
            issued_at_micros: Some(i64::from_be_bytes(issued)),
        })
    }

    /// A first-format token (`YK1`, no issue time), as codes were issued before: for tests of
    /// how such tokens are still read.
    pub fn sign_first_format(&self, person_id: Uuid) -> String {
        self.sign_bytes(VERSION_1, person_id.as_bytes())
    }

    /// A venue poster token (`YKP1.…`): the same signature scheme under another version tag,
    /// so a poster never passes for a person's code nor the reverse.
    pub fn sign_poster(&self, venue_id: Uuid) -> String {
        self.sign_bytes(POSTER_VERSION, venue_id.as_bytes())
    }

    /// The venue a poster token names.
    pub fn verify_poster(&self, token: &str) -> Result<Uuid, CodeTokenError> {
        self.verify_as(POSTER_VERSION, token, 16)
            .map(|body| uuid_of(&body))
    }

    fn sign_bytes(&self, version: &str, body: &[u8]) -> String {
        let (kid, key) = &self.active;
        let signed = format!("{version}.{kid}.{}", URL_SAFE_NO_PAD.encode(body));
        let signature = key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The signed body (`len` bytes) of a token of version `expected`.
    fn verify_as(
        &self,
        expected: &str,
        token: &str,
        len: usize,
    ) -> Result<Vec<u8>, CodeTokenError> {
        let mut parts = token.split('.');
        let (Some(version), Some(kid), Some(person), Some(signature), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CodeTokenError::Malformed(
                "a code has four dot-separated parts",
            ));
        };
        if version != expected {
            return Err(CodeTokenError::Malformed(if expected == POSTER_VERSION {
                "this is not a venue poster (version YKP1)"
            } else {
                "this is not a health code (version YK2 or YK1)"
            }));
        }
        let key = self.verifying_key(kid).ok_or(CodeTokenError::UnknownKey)?;
        let body: Vec<u8> = URL_SAFE_NO_PAD
            .decode(person)
            .ok()
            .filter(|bytes| bytes.len() == len)
            .ok_or(CodeTokenError::Malformed(if len == 16 {
                "the person part is not 16 bytes of base64url"
            } else {
                "the person part is not 24 bytes of base64url (person and issue time)"
            }))?;
        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(CodeTokenError::Malformed(
                "the signature part is not 64 bytes of base64url",
            ))?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if self.remembered().contains(&digest) {
            return Ok(body);
        }
        let signed_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
        key.verify_strict(
            &token.as_bytes()[..signed_len],
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| CodeTokenError::BadSignature)?;
        let mut remembered = self.remembered();
        if remembered.len() >= VERIFIED_CAPACITY {
            remembered.clear();
        }
        remembered.insert(digest);
        Ok(body)
    }

    fn remembered(&self) -> MutexGuard<'_, HashSet<[u8; 32]>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn verifying_key(&self, kid: &str) -> Option<VerifyingKey> {
        if kid == self.active.0 {
            return Some(self.active_public);
        }
        self.retired
            .iter()
            .find(|(retired, _)| retired == kid)
            .map(|(_, key)| *key)
    }
}

/// The UUID in a token body's first 16 bytes (`verify_as` checked the length).
fn uuid_of(body: &[u8]) -> Uuid {
    Uuid::from_slice(&body[..16]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn ring() -> CodeKeyring {
        CodeKeyring::new("c1", key(1), Vec::new()).expect("ring")
    }

    const AT: i64 = 1_772_413_200_000_000; // 2026-03-02 01:00 UTC, in microseconds

    fn claims(person: Uuid, at: i64) -> CodeClaims {
        CodeClaims {
            person,
            issued_at_micros: Some(at),
        }
    }

    #[test]
    fn a_signed_code_verifies_to_its_person_and_issue_time() {
        let ring = ring();
        let person = Uuid::new_v4();
        let token = ring.sign(person, AT);
        assert!(token.starts_with("YK2.c1."));
        assert_eq!(token, ring.sign(person, AT), "deterministic");
        assert_eq!(ring.verify(&token), Ok(claims(person, AT)));
        assert_ne!(
            token,
            ring.sign(person, AT + 1),
            "each issue is its own token"
        );
        assert_ne!(token, ring.sign(Uuid::new_v4(), AT));
    }

    #[test]
    fn first_format_codes_still_verify_without_an_issue_time() {
        let ring = ring();
        let person = Uuid::new_v4();
        let old = ring.sign_first_format(person);
        assert!(old.starts_with("YK1.c1."));
        assert_eq!(
            ring.verify(&old),
            Ok(CodeClaims {
                person,
                issued_at_micros: None
            })
        );
        // A first-format body under the new version (or the reverse) is malformed.
        let relabelled = old.replacen("YK1.", "YK2.", 1);
        assert_eq!(
            ring.verify(&relabelled).map_err(|e| e.code()),
            Err("code_token.malformed")
        );
    }

    #[test]
    fn a_retired_key_still_verifies_and_a_withdrawn_one_does_not() {
        let person = Uuid::new_v4();
        let old = ring();
        let token = old.sign(person, AT);
        let rotated = CodeKeyring::new("c2", key(2), vec![("c1".into(), key(1).verifying_key())])
            .expect("rotated");
        assert_eq!(rotated.active_kid(), "c2");
        assert_eq!(rotated.retired_kids().collect::<Vec<_>>(), vec!["c1"]);
        assert_eq!(rotated.verify(&token), Ok(claims(person, AT)));
        assert!(rotated.sign(person, AT).starts_with("YK2.c2."));
        let withdrawn = CodeKeyring::new("c2", key(2), Vec::new()).expect("withdrawn");
        let refused = withdrawn.verify(&token).expect_err("withdrawn key");
        assert_eq!(refused, CodeTokenError::UnknownKey);
        assert_eq!(refused.code(), "code_token.unknown_key");
    }

    #[test]
    fn every_single_changed_character_is_refused() {
        let ring = ring();
        let token = ring.sign(Uuid::new_v4(), AT);
        // Verified once first: the ring remembers the token, and must still refuse any
        // alteration of it.
        assert!(ring.verify(&token).is_ok());
        for (i, original) in token.char_indices() {
            for replacement in ['A', 'b', '0', '-', '_', '.'] {
                if replacement == original {
                    continue;
                }
                let mut altered = token.clone();
                altered.replace_range(i..i + 1, &replacement.to_string());
                assert!(
                    ring.verify(&altered).is_err(),
                    "changing position {i} to {replacement:?} was accepted"
                );
            }
        }
    }

    #[test]
    fn a_remembered_token_is_still_checked_for_its_version_and_key() {
        let ring = ring();
        let person = Uuid::new_v4();
        let token = ring.sign(person, AT);
        assert_eq!(ring.verify(&token), Ok(claims(person, AT)));
        assert_eq!(ring.verify(&token), Ok(claims(person, AT)), "remembered");
        assert_eq!(
            ring.verify_poster(&token).map_err(|e| e.code()),
            Err("code_token.malformed"),
            "a remembered code is still no poster"
        );
        let poster = ring.sign_poster(person);
        assert_eq!(ring.verify_poster(&poster), Ok(person));
        assert_eq!(
            ring.verify(&poster).map_err(|e| e.code()),
            Err("code_token.malformed"),
            "a remembered poster is still no code"
        );
        // A forged token with the same body is not taken for the remembered one.
        let forged = CodeKeyring::new("c1", key(9), Vec::new())
            .expect("forger")
            .sign(person, AT);
        assert_eq!(ring.verify(&forged), Err(CodeTokenError::BadSignature));
    }

    #[test]
    fn a_code_signed_by_another_key_with_the_same_id_is_refused() {
        let forger = CodeKeyring::new("c1", key(9), Vec::new()).expect("forger");
        let forged = forger.sign(Uuid::new_v4(), AT);
        assert_eq!(ring().verify(&forged), Err(CodeTokenError::BadSignature));
        assert_eq!(
            CodeTokenError::BadSignature.code(),
            "code_token.bad_signature"
        );
    }

    #[test]
    fn malformed_codes_are_refused_as_malformed() {
        let ring = ring();
        for bad in [
            "",
            "YK1",
            "YK1.c1.x",
            "YK3.c1.AAAA.AAAA",
            "YK2.c1.AAAA.AAAA",
            "YK1.c1.AAAA.AAAA.x",
        ] {
            let error = ring.verify(bad).expect_err(bad);
            assert_eq!(error.code(), "code_token.malformed", "{bad}");
        }
        assert_eq!(
            ring.verify("YK1.c1.AAAA.AAAA"),
            Err(CodeTokenError::Malformed(
                "the person part is not 16 bytes of base64url"
            ))
        );
    }

    #[test]
    fn key_ids_are_checked() {
        assert!(matches!(
            CodeKeyring::new("c.1", key(1), Vec::new()),
            Err(CodeKeyringError::BadKid(_))
        ));
        assert!(matches!(
            CodeKeyring::new("c1", key(1), vec![("c1".into(), key(2).verifying_key())]),
            Err(CodeKeyringError::DuplicateKid(_))
        ));
        assert!(!format!("{:?}", ring()).contains(&format!("{:?}", key(1).to_bytes())));
    }

    #[test]
    fn posters_and_codes_do_not_pass_for_each_other() {
        let ring = CodeKeyring::new("c1", key(1), Vec::new()).expect("ring");
        let id = Uuid::from_u128(42);
        let poster = ring.sign_poster(id);
        assert!(poster.starts_with("YKP1.c1."));
        assert_eq!(ring.verify_poster(&poster), Ok(id));
        assert!(
            ring.verify(&poster).is_err(),
            "a poster is not a health code"
        );
        assert!(
            ring.verify_poster(&ring.sign(id, AT)).is_err(),
            "a code is not a poster"
        );
        let forged = poster.replacen("YKP1.c1.", "YKP1.c1.A", 1);
        assert!(ring.verify_poster(&forged).is_err());
    }
}
