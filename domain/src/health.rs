//! Health declarations (健康申报) and entry registrations (入粤登记), parsed: every refusal
//! names the field and the rule.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::document::DocumentError;
use crate::region::RegionCode;

fn refuse(field: &'static str, code: &'static str, detail: impl Into<String>) -> DocumentError {
    DocumentError {
        field,
        code,
        detail: detail.into(),
    }
}

/// A temperature band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Normal,
    Fever,
}

impl Band {
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, DocumentError> {
        match raw {
            "normal" => Ok(Band::Normal),
            "fever" => Ok(Band::Fever),
            other => Err(refuse(
                field,
                "band.unknown",
                format!("{other:?} is not a band: use normal or fever"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Normal => "normal",
            Band::Fever => "fever",
        }
    }
}

/// A body temperature in tenths of a degree Celsius, 34.0 to 43.0 °C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Temperature(u16);

impl Temperature {
    /// From 37.3 °C up is fever (the threshold used at Guangdong checkpoints).
    pub const FEVER_FROM_TENTHS: u16 = 373;

    pub fn parse(celsius: f64, field: &'static str) -> Result<Self, DocumentError> {
        if !celsius.is_finite() || !(34.0..=43.0).contains(&celsius) {
            return Err(refuse(
                field,
                "temperature.range",
                "a body temperature is between 34.0 and 43.0 °C",
            ));
        }
        // Rounded to one decimal; the range check above bounds the cast.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let tenths = (celsius * 10.0).round() as u16;
        Ok(Self(tenths))
    }

    pub fn celsius(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    pub fn band(self) -> Band {
        if self.0 >= Self::FEVER_FROM_TENTHS {
            Band::Fever
        } else {
            Band::Normal
        }
    }
}

impl TryFrom<f64> for Temperature {
    type Error = DocumentError;
    fn try_from(c: f64) -> Result<Self, DocumentError> {
        Self::parse(c, "temperature_c")
    }
}

impl From<Temperature> for f64 {
    fn from(t: Temperature) -> f64 {
        t.celsius()
    }
}

/// A symptom a declaration may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    Fever,
    Cough,
    Fatigue,
    SoreThroat,
    ShortnessOfBreath,
    Diarrhoea,
    LossOfSmellOrTaste,
    MuscleAche,
    Other,
}

impl Symptom {
    pub const ALL: [Symptom; 9] = [
        Symptom::Fever,
        Symptom::Cough,
        Symptom::Fatigue,
        Symptom::SoreThroat,
        Symptom::ShortnessOfBreath,
        Symptom::Diarrhoea,
        Symptom::LossOfSmellOrTaste,
        Symptom::MuscleAche,
        Symptom::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Symptom::Fever => "fever",
            Symptom::Cough => "cough",
            Symptom::Fatigue => "fatigue",
            Symptom::SoreThroat => "sore_throat",
            Symptom::ShortnessOfBreath => "shortness_of_breath",
            Symptom::Diarrhoea => "diarrhoea",
            Symptom::LossOfSmellOrTaste => "loss_of_smell_or_taste",
            Symptom::MuscleAche => "muscle_ache",
            Symptom::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A place visited: 1 to 100 characters of text, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Place(String);

impl Place {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn text(
    raw: &str,
    max: usize,
    field: &'static str,
    code: &'static str,
) -> Result<String, DocumentError> {
    let trimmed = raw.trim();
    let n = trimmed.chars().count();
    if n == 0 || n > max || trimmed.chars().any(char::is_control) {
        return Err(refuse(
            field,
            code,
            format!("{field} is 1 to {max} characters of text"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A health reading: a temperature or a band, and symptoms (what a declaration and a grid
/// visit record alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    pub temperature_c: Option<Temperature>,
    pub band: Band,
    pub symptoms: Vec<Symptom>,
}

impl Reading {
    /// Parses a reading. A temperature gives the band (fever from 37.3 °C); a band sent with
    /// it must agree; one of the two is required; symptoms are known ones, each once.
    pub fn parse(
        temperature_c: Option<f64>,
        band: Option<&str>,
        symptoms: &[String],
    ) -> Result<Self, Vec<DocumentError>> {
        let mut errors = Vec::new();
        let temperature = match temperature_c.map(|c| Temperature::parse(c, "temperature_c")) {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let sent_band = match band.map(|b| Band::parse(b, "band")) {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => None,
        };
        let band = match (temperature, sent_band) {
            (Some(t), Some(b)) if t.band() != b => {
                errors.push(refuse(
                    "band",
                    "band.mismatch",
                    format!(
                        "{:.1} °C is {}, not {}",
                        t.celsius(),
                        t.band().as_str(),
                        b.as_str()
                    ),
                ));
                None
            }
            (Some(t), _) => Some(t.band()),
            (None, Some(b)) => Some(b),
            (None, None) => {
                if temperature_c.is_none() && band.is_none() {
                    errors.push(refuse(
                        "temperature_c",
                        "declaration.temperature_or_band",
                        "give temperature_c or band",
                    ));
                }
                None
            }
        };
        let mut parsed = Vec::new();
        for raw in symptoms {
            match Symptom::parse(raw) {
                Some(s) if !parsed.contains(&s) => parsed.push(s),
                Some(_) => {}
                None => errors.push(refuse(
                    "symptoms",
                    "symptom.unknown",
                    format!(
                        "{raw:?} is not a symptom: use {}",
                        Symptom::ALL.map(Symptom::as_str).join(", ")
                    ),
                )),
            }
        }
        parsed.sort();
        match band {
            Some(band) if errors.is_empty() => Ok(Self {
                temperature_c: temperature,
                band,
                symptoms: parsed,
            }),
            _ => Err(errors),
        }
    }

    /// Fever by band or as a symptom.
    pub fn has_fever(&self) -> bool {
        self.band == Band::Fever || self.symptoms.contains(&Symptom::Fever)
    }
}

/// What a declaration says, as the client sent it (before parsing).
#[derive(Debug, Clone, Default)]
pub struct DeclarationInput<'a> {
    pub temperature_c: Option<f64>,
    pub band: Option<&'a str>,
    pub symptoms: &'a [String],
    pub contact_14d: bool,
    pub visited: &'a [String],
    pub region: &'a str,
}

/// A health declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub temperature_c: Option<Temperature>,
    pub band: Band,
    pub symptoms: Vec<Symptom>,
    /// Contact with confirmed or suspected cases in the last 14 days.
    pub contact_14d: bool,
    /// Places visited in the last 14 days.
    pub visited: Vec<Place>,
    /// Current region.
    pub region: RegionCode,
}

impl Declaration {
    pub const MAX_VISITED: usize = 30;

    /// Parses a declaration. A temperature gives the band (fever from 37.3 °C); a band sent
    /// with it must agree; one of the two is required.
    pub fn parse(input: &DeclarationInput<'_>) -> Result<Self, Vec<DocumentError>> {
        let mut errors = Vec::new();
        let reading = Reading::parse(input.temperature_c, input.band, input.symptoms)
            .map_err(|e| errors.extend(e))
            .ok();
        if input.visited.len() > Self::MAX_VISITED {
            errors.push(refuse(
                "visited",
                "visited.too_many",
                format!("list at most {} places", Self::MAX_VISITED),
            ));
        }
        let mut visited = Vec::new();
        for raw in input.visited.iter().take(Self::MAX_VISITED) {
            match text(raw, 100, "visited", "visited.text") {
                Ok(p) => visited.push(Place(p)),
                Err(e) => errors.push(e),
            }
        }
        let region = RegionCode::parse(input.region, "region").map_err(|e| errors.push(e));
        match (reading, region) {
            (Some(reading), Ok(region)) if errors.is_empty() => Ok(Self {
                temperature_c: reading.temperature_c,
                band: reading.band,
                symptoms: reading.symptoms,
                contact_14d: input.contact_14d,
                visited,
                region,
            }),
            _ => Err(errors),
        }
    }

    /// Fever by band or as a symptom.
    pub fn has_fever(&self) -> bool {
        self.band == Band::Fever || self.symptoms.contains(&Symptom::Fever)
    }
}

/// How a traveller arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Flight,
    Train,
    Coach,
    Ship,
    Car,
    Other,
}

impl Transport {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "flight" => Some(Transport::Flight),
            "train" => Some(Transport::Train),
            "coach" => Some(Transport::Coach),
            "ship" => Some(Transport::Ship),
            "car" => Some(Transport::Car),
            "other" => Some(Transport::Other),
            _ => None,
        }
    }

    /// Public transport has a trip number (flight, train, coach, ship number).
    fn needs_trip_number(self) -> bool {
        match self {
            Transport::Flight | Transport::Train | Transport::Coach | Transport::Ship => true,
            Transport::Car | Transport::Other => false,
        }
    }
}

/// An entry registration, as sent.
#[derive(Debug, Clone, Default)]
pub struct EntryInput<'a> {
    pub origin: &'a str,
    pub transport: &'a str,
    pub trip_number: Option<&'a str>,
    pub arrival_date: &'a str,
    pub destination: &'a str,
}

/// An entry registration (入粤登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the trip started (a city or country, as text).
    pub origin: String,
    pub transport: Transport,
    pub trip_number: Option<String>,
    pub arrival_date: Date,
    /// A Guangdong region code.
    pub destination: RegionCode,
}

impl Entry {
    /// Parses an entry registration; the arrival date lies within 30 days of `today`.
    pub fn parse(input: &EntryInput<'_>, today: Date) -> Result<Self, Vec<DocumentError>> {
        let mut errors = Vec::new();
        let origin = text(input.origin, 100, "origin", "origin.text").map_err(|e| errors.push(e));
        let transport = Transport::parse(input.transport).ok_or_else(|| {
            errors.push(refuse(
                "transport",
                "transport.unknown",
                format!(
                    "{:?} is not a transport: use flight, train, coach, ship, car or other",
                    input.transport
                ),
            ))
        });
        let trip_number = match input.trip_number.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t)
                if t.len() <= 20 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
            {
                Some(t.to_ascii_uppercase())
            }
            Some(_) => {
                errors.push(refuse(
                    "trip_number",
                    "trip_number.format",
                    "a trip number is 1 to 20 letters, digits or '-'",
                ));
                None
            }
            None => None,
        };
        if let Ok(t) = transport {
            if t.needs_trip_number() && trip_number.is_none() && input.trip_number.is_none() {
                errors.push(refuse(
                    "trip_number",
                    "trip_number.required",
                    "a flight, train, coach or ship needs its trip number",
                ));
            }
        }
        let arrival = Date::parse(
            input.arrival_date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| {
            errors.push(refuse(
                "arrival_date",
                "date.format",
                "arrival_date is a date YYYY-MM-DD",
            ))
        })
        .and_then(|d| {
            if (d - today).abs() > Duration::days(30) {
                errors.push(refuse(
                    "arrival_date",
                    "arrival_date.range",
                    "arrival_date lies within 30 days of today",
                ));
                Err(())
            } else {
                Ok(d)
            }
        });
        let destination = RegionCode::parse(input.destination, "destination")
            .map_err(|e| errors.push(e))
            .and_then(|r| {
                if r.province() == "44" {
                    Ok(r)
                } else {
                    errors.push(refuse(
                        "destination",
                        "destination.guangdong",
                        "the destination is a Guangdong region (code starting 44)",
                    ));
                    Err(())
                }
            });
        match (origin, transport, arrival, destination) {
            (Ok(origin), Ok(transport), Ok(arrival_date), Ok(destination)) if errors.is_empty() => {
                Ok(Self {
                    origin,
                    transport,
                    trip_number,
                    arrival_date,
                    destination,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn declaration(
        temperature: Option<f64>,
        band: Option<&'static str>,
    ) -> DeclarationInput<'static> {
        DeclarationInput {
            temperature_c: temperature,
            band,
            symptoms: &[],
            contact_14d: false,
            visited: &[],
            region: "440106",
        }
    }

    fn codes(errors: Vec<DocumentError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn temperature_gives_the_band() {
        let d = Declaration::parse(&declaration(Some(37.3), None)).expect("valid");
        assert_eq!(d.band, Band::Fever);
        let d = Declaration::parse(&declaration(Some(37.2), None)).expect("valid");
        assert_eq!(d.band, Band::Normal);
        let d = Declaration::parse(&declaration(None, Some("fever"))).expect("valid");
        assert_eq!(d.temperature_c, None);
        assert!(d.has_fever());
    }

    #[test]
    fn declarations_refuse_what_is_wrong_naming_the_field() {
        let e = Declaration::parse(&declaration(Some(36.5), Some("fever"))).expect_err("refused");
        assert_eq!(codes(e), ["band.mismatch"]);
        let e = Declaration::parse(&declaration(Some(45.0), None)).expect_err("refused");
        assert_eq!(e[0].field, "temperature_c");
        let e = Declaration::parse(&declaration(None, None)).expect_err("refused");
        assert_eq!(codes(e), ["declaration.temperature_or_band"]);
        let symptoms = vec!["cough".to_owned(), "cough".to_owned()];
        let d = Declaration::parse(&DeclarationInput {
            symptoms: &symptoms,
            region: "4401",
            ..declaration(Some(36.5), None)
        })
        .expect("4-digit city code is a region");
        assert_eq!(d.symptoms, [Symptom::Cough]);
        let symptoms = vec!["sneezing".to_owned()];
        let e = Declaration::parse(&DeclarationInput {
            symptoms: &symptoms,
            region: "44010",
            ..declaration(Some(36.5), None)
        })
        .expect_err("refused");
        assert_eq!(codes(e), ["symptom.unknown", "region.format"]);
        let many: Vec<String> = (0..31).map(|i| format!("place {i}")).collect();
        let e = Declaration::parse(&DeclarationInput {
            visited: &many,
            ..declaration(Some(36.5), None)
        })
        .expect_err("refused");
        assert_eq!(codes(e), ["visited.too_many"]);
    }

    fn entry(
        transport: &'static str,
        trip: Option<&'static str>,
        date: &'static str,
    ) -> EntryInput<'static> {
        EntryInput {
            origin: "武汉",
            transport,
            trip_number: trip,
            arrival_date: date,
            destination: "440305",
        }
    }

    #[test]
    fn entries_parse() {
        let today = date!(2026 - 03 - 02);
        let e = Entry::parse(&entry("train", Some("g1234"), "2026-03-03"), today).expect("valid");
        assert_eq!(e.trip_number.as_deref(), Some("G1234"));
        assert!(Entry::parse(&entry("car", None, "2026-03-02"), today).is_ok());
        let e = Entry::parse(&entry("flight", None, "2026-03-02"), today).expect_err("refused");
        assert_eq!(codes(e), ["trip_number.required"]);
        let e = Entry::parse(&entry("rocket", None, "2026-05-02"), today).expect_err("refused");
        assert_eq!(codes(e), ["transport.unknown", "arrival_date.range"]);
        let e = Entry::parse(
            &EntryInput {
                destination: "110101",
                ..entry("car", None, "2026-3-2")
            },
            today,
        )
        .expect_err("refused");
        assert_eq!(codes(e), ["date.format", "destination.guangdong"]);
    }
}
