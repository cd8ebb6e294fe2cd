//! Hostile query strings: paging (`limit`, `after`) and dates (`date=`). Anything is either
//! accepted within the documented bounds or refused naming the field; nothing panics.

use proptest::prelude::*;
use services::page::{PageRequest, MAX_LIMIT};
use services::ServiceError;
use time::macros::datetime;

fn field_of(error: &ServiceError) -> Option<String> {
    match error {
        ServiceError::Invalid { errors, .. } => errors.first().map(|e| e.field.clone()),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn paging_is_bounded_or_refused_by_field(limit in any::<Option<u32>>(), after in any::<Option<String>>()) {
        match PageRequest::parse(limit, after.as_deref()) {
            Ok(page) => {
                prop_assert!((1..=MAX_LIMIT).contains(&page.limit));
                prop_assert_eq!(page.after.is_some(), after.is_some());
            }
            Err(error) => {
                let field = field_of(&error);
                prop_assert!(field.as_deref() == Some("limit") || field.as_deref() == Some("after"), "{error:?}");
            }
        }
    }

    #[test]
    fn dates_parse_or_are_refused_by_field(raw in any::<String>()) {
        let now = datetime!(2026-03-02 01:00 UTC);
        if let Err(error) = services::calendar::asked_day(Some(&raw), now) {
            let field = field_of(&error);
            prop_assert_eq!(field.as_deref(), Some("date"), "{:?}", error);
        }
    }
}
