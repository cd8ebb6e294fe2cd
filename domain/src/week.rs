//! Natural weeks and days in China Standard Time (UTC+8): Monday 00:00 to Sunday 24:00.

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};

/// China Standard Time.
pub const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The day (CST) holding the instant `now`.
pub fn today(now: OffsetDateTime) -> Date {
    now.to_offset(CST).date()
}

/// Monday 00:00 CST of the natural week holding `t`, as an instant at +08:00.
pub fn week_start(t: OffsetDateTime) -> OffsetDateTime {
    let local = t.to_offset(CST);
    let days_since_monday = i64::from(local.weekday().number_days_from_monday());
    let monday = local.date() - Duration::days(days_since_monday);
    monday.midnight().assume_offset(CST)
}

/// Monday 00:00 CST of the week after the one holding `t`.
pub fn next_week_start(t: OffsetDateTime) -> OffsetDateTime {
    week_start(t) + Duration::weeks(1)
}

/// Whether `a` and `b` fall in the same natural week (CST).
pub fn same_week(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    week_start(a) == week_start(b)
}

/// Whether an edit at `at` is allowed after the last one at `last`: once per natural week.
/// `Err` carries when the next edit is allowed (the next Monday 00:00 CST).
pub fn weekly_edit_allowed(
    last: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> Result<(), OffsetDateTime> {
    match last {
        Some(last) if same_week(last, at) => Err(next_week_start(at)),
        Some(_) | None => Ok(()),
    }
}

/// `t` as RFC 3339 in CST (`2026-03-09T00:00:00+08:00`), as answers show instants.
pub fn cst_rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(CST).format(&Rfc3339).unwrap_or_default()
}

/// The weekday of `t` in CST.
pub fn weekday(t: OffsetDateTime) -> Weekday {
    t.to_offset(CST).weekday()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn weeks_run_monday_to_sunday_in_cst() {
        let sunday_last_second = datetime!(2026-03-08 23:59:59 +08:00);
        let monday_midnight = datetime!(2026-03-09 00:00:00 +08:00);
        assert_eq!(
            week_start(sunday_last_second),
            datetime!(2026-03-02 00:00 +08:00)
        );
        assert_eq!(week_start(monday_midnight), monday_midnight);
        assert!(!same_week(sunday_last_second, monday_midnight));
        // Monday 00:30 CST is Sunday 16:30 UTC: still the new week.
        let monday_half_past = datetime!(2026-03-08 16:30 UTC);
        assert_eq!(week_start(monday_half_past), monday_midnight);
        assert_eq!(weekday(monday_half_past), Weekday::Monday);
        assert_eq!(next_week_start(sunday_last_second), monday_midnight);
        assert_eq!(
            next_week_start(datetime!(2026-03-02 09:00 +08:00)).to_string(),
            "2026-03-09 0:00:00.0 +08:00:00"
        );
    }

    #[test]
    fn the_day_of_an_instant_is_its_cst_day() {
        use time::macros::date;
        assert_eq!(
            today(datetime!(2026-03-08 16:00 UTC)),
            date!(2026 - 03 - 09)
        );
        assert_eq!(
            today(datetime!(2026-03-08 15:59:59 UTC)),
            date!(2026 - 03 - 08)
        );
    }

    #[test]
    fn instants_are_shown_in_cst() {
        assert_eq!(
            cst_rfc3339(datetime!(2026-03-08 16:30 UTC)),
            "2026-03-09T00:30:00+08:00"
        );
    }
}
