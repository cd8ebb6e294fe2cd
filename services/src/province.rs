//! The province admin (who holds `region-44`) as a permit: the province admin's use cases
//! take it before reading their request (who may ask comes first) and decide again on the
//! region's stream at commit, so a revocation racing a command is decided again.

use commands::Loaded;
use domain::document::DocumentDigest;
use domain::identity::PersonId;
use domain::region::{Region, RegionCode, RegionState};
use event_store::StreamId;

use crate::{streams, ServiceError, Services};

/// A person found holding the province admin's seat, with `region-44` as read.
#[derive(Debug)]
pub struct ProvinceAdmin {
    pub person: PersonId,
    digest: DocumentDigest,
    stream: StreamId,
    loaded: Loaded,
}

/// The stream of the province admin's seat.
fn seat() -> Result<StreamId, ServiceError> {
    Ok(streams::region(&RegionCode::parse(
        RegionCode::GUANGDONG,
        "region",
    )?))
}

/// Whether `person` holds the province admin's seat, as of `loaded` (which holds the seat's
/// stream) — for use cases where the province admin is one of several who may act.
pub(crate) fn holds(loaded: &Loaded, digest: &DocumentDigest) -> Result<bool, ServiceError> {
    Ok(matches!(
        loaded.fold::<Region>(&seat()?)?,
        RegionState::Held { admin } if &admin == digest
    ))
}

/// The seat's stream, loaded now.
pub(crate) async fn load_seat(services: &Services) -> Result<(StreamId, Loaded), ServiceError> {
    let stream = seat()?;
    let loaded = services.bus.load(std::slice::from_ref(&stream)).await?;
    Ok((stream, loaded))
}

/// Lets `person` act as the province admin: `403` for anyone else.
pub async fn permit(services: &Services, person: PersonId) -> Result<ProvinceAdmin, ServiceError> {
    let digest = crate::citizens::person_digest(services, person).await?;
    let (stream, loaded) = load_seat(services).await?;
    if !holds(&loaded, &digest)? {
        return Err(ServiceError::forbidden(
            "only the province admin (the admin of region 44) may do this",
        ));
    }
    Ok(ProvinceAdmin {
        person,
        digest,
        stream,
        loaded,
    })
}

impl ProvinceAdmin {
    /// Whether the person still holds the seat in `loaded` (the permit's read joined with the
    /// command's, or a fresh one after a conflict).
    pub(crate) fn holds(&self, loaded: &Loaded) -> Result<bool, ServiceError> {
        holds(loaded, &self.digest)
    }

    /// The seat's stream: a command checks it is unchanged when it commits.
    pub(crate) fn stream(&self) -> &StreamId {
        &self.stream
    }

    /// The seat as read, to join with the command's streams.
    pub(crate) fn loaded(&self) -> Loaded {
        self.loaded.clone()
    }
}
