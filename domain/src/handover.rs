//! What every admin handover shares (grids and venues): the admin names a successor by
//! document and gets a one-time token valid 24 hours; only the successor, signed in with that
//! document, accepts it, so nothing says whether the document is registered and nobody becomes
//! an admin without consenting.

use time::{Duration, OffsetDateTime};

use crate::document::DocumentDigest;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};

/// How long a handover token stays valid.
pub const HANDOVER_VALIDITY: Duration = Duration::hours(24);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    #[error("only the admin hands it over")]
    NotAdmin,
    #[error(
        "this handover token is not valid (never issued, already used, or replaced by a newer one)"
    )]
    InvalidToken,
    #[error("this handover token expired at {0}; the admin issues a new one")]
    Expired(OffsetDateTime),
    #[error("this handover token names another person")]
    NotTheSuccessor,
}

impl Refusal for HandoverError {
    fn code(&self) -> &'static str {
        match self {
            HandoverError::NotAdmin | HandoverError::NotTheSuccessor => FORBIDDEN,
            HandoverError::InvalidToken => "handover.invalid_token",
            HandoverError::Expired(_) => "handover.expired",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            HandoverError::NotAdmin | HandoverError::NotTheSuccessor => RefusalKind::Forbidden,
            HandoverError::InvalidToken | HandoverError::Expired(_) => RefusalKind::Conflict,
        }
    }
}

/// Whether the token presented (its hash), by someone holding `by_digest`, at `at`, accepts
/// the offer (its token hash, successor and expiry): the token first, then its age, then who.
pub(crate) fn check_acceptance(
    (offered, successor, expires_at): (&String, &DocumentDigest, &OffsetDateTime),
    (token_hash, by_digest, at): (&String, &DocumentDigest, &OffsetDateTime),
) -> Result<(), HandoverError> {
    if token_hash != offered {
        return Err(HandoverError::InvalidToken);
    }
    if at > expires_at {
        return Err(HandoverError::Expired(*expires_at));
    }
    if by_digest != successor {
        return Err(HandoverError::NotTheSuccessor);
    }
    Ok(())
}
