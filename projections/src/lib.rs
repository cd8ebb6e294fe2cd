//! The read side: projections consume the global log in order and keep read models.
//!
//! Each [`Projection`] owns some tables. Its rows live in tables of a numbered *generation*
//! (`event_counts_g1`, …) and readers query a view named after the table (`event_counts`)
//! that points at the serving generation. The [`Runner`] applies events and the checkpoint
//! in one transaction, catches up, then follows new appends; a rebuild fills the next
//! generation beside the serving one and swaps the views in one transaction.
//!
//! Adding a projection: one module here (its schema, `apply`, its queries) and one line in
//! [`registry`].

pub mod appeals;
pub mod event_counts;
pub mod grids;
pub mod health_codes;
pub mod histories;
pub mod medical;
pub mod orgs;
pub mod people;
pub mod query;
pub mod red_regions;
mod runner;
pub mod service_accounts;
mod tx;
pub mod venue_stats;
pub mod venues;

use std::sync::Arc;

use async_trait::async_trait;
use event_store::{Backend, RecordedEvent};

pub use runner::{Phase, ProjectionStatus, RebuildProgress, Runner, RunnerError};
pub use tx::Tx;

/// Every projection the server runs. Add new ones here.
pub fn registry() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(event_counts::EventCounts),
        Arc::new(service_accounts::ServiceAccounts),
        Arc::new(people::People),
        Arc::new(health_codes::HealthCodes),
        Arc::new(histories::Histories),
        Arc::new(appeals::Appeals),
        Arc::new(orgs::Orgs),
        Arc::new(venues::Venues),
        Arc::new(venue_stats::VenueStats),
        Arc::new(grids::Grids),
        Arc::new(red_regions::RedRegions),
        Arc::new(medical::Medical),
    ]
}

/// Why a projection could not apply events.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database error in projection")]
    Database(#[from] sqlx::Error),
    #[error("event at position {position} could not be read: {detail}")]
    Decode { position: u64, detail: String },
}

/// A read model fed by the log.
#[async_trait]
pub trait Projection: Send + Sync + std::fmt::Debug + 'static {
    /// Stable name, used for the checkpoint, the CLI and `GET /v1/projections`.
    fn name(&self) -> &'static str;

    /// The tables this projection owns; readers query views of these names.
    fn tables(&self) -> &'static [&'static str];

    /// DDL creating the tables (and their indexes) of one generation, each table and index
    /// name written as a `{table}` placeholder (see [`Tables::sql`]).
    fn schema(&self, backend: Backend) -> &'static str;

    /// Applies `events` (contiguous, in position order) inside `tx`.
    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError>;
}

/// The physical names of a projection's tables in one generation.
#[derive(Debug, Clone)]
pub struct Tables {
    generation: u64,
    names: Vec<(&'static str, String)>,
}

impl Tables {
    pub(crate) fn new(tables: &[&'static str], generation: u64) -> Self {
        Self {
            generation,
            names: tables
                .iter()
                .map(|t| (*t, format!("{t}_g{generation}")))
                .collect(),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// `template` with every `{table}` replaced by this generation's table name.
    pub fn sql(&self, template: &str) -> String {
        self.names
            .iter()
            .fold(template.to_owned(), |sql, (logical, physical)| {
                sql.replace(&format!("{{{logical}}}"), physical)
            })
    }

    pub(crate) fn physical(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.names.iter().map(|(l, p)| (*l, p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_become_generation_tables() {
        let tables = super::Tables::new(&["visits", "visit_days"], 3);
        assert_eq!(
            tables.sql("INSERT INTO {visits} SELECT * FROM {visit_days}; -- {other}"),
            "INSERT INTO visits_g3 SELECT * FROM visit_days_g3; -- {other}"
        );
    }
}
