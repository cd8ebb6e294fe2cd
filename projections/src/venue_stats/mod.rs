//! Venue statistics: one row per temperature check or quick check-in, with the day and hour
//! (CST), the band, and the checked person's sex and age band, never who they are. The
//! queries count checks, distinct persons, fever persons (by their latest check of the day),
//! sex, age bands, hourly traffic and each inspector's work.

use async_trait::async_trait;
use domain::demographics::{AgeBand, Demographics, Sex};
use domain::health::Band;
use domain::streams;
use domain::venue::{CheckInEvent, ScanEvent};
use domain::week::CST;
use event_store::{Backend, Database, RecordedEvent};
use time::OffsetDateTime;

use crate::query::{decode, fetch_all, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct VenueStats;

fn sex(d: &Demographics) -> Option<&'static str> {
    d.sex.map(Sex::as_str)
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Tx,
    tables: &Tables,
    venue: &str,
    position: u64,
    at: OffsetDateTime,
    person: &str,
    inspector: Option<&str>,
    band: &str,
    demographics: &Demographics,
) -> Result<(), ProjectionError> {
    let local = at.to_offset(CST);
    let day = local.date().to_string();
    tx.exec(
        &tables.sql(include_str!("insert.sql")),
        &[
            Arg::Text(venue),
            Arg::Int(i64::try_from(position).unwrap_or(i64::MAX)),
            Arg::Text(&day),
            Arg::Int(i64::from(local.hour())),
            Arg::Text(person),
            Arg::OptText(inspector),
            Arg::Text(band),
            Arg::OptText(sex(demographics)),
            Arg::OptText(demographics.age_band.map(AgeBand::as_str)),
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl Projection for VenueStats {
    fn name(&self) -> &'static str {
        "venue_stats"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["venue_checks"]
    }

    fn schema(&self, _backend: Backend) -> &'static str {
        include_str!("schema.sql")
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for e in events {
            if stream_id(&e.stream, streams::SCAN).is_some() {
                match decode::<ScanEvent>(e)? {
                    ScanEvent::TemperatureChecked {
                        venue_id,
                        inspector,
                        subject,
                        band,
                        demographics,
                        at,
                        ..
                    } => {
                        let (venue, inspector, subject) = (
                            venue_id.to_string(),
                            inspector.to_string(),
                            subject.to_string(),
                        );
                        insert(
                            tx,
                            tables,
                            &venue,
                            e.position,
                            at,
                            &subject,
                            Some(&inspector),
                            band.as_str(),
                            &demographics,
                        )
                        .await?;
                    }
                    ScanEvent::CodeScanned { .. } => {}
                }
            } else if stream_id(&e.stream, streams::CHECKIN).is_some() {
                match decode::<CheckInEvent>(e)? {
                    CheckInEvent::CheckedIn {
                        venue_id,
                        subject,
                        demographics,
                        at,
                        ..
                    } => {
                        let (venue, subject) = (venue_id.to_string(), subject.to_string());
                        insert(
                            tx,
                            tables,
                            &venue,
                            e.position,
                            at,
                            &subject,
                            None,
                            Band::Normal.as_str(),
                            &demographics,
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Totals {
    checks: i64,
    persons: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Count {
    n: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Labelled {
    label: String,
    n: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Hour {
    hour: i64,
    n: i64,
}

/// An inspector's counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InspectorRow {
    pub label: String,
    pub today: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct OwnRow {
    today: i64,
    total: i64,
}

/// A venue's figures for one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub checks_today: i64,
    pub persons_today: i64,
    pub checks_total: i64,
    /// Distinct persons checked up to and including the day.
    pub persons_total: i64,
    pub fever_today: i64,
    pub fever_total: i64,
    /// `(male, female)` distinct persons of the day.
    pub sex: (i64, i64),
    /// `0-17`, `18-39`, `40-59`, `60+`: distinct persons of the day.
    pub age_bands: [i64; 4],
    /// Checks per hour of the day (CST).
    pub hourly: [i64; 24],
    /// Each inspector's checks of the day and in all.
    pub inspectors: Vec<InspectorRow>,
}

async fn count(db: &Database, sql: &str, venue: &str, day: &str) -> Result<i64, sqlx::Error> {
    let rows: Vec<Count> = fetch_all(db, sql, &[Arg::Text(venue), Arg::Text(day)]).await?;
    Ok(rows.first().map_or(0, |c| c.n))
}

/// The figures of `venue` on `day` (`YYYY-MM-DD`); totals count up to and including it.
pub async fn figures(db: &Database, venue: &str, day: &str) -> Result<Figures, sqlx::Error> {
    let at_day = [Arg::Text(venue), Arg::Text(day)];
    let today: Vec<Totals> = fetch_all(db, include_str!("day.sql"), &at_day).await?;
    let total: Vec<Totals> = fetch_all(db, include_str!("total.sql"), &at_day).await?;
    let fever_total: Vec<Count> = fetch_all(db, include_str!("fever_total.sql"), &at_day).await?;
    let sexes: Vec<Labelled> = fetch_all(db, include_str!("sex.sql"), &at_day).await?;
    let ages: Vec<Labelled> = fetch_all(db, include_str!("age.sql"), &at_day).await?;
    let hours: Vec<Hour> = fetch_all(db, include_str!("hourly.sql"), &at_day).await?;
    let inspectors: Vec<InspectorRow> =
        fetch_all(db, include_str!("inspectors.sql"), &at_day).await?;
    let by_label =
        |rows: &[Labelled], label: &str| rows.iter().find(|r| r.label == label).map_or(0, |r| r.n);
    let mut hourly = [0i64; 24];
    for h in hours {
        if let Some(slot) = usize::try_from(h.hour).ok().and_then(|i| hourly.get_mut(i)) {
            *slot = h.n;
        }
    }
    Ok(Figures {
        checks_today: today.first().map_or(0, |t| t.checks),
        persons_today: today.first().map_or(0, |t| t.persons),
        checks_total: total.first().map_or(0, |t| t.checks),
        persons_total: total.first().map_or(0, |t| t.persons),
        fever_today: count(db, include_str!("fever_day.sql"), venue, day).await?,
        fever_total: fever_total.first().map_or(0, |c| c.n),
        sex: (
            by_label(&sexes, Sex::Male.as_str()),
            by_label(&sexes, Sex::Female.as_str()),
        ),
        age_bands: AgeBand::ALL.map(|band| by_label(&ages, band.as_str())),
        hourly,
        inspectors,
    })
}

/// One inspector's checks at `venue` on `day` and in all.
pub async fn inspector(
    db: &Database,
    venue: &str,
    day: &str,
    inspector: &str,
) -> Result<(i64, i64), sqlx::Error> {
    let rows: Vec<OwnRow> = fetch_all(
        db,
        include_str!("inspector.sql"),
        &[Arg::Text(venue), Arg::Text(day), Arg::Text(inspector)],
    )
    .await?;
    Ok(rows.first().map_or((0, 0), |r| (r.today, r.total)))
}
