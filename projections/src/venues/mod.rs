//! Venues and their inspectors: who administers a venue, its code, name and region, and who
//! is bound as an inspector (bindings kept as intervals).

use async_trait::async_trait;
use domain::streams;
use domain::venue::{InspectionEvent, VenueEvent};
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, fetch_optional, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct Venues;

#[async_trait]
impl Projection for Venues {
    fn name(&self) -> &'static str {
        "venues"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["venue_info", "venue_inspectors"]
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
            if stream_id(&e.stream, streams::VENUE_MEMBER).is_some() {
                match decode::<InspectionEvent>(e)? {
                    InspectionEvent::InspectorBound {
                        venue_id,
                        inspector,
                        at,
                    } => {
                        let (venue, person) = (venue_id.to_string(), inspector.to_string());
                        tx.exec(
                            &tables.sql(include_str!("bind.sql")),
                            &[
                                Arg::Text(&venue),
                                Arg::Text(&person),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    InspectionEvent::InspectorUnbound {
                        venue_id,
                        inspector,
                        at,
                        ..
                    } => {
                        let (venue, person) = (venue_id.to_string(), inspector.to_string());
                        tx.exec(
                            &tables.sql(include_str!("unbind.sql")),
                            &[
                                Arg::Text(&venue),
                                Arg::Text(&person),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                }
            } else if stream_id(&e.stream, streams::VENUE_ADMIN).is_some() {
                // Claims: nothing to show.
            } else if let Some(venue) = stream_id(&e.stream, streams::VENUE) {
                match decode::<VenueEvent>(e)? {
                    VenueEvent::VenueCreated {
                        admin,
                        code,
                        region,
                        address,
                        kind,
                        name,
                        at,
                        ..
                    } => {
                        let (admin, code) = (admin.to_string(), code.to_string());
                        tx.exec(
                            &tables.sql(include_str!("create.sql")),
                            &[
                                Arg::Text(venue),
                                Arg::Text(&admin),
                                Arg::Text(&code),
                                Arg::Text(name.as_str()),
                                Arg::Text(region.as_str()),
                                Arg::Text(kind.as_str()),
                                Arg::Text(address.as_str()),
                                Arg::Int(at.unix_timestamp()),
                            ],
                        )
                        .await?;
                    }
                    VenueEvent::VenueDetailsEdited { changes, .. } => {
                        tx.exec(
                            &tables.sql(include_str!("edit.sql")),
                            &[
                                Arg::Text(venue),
                                Arg::OptText(changes.name.as_ref().map(|n| n.as_str())),
                                Arg::OptText(changes.region.as_ref().map(|r| r.as_str())),
                                Arg::OptText(changes.kind.map(|k| k.as_str())),
                                Arg::OptText(changes.address.as_ref().map(|a| a.as_str())),
                            ],
                        )
                        .await?;
                    }
                    VenueEvent::VenueHandedOver { to, .. } => {
                        let to = to.to_string();
                        tx.exec(
                            &tables.sql(include_str!("handover.sql")),
                            &[Arg::Text(venue), Arg::Text(&to)],
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A venue as the read model holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VenueRow {
    pub venue_id: String,
    pub admin: String,
    pub code: String,
    pub name: String,
    pub region: String,
    pub venue_type: String,
    pub address: String,
    pub created_at: i64,
}

pub async fn venue(db: &Database, venue_id: &str) -> Result<Option<VenueRow>, sqlx::Error> {
    fetch_optional(db, include_str!("info.sql"), &[Arg::Text(venue_id)]).await
}

/// The venue this person administers.
pub async fn of_admin(db: &Database, person_id: &str) -> Result<Option<VenueRow>, sqlx::Error> {
    fetch_optional(db, include_str!("of_admin.sql"), &[Arg::Text(person_id)]).await
}

/// A venue an inspector is bound to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InspectedVenue {
    pub venue_id: String,
    pub name: String,
    pub code: String,
    pub region: String,
    pub venue_type: String,
    pub bound_at: i64,
}

/// The venues a person inspects now, oldest binding first.
pub async fn of_inspector(
    db: &Database,
    person_id: &str,
) -> Result<Vec<InspectedVenue>, sqlx::Error> {
    fetch_all(
        db,
        include_str!("of_inspector.sql"),
        &[Arg::Text(person_id)],
    )
    .await
}

/// An inspector bound to a venue now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BoundInspector {
    pub person_id: String,
    pub bound_at: i64,
}

/// The inspectors bound to `venue_id` now, oldest binding first.
pub async fn inspectors(db: &Database, venue_id: &str) -> Result<Vec<BoundInspector>, sqlx::Error> {
    fetch_all(db, include_str!("inspectors.sql"), &[Arg::Text(venue_id)]).await
}
