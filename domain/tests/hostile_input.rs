//! Hostile input to the domain's parsers of outside values: documents of every type, mobile
//! phones, division codes, binding codes. Arbitrary strings are parsed or refused with the
//! field and a stable code; nothing panics.

use domain::code::BindingCode;
use domain::document::{Document, MobilePhone};
use domain::region::RegionCode;
use proptest::prelude::*;
use time::macros::date;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn documents_parse_or_are_refused(
        kind in prop::sample::select(vec!["resident_id", "hk_macao_permit", "passport", "birth_certificate", "other", ""]),
        number in any::<String>(),
    ) {
        if let Err(error) = Document::parse(kind, &number, date!(2026 - 03 - 02)) {
            prop_assert!(error.field.starts_with("document."), "{:?}", error);
            prop_assert!(error.code.contains('.'));
        }
    }

    #[test]
    fn digit_strings_as_resident_ids_never_panic(number in "[0-9Xx]{0,20}") {
        let _ = Document::parse("resident_id", &number, date!(2026 - 03 - 02));
    }

    #[test]
    fn phones_regions_and_codes_parse_or_are_refused(raw in any::<String>()) {
        if let Err(error) = MobilePhone::parse(&raw) {
            prop_assert_eq!(error.code, "phone.format");
        }
        if let Err(error) = RegionCode::parse(&raw, "region") {
            prop_assert_eq!(error.field, "region");
        }
        if let Err(error) = BindingCode::parse(&raw, "code") {
            prop_assert_eq!(error.field, "code");
        }
    }
}
