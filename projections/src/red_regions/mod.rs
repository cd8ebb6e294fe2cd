//! Active red reasons with the region the feed gave them, for grids' key-persons lists: which
//! red-coded identities lie inside a region. Keyed by document digest; no personal data.

use async_trait::async_trait;
use domain::identity::IdentityEvent;
use domain::streams;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct RedRegions;

#[async_trait]
impl Projection for RedRegions {
    fn name(&self) -> &'static str {
        "red_regions"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["red_regions"]
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
            let Some(digest) = stream_id(&e.stream, streams::IDENTITY) else {
                continue;
            };
            match decode::<IdentityEvent>(e)? {
                IdentityEvent::RedReasonHit {
                    reason,
                    effective_at,
                    region: Some(region),
                    ..
                } => {
                    tx.exec(
                        &tables.sql(include_str!("hit.sql")),
                        &[
                            Arg::Text(digest),
                            Arg::Text(reason.as_str()),
                            Arg::Text(&region),
                            Arg::Int(effective_at.unix_timestamp()),
                        ],
                    )
                    .await?;
                }
                IdentityEvent::RedReasonRestored {
                    reason,
                    since,
                    region: Some(region),
                    ..
                } => {
                    tx.exec(
                        &tables.sql(include_str!("hit.sql")),
                        &[
                            Arg::Text(digest),
                            Arg::Text(reason.as_str()),
                            Arg::Text(&region),
                            Arg::Int(since.unix_timestamp()),
                        ],
                    )
                    .await?;
                }
                IdentityEvent::RedReasonReleased { reason, .. } => {
                    tx.exec(
                        &tables.sql(include_str!("release.sql")),
                        &[Arg::Text(digest), Arg::Text(reason.as_str())],
                    )
                    .await?;
                }
                IdentityEvent::RedReasonHit { region: None, .. }
                | IdentityEvent::RedReasonRestored { region: None, .. }
                | IdentityEvent::PersonRegistered { .. }
                | IdentityEvent::AppealFiled { .. }
                | IdentityEvent::AppealDecided { .. }
                | IdentityEvent::PersonalDataShredded { .. } => {}
            }
        }
        Ok(())
    }
}

/// An active red reason of an identity.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RedInRegion {
    pub digest: String,
    pub reason: String,
    /// Unix seconds.
    pub since: i64,
}

/// The active red reasons whose feed region lies inside `region` (its code a prefix of theirs).
pub async fn in_region(db: &Database, region: &str) -> Result<Vec<RedInRegion>, sqlx::Error> {
    let prefix = format!("{region}%");
    fetch_all(db, include_str!("in_region.sql"), &[Arg::Text(&prefix)]).await
}
