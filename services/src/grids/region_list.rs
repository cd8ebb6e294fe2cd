//! A region's grids for the admins of the region and of every region enclosing it: each grid
//! with its figures for a day, no personal data.

use domain::identity::PersonId;
use domain::region::{Region, RegionCode, RegionState};
use event_store::StreamId;

use super::enclosing_regions;
use crate::{streams, ServiceError, Services};

/// An admin of a region or of one enclosing it, found before what they ask is read.
#[derive(Debug, Clone)]
pub struct RegionViewer {
    pub region: RegionCode,
}

/// `person` when they administer the region named by `raw` or one enclosing it: `422` for a
/// malformed code, `404 region.unknown`, `403` otherwise.
pub async fn authorize_region_viewer(
    services: &Services,
    raw: &str,
    person: PersonId,
) -> Result<RegionViewer, ServiceError> {
    let (region, _) = crate::regions::region_and_enclosing(raw)?;
    let regions = enclosing_regions(&region);
    let region_streams: Vec<StreamId> = regions.iter().map(streams::region).collect();
    let loaded = services.bus.load(&region_streams).await?;
    let asker = crate::citizens::person_digest(services, person).await?;
    for stream in &region_streams {
        if matches!(loaded.fold::<Region>(stream)?, RegionState::Held { admin } if admin == asker) {
            return Ok(RegionViewer { region });
        }
    }
    Err(ServiceError::Forbidden(format!(
        "only an admin of {region} or of a region enclosing it may list its grids"
    )))
}

/// Which grids to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Any,
    Pending,
    Active,
    Dissolved,
}

impl StatusFilter {
    /// `?status=` as sent: absent is any; another word is `422 grid.bad_status`.
    pub fn parse(raw: Option<&str>) -> Result<Self, ServiceError> {
        match raw {
            None | Some("") => Ok(Self::Any),
            Some("pending") => Ok(Self::Pending),
            Some("active") => Ok(Self::Active),
            Some("dissolved") => Ok(Self::Dissolved),
            Some(other) => Err(ServiceError::invalid(
                "status",
                "grid.bad_status",
                format!("{other:?} is none of pending, active, dissolved"),
            )),
        }
    }

    fn as_sql(self) -> &'static str {
        match self {
            Self::Any => "",
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Dissolved => "dissolved",
        }
    }
}

/// The grids of the viewer's region created up to the end of `date` (CST), with their
/// figures for that day; a grid's status is its status now.
pub async fn region_grids(
    services: &Services,
    viewer: &RegionViewer,
    status: StatusFilter,
    date: time::Date,
) -> Result<Vec<projections::grids::RegionGridRow>, ServiceError> {
    let start = date.midnight().assume_offset(domain::week::CST);
    let end = start + time::Duration::days(1);
    projections::grids::of_region(
        &services.db,
        viewer.region.as_str(),
        status.as_sql(),
        start.unix_timestamp(),
        end.unix_timestamp(),
    )
    .await
    .map_err(ServiceError::internal)
}
