//! Refusals: what every domain error says of itself (a stable dotted code and a kind), so the
//! layers above map kinds to their own answers without a hand-written mapper per error.

/// What kind of refusal a broken rule is (the layers above map kinds to their own answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    Invalid {
        field: &'static str,
    },
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    /// What the request names existed and has ended for good (a dissolved grid).
    Gone,
}

/// A broken domain rule: its stable dotted code, its kind, and (Display) the sentence naming the rule.
pub trait Refusal: std::error::Error {
    fn code(&self) -> &'static str;
    fn kind(&self) -> RefusalKind;
    /// Extra members of the answer (for example `next_allowed_at` as RFC 3339 in CST).
    fn extensions(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// The code of every forbidden refusal.
pub(crate) const FORBIDDEN: &str = "auth.forbidden";
