//! Identity assertions from the external real-name provider: compact JWS signed with EdDSA
//! (Ed25519), verified against the configured provider keys. Replay protection is the
//! caller's: it records each accepted `jti` as an event.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::keys::{DevProvider, ProviderKey};

/// The longest an assertion may live (`exp - iat`), in seconds.
pub const MAX_LIFETIME_SECS: i64 = 600;
/// The lifetime of assertions minted by the development provider, in seconds.
pub const DEFAULT_LIFETIME_SECS: i64 = 300;
/// How far in the future `iat` may be, for clocks that disagree a little.
pub const CLOCK_SKEW_SECS: i64 = 30;
/// The longest accepted `jti`.
pub const MAX_JTI_LEN: usize = 128;
/// The longest accepted `sub`.
pub const MAX_SUB_LEN: usize = 128;
/// The ways a provider may have verified the person.
pub const METHODS: [&str; 4] = ["face", "payment_password", "household", "birth_certificate"];

/// What the provider asserts about a person it verified.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    pub iss: String,
    pub jti: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    pub doc_type: String,
    pub doc_number: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `face`, `payment_password`, `household` or `birth_certificate`.
    pub method: String,
    /// What the assertion is for: absent or `login` to log in; `family:<guardian person id>`
    /// to be added to that guardian's family (so an assertion made for one purpose cannot
    /// serve another, nor another guardian).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The provider's stable key for the person it verified, the same whichever document they
    /// show: a second document verified for the same subject attaches to the same person.
    /// Absent, the document itself is the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

impl fmt::Debug for IdentityClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityClaims")
            .field("iss", &self.iss)
            .field("jti", &self.jti)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("doc_type", &self.doc_type)
            .field("doc_number", &"[redacted]")
            .field("name", &"[redacted]")
            .field("phone", &self.phone.as_ref().map(|_| "[redacted]"))
            .field("method", &self.method)
            .field("aud", &self.aud)
            .field("sub", &self.sub.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Why an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the identity assertion is malformed: {0}")]
    Malformed(&'static str),
    #[error("the identity assertion uses algorithm {0:?}; only EdDSA is accepted")]
    Algorithm(String),
    #[error("the identity assertion names key {0:?}, which is not a trusted provider key")]
    UnknownKey(String),
    #[error("the identity assertion's issuer does not match the issuer of key {kid:?}")]
    Issuer { kid: String },
    #[error("the identity assertion's signature does not match; it was forged or altered")]
    BadSignature,
    #[error(
        "the identity assertion expired at {exp} (Unix seconds); ask the provider for a new one"
    )]
    Expired { exp: i64 },
    #[error(
        "the identity assertion was issued in the future (iat {iat}, Unix seconds); \
         check the clocks"
    )]
    NotYetValid { iat: i64 },
    #[error(
        "the identity assertion lives {lifetime} s; assertions live at most 10 minutes \
         ({MAX_LIFETIME_SECS} s) and expire after they are issued"
    )]
    Lifetime { lifetime: i64 },
    #[error("the identity assertion's claims are invalid: {0}")]
    Claims(&'static str),
}

impl AssertionError {
    /// A stable machine-readable code for the problem document.
    pub fn code(&self) -> &'static str {
        match self {
            AssertionError::Malformed(_) => "assertion.malformed",
            AssertionError::Algorithm(_) => "assertion.algorithm",
            AssertionError::UnknownKey(_) => "assertion.unknown_key",
            AssertionError::Issuer { .. } => "assertion.issuer",
            AssertionError::BadSignature => "assertion.bad_signature",
            AssertionError::Expired { .. } => "assertion.expired",
            AssertionError::NotYetValid { .. } => "assertion.not_yet_valid",
            AssertionError::Lifetime { .. } => "assertion.lifetime",
            AssertionError::Claims(_) => "assertion.claims",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    kid: String,
}

/// The claims of `token`, when a trusted provider signed it, it is current at `now`, and its
/// claims are well formed.
pub fn verify(
    token: &str,
    providers: &[ProviderKey],
    now: OffsetDateTime,
) -> Result<IdentityClaims, AssertionError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AssertionError::Malformed(
            "an assertion has three dot-separated parts",
        ));
    };
    let header: Header = decode_json(header, "the header is not base64url JSON")?;
    if header.alg != "EdDSA" {
        return Err(AssertionError::Algorithm(header.alg));
    }
    let provider = providers
        .iter()
        .find(|p| p.kid == header.kid)
        .ok_or_else(|| AssertionError::UnknownKey(header.kid.clone()))?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(AssertionError::Malformed(
            "the signature is not 64 bytes of base64url",
        ))?;
    let signed_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
    provider
        .public_key
        .verify_strict(
            &token.as_bytes()[..signed_len],
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| AssertionError::BadSignature)?;
    let claims: IdentityClaims = decode_json(claims, "the claims are not base64url JSON")?;
    if claims.iss != provider.issuer {
        return Err(AssertionError::Issuer {
            kid: provider.kid.clone(),
        });
    }
    let lifetime = claims.exp.saturating_sub(claims.iat);
    if lifetime <= 0 || lifetime > MAX_LIFETIME_SECS {
        return Err(AssertionError::Lifetime { lifetime });
    }
    let now = now.unix_timestamp();
    if claims.iat > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(AssertionError::NotYetValid { iat: claims.iat });
    }
    if now >= claims.exp {
        return Err(AssertionError::Expired { exp: claims.exp });
    }
    if claims.jti.trim().is_empty() {
        return Err(AssertionError::Claims("jti must not be empty"));
    }
    if claims.jti.len() > MAX_JTI_LEN {
        return Err(AssertionError::Claims("jti must be at most 128 bytes"));
    }
    if let Some(sub) = &claims.sub {
        if sub.trim().is_empty() || sub.len() > MAX_SUB_LEN || sub.chars().any(char::is_control) {
            return Err(AssertionError::Claims(
                "sub, when given, has 1 to 128 bytes and no control characters",
            ));
        }
    }
    if !METHODS.contains(&claims.method.as_str()) {
        return Err(AssertionError::Claims(
            "method must be face, payment_password, household or birth_certificate",
        ));
    }
    Ok(claims)
}

/// The subject the development provider gives a document when none is chosen
/// (`dev assert --subject` chooses one): derived from the document, so each document is its
/// own person unless the same subject is asserted for two.
pub fn dev_subject(doc_type: &str, doc_number: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("yuekang-dev-subject:{doc_type}:{doc_number}"));
    format!("dev-{}", hex::encode(&digest[..16]))
}

/// An assertion signed by the development provider (CLI `dev assert`, tests). The claims are
/// signed as given: `verify` judges them.
pub fn mint(provider: &DevProvider, claims: &IdentityClaims) -> String {
    let header = Header {
        alg: "EdDSA".to_owned(),
        typ: Some("JWT".to_owned()),
        kid: provider.kid.clone(),
    };
    let signed = format!("{}.{}", encode_json(&header), encode_json(claims));
    let signature = provider.signing_key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn encode_json<T: Serialize>(value: &T) -> String {
    // Structs of strings and integers always serialise.
    let Ok(json) = serde_json::to_vec(value) else {
        unreachable!("the header and claims serialise to JSON")
    };
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_json<T: serde::de::DeserializeOwned>(
    part: &str,
    problem: &'static str,
) -> Result<T, AssertionError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AssertionError::Malformed(problem))?;
    serde_json::from_slice(&bytes).map_err(|_| AssertionError::Malformed(problem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;
    use ed25519_dalek::SigningKey;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2022-03-01 08:00 UTC);

    fn claims(provider: &DevProvider) -> IdentityClaims {
        let iat = NOW.unix_timestamp();
        IdentityClaims {
            iss: provider.issuer.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat,
            exp: iat + DEFAULT_LIFETIME_SECS,
            doc_type: "resident_id".into(),
            doc_number: "11010519491231002X".into(),
            name: "张三".into(),
            phone: Some("13800001234".into()),
            method: "face".into(),
            aud: None,
            sub: Some("subject-0001".into()),
        }
    }

    fn setup() -> (Vec<ProviderKey>, DevProvider) {
        let (keys, dev) = Keys::generate_for_tests();
        (keys.providers, dev)
    }

    #[test]
    fn a_minted_assertion_verifies_to_its_claims() {
        let (providers, dev) = setup();
        let claims = claims(&dev);
        let token = mint(&dev, &claims);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(&token, &providers, NOW), Ok(claims.clone()));
        let without_phone = IdentityClaims {
            phone: None,
            ..claims
        };
        assert_eq!(
            verify(&mint(&dev, &without_phone), &providers, NOW),
            Ok(without_phone)
        );
    }

    #[test]
    fn tampered_claims_break_the_signature() {
        let (providers, dev) = setup();
        let token = mint(&dev, &claims(&dev));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut altered = claims(&dev);
        altered.doc_number = "440106199001011234".into();
        parts[1] = encode_json(&altered);
        let error = verify(&parts.join("."), &providers, NOW).expect_err("tampered");
        assert_eq!(error, AssertionError::BadSignature);
        assert_eq!(error.code(), "assertion.bad_signature");
    }

    #[test]
    fn unknown_keys_and_foreign_issuers_are_refused() {
        let (providers, dev) = setup();
        let stranger = DevProvider {
            kid: "elsewhere".into(),
            issuer: dev.issuer.clone(),
            signing_key: SigningKey::from_bytes(&[9; 32]),
        };
        let error = verify(&mint(&stranger, &claims(&dev)), &providers, NOW).expect_err("unknown");
        assert_eq!(error.code(), "assertion.unknown_key");
        // The right kid, signed by another key.
        let impostor = DevProvider {
            kid: dev.kid.clone(),
            ..stranger
        };
        assert_eq!(
            verify(&mint(&impostor, &claims(&dev)), &providers, NOW),
            Err(AssertionError::BadSignature)
        );
        let mut wrong_issuer = claims(&dev);
        wrong_issuer.iss = "someone-else".into();
        let error = verify(&mint(&dev, &wrong_issuer), &providers, NOW).expect_err("issuer");
        assert_eq!(error.code(), "assertion.issuer");
        // The development provider is unknown where it is not configured.
        assert_eq!(
            verify(&mint(&dev, &claims(&dev)), &[], NOW).map_err(|e| e.code()),
            Err("assertion.unknown_key")
        );
    }

    #[test]
    fn expiry_skew_and_lifetime_are_enforced() {
        let (providers, dev) = setup();
        let token = mint(&dev, &claims(&dev));
        let exp = NOW + time::Duration::seconds(DEFAULT_LIFETIME_SECS);
        assert!(verify(&token, &providers, exp - time::Duration::seconds(1)).is_ok());
        let error = verify(&token, &providers, exp).expect_err("expired");
        assert_eq!(error.code(), "assertion.expired");
        // Issued slightly in the future: accepted within the skew, refused beyond it.
        let early = NOW - time::Duration::seconds(CLOCK_SKEW_SECS);
        assert!(verify(&token, &providers, early).is_ok());
        let error =
            verify(&token, &providers, early - time::Duration::seconds(1)).expect_err("future");
        assert_eq!(error.code(), "assertion.not_yet_valid");
        let mut long = claims(&dev);
        long.exp = long.iat + MAX_LIFETIME_SECS + 1;
        let error = verify(&mint(&dev, &long), &providers, NOW).expect_err("lifetime");
        assert_eq!(error.code(), "assertion.lifetime");
        assert!(error.to_string().contains("at most 10 minutes"));
        long.exp = long.iat + MAX_LIFETIME_SECS;
        assert!(verify(&mint(&dev, &long), &providers, NOW).is_ok());
        let mut backwards = claims(&dev);
        backwards.exp = backwards.iat;
        assert_eq!(
            verify(&mint(&dev, &backwards), &providers, NOW).map_err(|e| e.code()),
            Err("assertion.lifetime")
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let (providers, dev) = setup();
        let token = mint(&dev, &claims(&dev));
        let rest = token.split_once('.').expect("dot").1;
        for alg in ["none", "HS256", "RS256"] {
            let header = encode_json(&Header {
                alg: alg.into(),
                typ: Some("JWT".into()),
                kid: dev.kid.clone(),
            });
            let error =
                verify(&format!("{header}.{rest}"), &providers, NOW).expect_err("algorithm");
            assert_eq!(error, AssertionError::Algorithm(alg.into()));
            assert_eq!(error.code(), "assertion.algorithm");
        }
    }

    #[test]
    fn bad_claims_are_refused() {
        let (providers, dev) = setup();
        let mut no_jti = claims(&dev);
        no_jti.jti = String::new();
        assert_eq!(
            verify(&mint(&dev, &no_jti), &providers, NOW),
            Err(AssertionError::Claims("jti must not be empty"))
        );
        let mut method = claims(&dev);
        method.method = "sms".into();
        let error = verify(&mint(&dev, &method), &providers, NOW).expect_err("method");
        assert_eq!(error.code(), "assertion.claims");
        for ok in METHODS {
            let mut c = claims(&dev);
            c.method = ok.into();
            assert!(verify(&mint(&dev, &c), &providers, NOW).is_ok(), "{ok}");
        }
        for bad in [String::new(), " ".into(), "a".repeat(129), "a\nb".into()] {
            let mut c = claims(&dev);
            c.sub = Some(bad.clone());
            assert_eq!(
                verify(&mint(&dev, &c), &providers, NOW),
                Err(AssertionError::Claims(
                    "sub, when given, has 1 to 128 bytes and no control characters"
                )),
                "{bad:?}"
            );
        }
        let mut no_sub = claims(&dev);
        no_sub.sub = None;
        assert_eq!(verify(&mint(&dev, &no_sub), &providers, NOW), Ok(no_sub));
    }

    #[test]
    fn malformed_tokens_are_refused_as_malformed() {
        let (providers, dev) = setup();
        let token = mint(&dev, &claims(&dev));
        let (header, _) = token.split_once('.').expect("dot");
        let signature = token.rsplit('.').next().expect("signature");
        let bad_json = URL_SAFE_NO_PAD.encode(b"{not json");
        for bad in [
            String::new(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            format!("!!.{bad_json}.{signature}"),
            format!("{bad_json}.{bad_json}.{signature}"),
            format!("{header}.{bad_json}.AAAA"),
        ] {
            let error = verify(&bad, &providers, NOW).expect_err(&bad);
            assert_eq!(error.code(), "assertion.malformed", "{bad}");
        }
        // Claims that are signed but not JSON are malformed, not a bad signature.
        let signed = format!("{header}.{bad_json}");
        let signature = dev.signing_key.sign(signed.as_bytes());
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        assert_eq!(
            verify(&token, &providers, NOW).map_err(|e| e.code()),
            Err("assertion.malformed")
        );
    }

    #[test]
    fn debug_output_hides_personal_data() {
        let (_, dev) = setup();
        let debug = format!("{:?}", claims(&dev));
        assert!(!debug.contains("张三"));
        assert!(!debug.contains("11010519491231002X"));
        assert!(!debug.contains("13800001234"));
        assert!(!debug.contains("subject-0001"));
    }
}
