//! Appeals against red reasons: the open ones the feed works through, and each appeal's
//! decision.

use async_trait::async_trait;
use domain::identity::IdentityEvent;
use domain::streams;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, fetch_optional, stream_id, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct Appeals;

#[async_trait]
impl Projection for Appeals {
    fn name(&self) -> &'static str {
        "appeals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["appeals"]
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
                IdentityEvent::AppealFiled {
                    appeal_id,
                    person_id,
                    reason,
                    record_id,
                    at,
                } => {
                    let (appeal_id, person_id) = (appeal_id.to_string(), person_id.to_string());
                    tx.exec(
                        &tables.sql(include_str!("file.sql")),
                        &[
                            Arg::Text(&appeal_id),
                            Arg::Text(digest),
                            Arg::Text(&person_id),
                            Arg::Text(reason.as_str()),
                            Arg::Text(record_id.as_str()),
                            Arg::Int(i64::try_from(e.position).unwrap_or(i64::MAX)),
                            Arg::Int(at.unix_timestamp()),
                        ],
                    )
                    .await?;
                }
                IdentityEvent::AppealDecided {
                    appeal_id,
                    granted,
                    detail,
                    at,
                    ..
                } => {
                    let appeal_id = appeal_id.to_string();
                    tx.exec(
                        &tables.sql(include_str!("decide.sql")),
                        &[
                            Arg::Text(&appeal_id),
                            Arg::Text(if granted { "granted" } else { "refused" }),
                            Arg::Text(&detail),
                            Arg::Int(at.unix_timestamp()),
                        ],
                    )
                    .await?;
                }
                IdentityEvent::RedReasonReleased { reason, .. } => {
                    tx.exec(
                        &tables.sql(include_str!("moot.sql")),
                        &[Arg::Text(digest), Arg::Text(reason.as_str())],
                    )
                    .await?;
                }
                IdentityEvent::PersonRegistered { .. }
                | IdentityEvent::RedReasonHit { .. }
                | IdentityEvent::RedReasonRestored { .. }
                | IdentityEvent::PersonalDataShredded { .. } => {}
            }
        }
        Ok(())
    }
}

/// An appeal as the read model holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppealRow {
    pub appeal_id: String,
    pub digest: String,
    pub person_id: String,
    pub reason: String,
    pub record_id: String,
    /// Log position of the filing: the page cursor.
    pub position: i64,
    pub filed_at: i64,
    /// `open`, `granted`, `refused` or `moot` (the reason was released before a decision).
    pub status: String,
    pub detail: Option<String>,
    pub decided_at: Option<i64>,
}

/// Open appeals filed after the cursor `after`, oldest first.
pub async fn open(db: &Database, after: u64, limit: u32) -> Result<Vec<AppealRow>, sqlx::Error> {
    fetch_all(
        db,
        include_str!("open_page.sql"),
        &[
            Arg::Int(i64::try_from(after).unwrap_or(i64::MAX)),
            Arg::Int(i64::from(limit)),
        ],
    )
    .await
}

/// The appeal with this id.
pub async fn by_id(db: &Database, appeal_id: &str) -> Result<Option<AppealRow>, sqlx::Error> {
    fetch_optional(db, include_str!("by_id.sql"), &[Arg::Text(appeal_id)]).await
}
