//! A venue's statistics for its admin, and an inspector's own counts.

use super::*;

/// One inspector's counts in a venue's statistics.
#[derive(Debug, Clone)]
pub struct InspectorCounts {
    pub inspector: String,
    pub today: i64,
    pub total: i64,
}

/// A venue's statistics for a day (CST), no personal data.
#[derive(Debug, Clone)]
pub struct VenueStats {
    pub venue_id: String,
    pub date: Date,
    pub figures: projections::venue_stats::Figures,
    /// Every inspector bound now and anyone who checked here, by person id.
    pub inspectors: Vec<InspectorCounts>,
}

/// The admin's statistics of the venue for `date` (today when absent).
pub async fn stats(
    services: &Services,
    person: PersonId,
    raw: &str,
    date: Option<&str>,
) -> Result<VenueStats, ServiceError> {
    let venue_id = authorize_admin(
        services,
        raw,
        person,
        "only the venue's admin sees its statistics; inspectors see their own at /v1/me/venues/{id}/stats",
    )
    .await?
    .venue_id;
    let date = crate::orgs::parse_date(date, services.now())?;
    let figures =
        projections::venue_stats::figures(&services.db, &venue_id.to_string(), &date.to_string())
            .await
            .map_err(ServiceError::internal)?;
    let mut inspectors: Vec<InspectorCounts> = figures
        .inspectors
        .iter()
        .map(|i| InspectorCounts {
            inspector: i.label.clone(),
            today: i.today,
            total: i.total,
        })
        .collect();
    for bound in projections::venues::inspectors(&services.db, &venue_id.to_string())
        .await
        .map_err(ServiceError::internal)?
    {
        if !inspectors.iter().any(|i| i.inspector == bound.person_id) {
            inspectors.push(InspectorCounts {
                inspector: bound.person_id,
                today: 0,
                total: 0,
            });
        }
    }
    inspectors.sort_by(|a, b| a.inspector.cmp(&b.inspector));
    Ok(VenueStats {
        venue_id: venue_id.to_string(),
        date,
        figures,
        inspectors,
    })
}

/// An inspector's own counts at a venue on `date` (today when absent): (that day, in all).
pub async fn my_stats(
    services: &Services,
    person: PersonId,
    raw: &str,
    date: Option<&str>,
) -> Result<(VenueId, Date, i64, i64), ServiceError> {
    let venue_id = venue_id(raw)?;
    if !is_inspector(services, venue_id, person).await? {
        return Err(ServiceError::Forbidden(
            "you do not inspect this venue".into(),
        ));
    }
    let date = crate::orgs::parse_date(date, services.now())?;
    let (today, total) = projections::venue_stats::inspector(
        &services.db,
        &venue_id.to_string(),
        &date.to_string(),
        &person.to_string(),
    )
    .await
    .map_err(ServiceError::internal)?;
    Ok((venue_id, date, today, total))
}
