//! What statistics may know of a person: sex and age band (from the document), never who
//! they are.

use serde::{Deserialize, Serialize};
use time::Date;

/// Sex, as the resident ID records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub const ALL: [Sex; 2] = [Sex::Male, Sex::Female];

    /// `male` or `female`, as events and read models write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Reads back what [`Sex::as_str`] wrote.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// An age band of the venue statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "0-17")]
    Under18,
    #[serde(rename = "18-39")]
    From18To39,
    #[serde(rename = "40-59")]
    From40To59,
    #[serde(rename = "60+")]
    From60,
}

impl AgeBand {
    pub const ALL: [AgeBand; 4] = [
        AgeBand::Under18,
        AgeBand::From18To39,
        AgeBand::From40To59,
        AgeBand::From60,
    ];

    /// The band of someone born on `born`, on `day`.
    pub fn on(born: Date, day: Date) -> Self {
        let mut age = day.year() - born.year();
        if (u8::from(day.month()), day.day()) < (u8::from(born.month()), born.day()) {
            age -= 1;
        }
        match age {
            ..=17 => AgeBand::Under18,
            18..=39 => AgeBand::From18To39,
            40..=59 => AgeBand::From40To59,
            _ => AgeBand::From60,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under18 => "0-17",
            AgeBand::From18To39 => "18-39",
            AgeBand::From40To59 => "40-59",
            AgeBand::From60 => "60+",
        }
    }

    /// Reads back what [`AgeBand::as_str`] wrote.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == raw)
    }
}

/// What the statistics may know of a checked person: sex and age band (from the
/// document), never who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demographics {
    pub sex: Option<Sex>,
    pub age_band: Option<AgeBand>,
}

impl Demographics {
    /// Sex and age band on `day` of someone with this sex and birth date (either unknown for
    /// documents that do not record them).
    pub fn on(sex: Option<Sex>, birth_date: Option<Date>, day: Date) -> Self {
        Self {
            sex,
            age_band: birth_date.map(|born| AgeBand::on(born, day)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn age_bands_turn_on_birthdays() {
        let day = date!(2026 - 03 - 02);
        assert_eq!(AgeBand::on(date!(2008 - 03 - 03), day), AgeBand::Under18);
        assert_eq!(AgeBand::on(date!(2008 - 03 - 02), day), AgeBand::From18To39);
        assert_eq!(AgeBand::on(date!(1986 - 03 - 02), day), AgeBand::From40To59);
        assert_eq!(AgeBand::on(date!(1966 - 03 - 03), day), AgeBand::From40To59);
        assert_eq!(AgeBand::on(date!(1966 - 03 - 02), day), AgeBand::From60);
    }

    #[test]
    fn names_round_trip_and_match_the_wire() {
        for sex in Sex::ALL {
            assert_eq!(Sex::parse(sex.as_str()), Some(sex));
            assert_eq!(
                serde_json::to_string(&sex).expect("json"),
                format!("\"{}\"", sex.as_str())
            );
        }
        assert_eq!(Sex::parse("other"), None);
        for band in AgeBand::ALL {
            assert_eq!(AgeBand::parse(band.as_str()), Some(band));
            assert_eq!(
                serde_json::to_string(&band).expect("json"),
                format!("\"{}\"", band.as_str())
            );
        }
        assert_eq!(AgeBand::parse("18+"), None);
    }

    #[test]
    fn demographics_keep_their_wire_form() {
        let d = Demographics::on(
            Some(Sex::Female),
            Some(date!(1990 - 03 - 07)),
            date!(2026 - 03 - 02),
        );
        assert_eq!(
            serde_json::to_string(&d).expect("json"),
            r#"{"sex":"female","age_band":"18-39"}"#
        );
        let unknown = Demographics::on(None, None, date!(2026 - 03 - 02));
        assert_eq!(
            serde_json::to_string(&unknown).expect("json"),
            r#"{"sex":null,"age_band":null}"#
        );
        let back: Demographics =
            serde_json::from_str(r#"{"sex":"male","age_band":"60+"}"#).expect("decode");
        assert_eq!(
            back,
            Demographics {
                sex: Some(Sex::Male),
                age_band: Some(AgeBand::From60)
            }
        );
    }
}
