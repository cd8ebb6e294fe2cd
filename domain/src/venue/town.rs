//! The region of a venue: a town-level division of Guangdong, as the shipped division data
//! knows it.

use crate::document::DocumentError;
use crate::region::RegionCode;

/// A town-level region of Guangdong, as the shipped division data knows it.
pub fn parse_town(raw: &str) -> Result<RegionCode, DocumentError> {
    let code = RegionCode::parse(raw, "region")?;
    if crate::divisions::guangdong().is_town(code.as_str()) {
        Ok(code)
    } else {
        Err(DocumentError {
            field: "region",
            code: "region.unknown_town",
            detail: format!(
                "{} is not a town-level division of Guangdong (9 digits, NBS 2023)",
                code.as_str()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_must_be_real_towns() {
        assert!(parse_town("440106001").is_ok());
        assert!(parse_town("441900003").is_ok(), "a Dongguan town");
        assert_eq!(
            parse_town("440106").expect_err("district").code,
            "region.unknown_town"
        );
        assert_eq!(
            parse_town("440106999").expect_err("unknown").code,
            "region.unknown_town"
        );
        assert_eq!(
            parse_town("4401x").expect_err("format").code,
            "region.format"
        );
    }
}
