//! Events counted by type: the `yuekang_events_total` series of `/metrics`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use event_store::{Backend, Database, RecordedEvent};
use sqlx::Row;

use crate::{Projection, ProjectionError, Tables, Tx};

/// Counts every event by its type.
#[derive(Debug, Clone, Copy)]
pub struct EventCounts;

#[async_trait]
impl Projection for EventCounts {
    fn name(&self) -> &'static str {
        "event_counts"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["event_counts"]
    }

    fn schema(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => include_str!("schema.sqlite.sql"),
            Backend::Postgres => include_str!("schema.postgres.sql"),
        }
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut counts: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for event in events {
            let entry = counts.entry(event.event_type.as_str()).or_default();
            entry.0 += 1;
            entry.1 = event.position as i64;
        }
        match tx {
            Tx::Sqlite(tx) => {
                let sql = tables.sql(include_str!("add.sqlite.sql"));
                for (event_type, (n, last)) in counts {
                    sqlx::query(&sql)
                        .bind(event_type)
                        .bind(n)
                        .bind(last)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Tx::Postgres(tx) => {
                let sql = tables.sql(include_str!("add.postgres.sql"));
                for (event_type, (n, last)) in counts {
                    sqlx::query(&sql)
                        .bind(event_type)
                        .bind(n)
                        .bind(last)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// The serving counts, by event type.
pub async fn counts(db: &Database) -> Result<Vec<(String, u64)>, sqlx::Error> {
    const SQL: &str = include_str!("counts.sql");
    let rows = match db {
        Database::Sqlite(pool) => sqlx::query(SQL)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?,
        Database::Postgres(pool) => sqlx::query(SQL)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?,
    };
    Ok(rows)
}
