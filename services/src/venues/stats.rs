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

/// The admin's statistics of the venue for `date`.
pub async fn stats(
    services: &Services,
    admin: &VenueAdmin,
    date: Date,
) -> Result<VenueStats, ServiceError> {
    let venue_id = admin.venue_id;
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

/// An inspector found bound to a venue, before what they ask is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundInspector {
    pub venue_id: VenueId,
    pub inspector: PersonId,
}

/// `person` when they inspect the venue named by `raw`: `403` otherwise.
pub async fn authorize_inspector(
    services: &Services,
    raw: &str,
    person: PersonId,
) -> Result<BoundInspector, ServiceError> {
    let venue_id = venue_id(raw)?;
    if !is_inspector(services, venue_id, person).await? {
        return Err(ServiceError::Forbidden(
            "you do not inspect this venue".into(),
        ));
    }
    Ok(BoundInspector {
        venue_id,
        inspector: person,
    })
}

/// An inspector's own checks at the venue: (on `date`, in all up to it).
pub async fn my_stats(
    services: &Services,
    inspector: BoundInspector,
    date: Date,
) -> Result<(i64, i64), ServiceError> {
    projections::venue_stats::inspector(
        &services.db,
        &inspector.venue_id.to_string(),
        &date.to_string(),
        &inspector.inspector.to_string(),
    )
    .await
    .map_err(ServiceError::internal)
}
