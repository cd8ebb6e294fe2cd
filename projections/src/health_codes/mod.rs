//! Active red reasons per identity (keyed by document digest, so feed hits recorded before
//! registration apply the moment the person registers): the colour of every code.

use async_trait::async_trait;
use domain::identity::IdentityEvent;
use domain::streams;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct HealthCodes;

#[async_trait]
impl Projection for HealthCodes {
    fn name(&self) -> &'static str {
        "health_codes"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["red_reasons"]
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
                    record_id,
                    reason,
                    effective_at,
                    ..
                } => {
                    tx.exec(
                        &tables.sql(include_str!("hit.sql")),
                        &[
                            Arg::Text(digest),
                            Arg::Text(reason.as_str()),
                            Arg::Text(record_id.as_str()),
                            Arg::Int(effective_at.unix_timestamp()),
                        ],
                    )
                    .await?;
                }
                IdentityEvent::RedReasonRestored {
                    reason,
                    record_id,
                    since,
                    ..
                } => {
                    tx.exec(
                        &tables.sql(include_str!("hit.sql")),
                        &[
                            Arg::Text(digest),
                            Arg::Text(reason.as_str()),
                            Arg::Text(record_id.as_str()),
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
                IdentityEvent::PersonRegistered { .. }
                | IdentityEvent::AppealFiled { .. }
                | IdentityEvent::AppealDecided { .. }
                | IdentityEvent::PersonalDataShredded { .. } => {}
            }
        }
        Ok(())
    }
}

/// An active red reason.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReasonRow {
    pub reason: String,
    pub record_id: String,
    /// Unix seconds.
    pub since: i64,
}

/// The active red reasons of the identity with this digest (none: green).
pub async fn reasons(db: &Database, digest: &str) -> Result<Vec<ReasonRow>, sqlx::Error> {
    fetch_all(db, include_str!("reasons_of.sql"), &[Arg::Text(digest)]).await
}
