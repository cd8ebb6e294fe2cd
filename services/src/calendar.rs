//! The day a read asks for: `?date=YYYY-MM-DD` (China Standard Time), today when absent,
//! never a future day.

use time::{Date, OffsetDateTime};

use crate::ServiceError;

/// The day `raw` names (`YYYY-MM-DD`), today (CST) when absent: `422` for another format or
/// a future day.
pub fn asked_day(raw: Option<&str>, now: OffsetDateTime) -> Result<Date, ServiceError> {
    let today = domain::week::today(now);
    match raw {
        None => Ok(today),
        Some(raw) => {
            let date = Date::parse(
                raw,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| ServiceError::invalid("date", "date.format", "date is YYYY-MM-DD"))?;
            if date > today {
                return Err(ServiceError::invalid(
                    "date",
                    "date.future",
                    "date is today or earlier (China Standard Time)",
                ));
            }
            Ok(date)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn the_day_is_today_in_cst_or_a_past_day() {
        let now = datetime!(2026-03-01 17:00 UTC); // 01:00 on 2 March in CST
        assert_eq!(asked_day(None, now).ok(), Some(date!(2026 - 03 - 02)));
        assert_eq!(
            asked_day(Some("2026-02-27"), now).ok(),
            Some(date!(2026 - 02 - 27))
        );
        assert_eq!(
            asked_day(Some("2026-03-03"), now)
                .map_err(|e| e.code())
                .err(),
            Some("validation.failed")
        );
        assert!(asked_day(Some("March 1"), now).is_err());
    }
}
