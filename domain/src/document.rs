//! Identity documents, parsed: mainland resident ID, HK/Macao travel permit, Chinese
//! passport, birth medical certificate; and mainland mobile numbers. Each refusal names the
//! field and the rule it broke.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::demographics::Sex;

/// Why a document number or phone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct DocumentError {
    /// The JSON path of the refused field (`document.number`).
    pub field: &'static str,
    /// Stable dotted rule name (`resident_id.check_digit`).
    pub code: &'static str,
    pub detail: String,
}

fn refuse(field: &'static str, code: &'static str, detail: impl Into<String>) -> DocumentError {
    DocumentError {
        field,
        code,
        detail: detail.into(),
    }
}

impl crate::refusal::Refusal for DocumentError {
    fn code(&self) -> &'static str {
        self.code
    }

    fn kind(&self) -> crate::refusal::RefusalKind {
        crate::refusal::RefusalKind::Invalid { field: self.field }
    }
}

const NUMBER: &str = "document.number";

/// The keyed hash (HMAC-SHA256, lowercase hex) of `kind:number`: how a person is found by
/// document without the document being stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentDigest(String);

impl DocumentDigest {
    /// Accepts 64 lowercase hex characters.
    pub fn parse(raw: impl Into<String>) -> Result<Self, String> {
        let raw = raw.into();
        if raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(raw))
        } else {
            Err("a document digest is 64 lowercase hex characters".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentDigest {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(raw)
    }
}

impl From<DocumentDigest> for String {
    fn from(d: DocumentDigest) -> String {
        d.0
    }
}

impl std::fmt::Display for DocumentDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Province-level codes of GB/T 2260 (with 71 Taiwan, 81 Hong Kong, 82 Macao, and 83 used by
/// residence permits for Taiwan residents).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// ISO 7064 MOD 11-2 weights of the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The ISO 7064 MOD 11-2 check character of 17 digits.
pub fn resident_id_check_char(digits: &[u8; 17]) -> char {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// A mainland resident identity card number (居民身份证), 18 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct ResidentId {
    number: String,
    birth_date: Date,
    sex: Sex,
}

impl ResidentId {
    /// Parses `raw` (surrounding spaces ignored; a final lowercase `x` is read as `X`),
    /// checking the region prefix, a real birth date not after `today`, and the check
    /// character.
    pub fn parse(raw: &str, today: Date) -> Result<Self, DocumentError> {
        let raw = raw.trim();
        let chars: Vec<char> = raw.chars().collect();
        if chars.len() != 18 {
            return Err(refuse(
                NUMBER,
                "resident_id.length",
                format!("a resident ID has 18 characters, not {}", chars.len()),
            ));
        }
        let mut digits = [0u8; 17];
        for (i, c) in chars[..17].iter().enumerate() {
            digits[i] = c.to_digit(10).ok_or_else(|| {
                refuse(
                    NUMBER,
                    "resident_id.characters",
                    format!(
                        "character {} must be a digit (X may only be the last)",
                        i + 1
                    ),
                )
            })? as u8;
        }
        let last = chars[17].to_ascii_uppercase();
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(refuse(
                NUMBER,
                "resident_id.characters",
                "the last character must be a digit or X",
            ));
        }
        let province = digits[0] * 10 + digits[1];
        if !PROVINCES.contains(&province) {
            return Err(refuse(
                NUMBER,
                "resident_id.region",
                format!("{province:02} is not a province code (GB/T 2260)"),
            ));
        }
        let number_at = |from: usize, len: usize| {
            digits[from..from + len]
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(*d))
        };
        let birth_date = Month::try_from(number_at(10, 2) as u8)
            .ok()
            .and_then(|month| {
                Date::from_calendar_date(number_at(6, 4) as i32, month, number_at(12, 2) as u8).ok()
            })
            .filter(|d| d.year() >= 1900)
            .ok_or_else(|| {
                refuse(
                    NUMBER,
                    "resident_id.birth_date",
                    "characters 7 to 14 must be a real birth date (YYYYMMDD, from 1900)",
                )
            })?;
        if birth_date > today {
            return Err(refuse(
                NUMBER,
                "resident_id.future_birth_date",
                format!("the birth date {birth_date} is in the future"),
            ));
        }
        let expected = resident_id_check_char(&digits);
        if last != expected {
            return Err(refuse(
                NUMBER,
                "resident_id.check_digit",
                "the check character does not match the first 17 digits (ISO 7064 MOD 11-2)",
            ));
        }
        let sex = if digits[16] % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        let mut number: String = chars[..17].iter().collect();
        number.push(last);
        Ok(Self {
            number,
            birth_date,
            sex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }
}

impl From<ResidentId> for String {
    fn from(id: ResidentId) -> String {
        id.number
    }
}

/// Checks `raw` against a pattern of ASCII classes: `L` an uppercase letter, `D` a digit,
/// anything else itself.
fn shaped(raw: &str, pattern: &str) -> bool {
    raw.len() == pattern.len()
        && raw.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'L' => c.is_ascii_uppercase(),
            b'D' => c.is_ascii_digit(),
            p => c == p,
        })
}

/// A Mainland Travel Permit for Hong Kong and Macao Residents (港澳居民来往内地通行证):
/// `H` (Hong Kong) or `M` (Macao) and 8 digits, or 10 digits on older permits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HkMacaoPermit(String);

impl HkMacaoPermit {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let raw = raw.trim().to_ascii_uppercase();
        let ok = ["HDDDDDDDD", "MDDDDDDDD", "HDDDDDDDDDD", "MDDDDDDDDDD"]
            .iter()
            .any(|p| shaped(&raw, p));
        if ok {
            Ok(Self(raw))
        } else {
            Err(refuse(
                NUMBER,
                "hk_macao_permit.format",
                "a Hong Kong/Macao travel permit is H or M followed by 8 (or 10) digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Chinese ordinary passport: `E` and 8 digits, `E`, a letter (not I or O) and 7 digits, or
/// the older `G` and 8 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Passport(String);

impl Passport {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let raw = raw.trim().to_ascii_uppercase();
        let second = raw.as_bytes().get(1).copied().unwrap_or(b'I');
        let ok = shaped(&raw, "EDDDDDDDD")
            || shaped(&raw, "GDDDDDDDD")
            || (shaped(&raw, "ELDDDDDDD") && second != b'I' && second != b'O');
        if ok {
            Ok(Self(raw))
        } else {
            Err(refuse(
                NUMBER,
                "passport.format",
                "a Chinese passport number is E and 8 digits, E, a letter and 7 digits, or G and 8 digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A birth medical certificate (出生医学证明) number: one letter and nine digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BirthCertificate(String);

impl BirthCertificate {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let raw = raw.trim().to_ascii_uppercase();
        if shaped(&raw, "LDDDDDDDDD") {
            Ok(Self(raw))
        } else {
            Err(refuse(
                NUMBER,
                "birth_certificate.format",
                "a birth medical certificate number is one letter and nine digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mainland mobile number: 11 digits, `1` then `3`–`9` (a `+86` or `86` prefix and spaces
/// or dashes are dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MobilePhone(String);

impl MobilePhone {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("86").filter(|rest| rest.len() == 11))
            .unwrap_or(&compact);
        let b = digits.as_bytes();
        if b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
        {
            Ok(Self(digits.to_owned()))
        } else {
            Err(refuse(
                "phone",
                "phone.format",
                "a mainland mobile number has 11 digits and starts with 13 to 19",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `139****5678`, as shown to non-government roles.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// A name as shown to non-government roles: `张*强` (first and last character kept), `张*`
/// for two characters.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Any accepted document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Document {
    ResidentId(ResidentId),
    HkMacaoPermit(HkMacaoPermit),
    Passport(Passport),
    BirthCertificate(BirthCertificate),
}

impl Document {
    /// Parses a document of `kind` (`resident_id`, `hk_macao_permit`, `passport`,
    /// `birth_certificate`).
    pub fn parse(kind: &str, number: &str, today: Date) -> Result<Self, DocumentError> {
        match kind {
            "resident_id" => ResidentId::parse(number, today).map(Document::ResidentId),
            "hk_macao_permit" => HkMacaoPermit::parse(number).map(Document::HkMacaoPermit),
            "passport" => Passport::parse(number).map(Document::Passport),
            "birth_certificate" => BirthCertificate::parse(number).map(Document::BirthCertificate),
            other => Err(refuse(
                "document.type",
                "document.type",
                format!(
                    "{other:?} is not a document type: use resident_id, hk_macao_permit, passport or birth_certificate"
                ),
            )),
        }
    }

    /// The wire name of the document's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Document::ResidentId(_) => "resident_id",
            Document::HkMacaoPermit(_) => "hk_macao_permit",
            Document::Passport(_) => "passport",
            Document::BirthCertificate(_) => "birth_certificate",
        }
    }

    /// The normalised number.
    pub fn number(&self) -> &str {
        match self {
            Document::ResidentId(d) => d.as_str(),
            Document::HkMacaoPermit(d) => d.as_str(),
            Document::Passport(d) => d.as_str(),
            Document::BirthCertificate(d) => d.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 03 - 02);

    #[test]
    fn digests_are_parsed() {
        assert!(DocumentDigest::parse("a".repeat(64)).is_ok());
        assert!(DocumentDigest::parse("A".repeat(64)).is_err());
        assert!(DocumentDigest::parse("a".repeat(63)).is_err());
    }

    #[test]
    fn a_refused_field_is_an_invalid_refusal_with_its_rule() {
        use crate::refusal::{Refusal, RefusalKind};
        let error = Passport::parse("X1").expect_err("bad passport");
        assert_eq!(error.code(), "passport.format");
        assert_eq!(
            error.kind(),
            RefusalKind::Invalid {
                field: "document.number"
            }
        );
        assert!(error.extensions().is_empty());
    }

    fn with_check(first17: &str) -> String {
        let mut digits = [0u8; 17];
        for (i, c) in first17.chars().enumerate() {
            digits[i] = c.to_digit(10).expect("digit") as u8;
        }
        format!("{first17}{}", resident_id_check_char(&digits))
    }

    #[test]
    fn real_world_shaped_resident_ids() {
        // The standard's own example (GB 11643-1999): 11010519491231002X, a woman.
        let id = ResidentId::parse("11010519491231002X", TODAY).expect("valid");
        assert_eq!(
            (id.birth_date(), id.sex()),
            (date!(1949 - 12 - 31), Sex::Female)
        );
        let id = ResidentId::parse(" 11010519491231002x ", TODAY).expect("lowercase x");
        assert_eq!(id.as_str(), "11010519491231002X");
        // A Guangdong number: Shenzhen Futian 440304, born 1990-07-15, odd 17th digit: male.
        let gd = with_check("44030419900715123");
        let id = ResidentId::parse(&gd, TODAY).expect("valid");
        assert_eq!(
            (id.sex(), id.birth_date()),
            (Sex::Male, date!(1990 - 07 - 15))
        );
        // Born today is fine; leap day is a real date.
        ResidentId::parse(&with_check("44010620260302002"), TODAY).expect("born today");
        ResidentId::parse(&with_check("44010620000229002"), TODAY).expect("leap day");
    }

    #[test]
    fn each_refusal_names_its_rule() {
        let code = |raw: &str| ResidentId::parse(raw, TODAY).expect_err(raw).code;
        assert_eq!(code("1101051949123100"), "resident_id.length");
        assert_eq!(code("1101051949123100X1"), "resident_id.characters");
        assert_eq!(code("11010519491231002Y"), "resident_id.characters");
        assert_eq!(code(&with_check("99010519491231002")), "resident_id.region");
        assert_eq!(
            code(&with_check("44030419900230123")),
            "resident_id.birth_date"
        );
        assert_eq!(
            code(&with_check("44030419901315123")),
            "resident_id.birth_date"
        );
        assert_eq!(
            code(&with_check("44030418991231123")),
            "resident_id.birth_date"
        );
        assert_eq!(
            code(&with_check("44030420260303123")),
            "resident_id.future_birth_date"
        );
        assert_eq!(code("110105194912310021"), "resident_id.check_digit");
        let err = ResidentId::parse("110105194912310021", TODAY).expect_err("bad");
        assert_eq!(err.field, "document.number");
        assert!(err.detail.contains("MOD 11-2"));
    }

    #[test]
    fn other_documents() {
        assert!(HkMacaoPermit::parse("H12345678").is_ok());
        assert!(HkMacaoPermit::parse("m1234567890").is_ok());
        assert_eq!(
            HkMacaoPermit::parse("X12345678").expect_err("bad").code,
            "hk_macao_permit.format"
        );
        assert!(Passport::parse("E12345678").is_ok());
        assert!(Passport::parse("EA1234567").is_ok());
        assert!(Passport::parse("G12345678").is_ok());
        assert!(Passport::parse("EO1234567").is_err(), "O is not used");
        assert_eq!(
            Passport::parse("E1234567").expect_err("short").code,
            "passport.format"
        );
        assert!(BirthCertificate::parse("O440123456").is_ok());
        assert_eq!(
            BirthCertificate::parse("4401234567")
                .expect_err("no letter")
                .code,
            "birth_certificate.format"
        );
        assert_eq!(
            Document::parse("driving_licence", "x", TODAY)
                .expect_err("type")
                .field,
            "document.type"
        );
        let doc = Document::parse("passport", " e12345678", TODAY).expect("passport");
        assert_eq!((doc.kind(), doc.number()), ("passport", "E12345678"));
    }

    #[test]
    fn phones_and_masks() {
        let phone = MobilePhone::parse("+86 139-1234-5678").expect("phone");
        assert_eq!(phone.as_str(), "13912345678");
        assert_eq!(phone.masked(), "139****5678");
        assert!(MobilePhone::parse("12912345678").is_err());
        assert!(MobilePhone::parse("1391234567").is_err());
        assert_eq!(
            MobilePhone::parse("02012345678")
                .expect_err("landline")
                .field,
            "phone"
        );
        assert_eq!(mask_name("张三强"), "张*强");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("王"), "*");
    }

    proptest! {
        #[test]
        fn the_computed_check_character_is_accepted(region in 0usize..35, days in 0i64..40_000, seq in 0u32..1000) {
            let birth = date!(1920 - 01 - 01) + time::Duration::days(days);
            prop_assume!(birth <= TODAY);
            let first17 = format!(
                "{:02}0101{:04}{:02}{:02}{:03}",
                PROVINCES[region], birth.year(), u8::from(birth.month()), birth.day(), seq
            );
            let id = ResidentId::parse(&with_check(&first17), TODAY).expect("valid");
            prop_assert_eq!(id.birth_date(), birth);
            prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
        }

        #[test]
        fn any_other_check_character_is_refused(days in 0i64..30_000, seq in 0u32..1000, wrong in 0usize..11) {
            let birth = date!(1930 - 01 - 01) + time::Duration::days(days);
            let first17 = format!("440304{:04}{:02}{:02}{:03}", birth.year(), u8::from(birth.month()), birth.day(), seq);
            let right = with_check(&first17);
            let candidate = format!("{first17}{}", CHECK[wrong]);
            prop_assume!(candidate != right);
            prop_assert_eq!(ResidentId::parse(&candidate, TODAY).expect_err("wrong check").code, "resident_id.check_digit");
        }

        #[test]
        fn changing_any_one_digit_is_caught(days in 0i64..30_000, seq in 0u32..1000, at in 6usize..17, delta in 1u8..10) {
            // A single-digit typo anywhere after the region is caught by the check character
            // (or makes the date unreal).
            let birth = date!(1930 - 01 - 01) + time::Duration::days(days);
            let good = with_check(&format!("440304{:04}{:02}{:02}{:03}", birth.year(), u8::from(birth.month()), birth.day(), seq));
            let mut bytes = good.into_bytes();
            bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).expect("ascii");
            prop_assert!(ResidentId::parse(&typo, TODAY).is_err());
        }
    }
}
