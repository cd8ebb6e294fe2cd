//! Binding codes: 8 digits, the first naming the kind (`1` organisation declaration code, `3`
//! venue code, `6` grid code), six drawn at random, and a Damm check digit, which catches
//! every single mistyped digit and every swap of two adjacent digits before any lookup.

use serde::{Deserialize, Serialize};

use crate::document::DocumentError;

/// What a code binds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Org,
    Venue,
    Grid,
}

impl CodeKind {
    pub fn digit(self) -> u8 {
        match self {
            CodeKind::Org => 1,
            CodeKind::Venue => 3,
            CodeKind::Grid => 6,
        }
    }

    /// What a person calls it.
    pub fn describe(self) -> &'static str {
        match self {
            CodeKind::Org => "an organisation declaration code",
            CodeKind::Venue => "a venue code",
            CodeKind::Grid => "a grid code",
        }
    }

    fn from_digit(d: u8) -> Option<Self> {
        match d {
            1 => Some(CodeKind::Org),
            3 => Some(CodeKind::Venue),
            6 => Some(CodeKind::Grid),
            _ => None,
        }
    }
}

/// The Damm algorithm's quasigroup of order 10.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm check digit of `digits`.
pub fn damm(digits: &[u8]) -> u8 {
    digits
        .iter()
        .fold(0u8, |interim, d| DAMM[interim as usize][*d as usize])
}

/// A well-formed binding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BindingCode([u8; 8]);

impl BindingCode {
    /// The code of `kind` whose six middle digits are `serial` (0 to 999 999).
    pub fn new(kind: CodeKind, serial: u32) -> Self {
        let mut d = [0u8; 8];
        d[0] = kind.digit();
        let mut n = serial % 1_000_000;
        for slot in d[1..7].iter_mut().rev() {
            // n % 10 < 10 always fits a digit.
            *slot = u8::try_from(n % 10).unwrap_or(0);
            n /= 10;
        }
        d[7] = damm(&d[..7]);
        Self(d)
    }

    /// Parses any kind of code: 8 digits with a valid check digit.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, DocumentError> {
        let raw = raw.trim();
        let refuse = |code, detail: &str| DocumentError {
            field,
            code,
            detail: detail.into(),
        };
        if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse("code.format", "a code has 8 digits"));
        }
        let mut d = [0u8; 8];
        for (slot, b) in d.iter_mut().zip(raw.bytes()) {
            *slot = b - b'0';
        }
        if CodeKind::from_digit(d[0]).is_none() {
            return Err(refuse(
                "code.format",
                "a code starts with 1 (organisation), 3 (venue) or 6 (grid)",
            ));
        }
        if damm(&d) != 0 {
            return Err(refuse(
                "code.check_digit",
                "the code's check digit does not match: a digit is mistyped",
            ));
        }
        Ok(Self(d))
    }

    /// Parses a code that must be of `kind`: another kind gets `code.wrong_kind` saying
    /// what it is.
    pub fn parse_kind(
        raw: &str,
        kind: CodeKind,
        field: &'static str,
    ) -> Result<Self, DocumentError> {
        let code = Self::parse(raw, field)?;
        if code.kind() == kind {
            Ok(code)
        } else {
            Err(DocumentError {
                field,
                code: "code.wrong_kind",
                detail: format!(
                    "this is {}, not {}",
                    code.kind().describe(),
                    kind.describe()
                ),
            })
        }
    }

    pub fn kind(&self) -> CodeKind {
        CodeKind::from_digit(self.0[0]).unwrap_or(CodeKind::Org)
    }

    /// The six middle digits as a number (0 to 999 999).
    pub fn serial(&self) -> u32 {
        self.0[1..7].iter().fold(0, |n, &d| n * 10 + u32::from(d))
    }

    pub fn as_string(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl std::fmt::Display for BindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl TryFrom<String> for BindingCode {
    type Error = DocumentError;
    fn try_from(raw: String) -> Result<Self, DocumentError> {
        Self::parse(&raw, "code")
    }
}

impl From<BindingCode> for String {
    fn from(c: BindingCode) -> String {
        c.as_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_carry_their_kind_and_a_check_digit() {
        let org = BindingCode::new(CodeKind::Org, 123_456);
        assert_eq!(org.as_string().len(), 8);
        assert!(org.as_string().starts_with("1123456"));
        assert_eq!(BindingCode::parse(&org.as_string(), "code"), Ok(org));
        let venue = BindingCode::new(CodeKind::Venue, 7).as_string();
        let e = BindingCode::parse_kind(&venue, CodeKind::Org, "code").expect_err("venue");
        assert_eq!(e.code, "code.wrong_kind");
        assert!(e.detail.contains("a venue code"));
        let grid = BindingCode::new(CodeKind::Grid, 7).as_string();
        let e = BindingCode::parse_kind(&grid, CodeKind::Org, "code").expect_err("grid");
        assert!(e.detail.contains("a grid code"));
        assert_eq!(
            BindingCode::parse("1234567", "code")
                .expect_err("short")
                .code,
            "code.format"
        );
        assert_eq!(
            BindingCode::parse("2000000x", "code").expect_err("x").code,
            "code.format"
        );
        assert_eq!(
            BindingCode::parse("20000000", "code")
                .expect_err("kind")
                .code,
            "code.format"
        );
    }

    proptest! {
        #[test]
        fn any_single_mistyped_digit_is_caught(serial in 0u32..1_000_000, pos in 0usize..8, delta in 1u8..10) {
            let code = BindingCode::new(CodeKind::Org, serial).as_string();
            let mut bytes = code.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).expect("digits");
            prop_assert!(BindingCode::parse(&typo, "code").is_err());
        }

        #[test]
        fn any_adjacent_swap_is_caught(serial in 0u32..1_000_000, pos in 0usize..7) {
            let code = BindingCode::new(CodeKind::Org, serial).as_string();
            let mut bytes = code.into_bytes();
            prop_assume!(bytes[pos] != bytes[pos + 1]);
            bytes.swap(pos, pos + 1);
            let typo = String::from_utf8(bytes).expect("digits");
            prop_assert!(BindingCode::parse(&typo, "code").is_err());
        }
    }
}
