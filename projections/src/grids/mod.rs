//! Community grids and their workers: each grid's admin, code, region, name and status
//! (pending until a region admin confirms it), the workers bound now (intervals, authorised or
//! not) and each worker's current grid. No personal data.

use async_trait::async_trait;
use domain::grid::{CurrentGridEvent, GridEvent, GridScanEvent, ManualVisitEvent, WorkerEvent};
use domain::health::Reading;
use domain::streams;
use event_store::{Backend, Database, RecordedEvent};

use crate::query::{decode, fetch_all, fetch_optional, Arg};
use crate::{Projection, ProjectionError, Tables, Tx};

#[derive(Debug, Clone, Copy)]
pub struct Grids;

#[async_trait]
impl Projection for Grids {
    fn name(&self) -> &'static str {
        "grids"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["grid_info", "grid_workers", "grid_current", "grid_visits"]
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
            match streams::split(&e.stream) {
                Some((streams::GRID, grid)) => apply_grid(tx, tables, grid, e).await?,
                Some((streams::GRID_MEMBER, _)) => apply_worker(tx, tables, e).await?,
                Some((streams::GRID_CURRENT, person)) => {
                    let (sql, grid_id) = match decode::<CurrentGridEvent>(e)? {
                        CurrentGridEvent::CurrentGridChosen { grid_id, .. } => {
                            (include_str!("choose.sql"), grid_id)
                        }
                        CurrentGridEvent::CurrentGridCleared { grid_id, .. } => {
                            (include_str!("clear.sql"), grid_id)
                        }
                    };
                    let grid = grid_id.to_string();
                    tx.exec(&tables.sql(sql), &[Arg::Text(person), Arg::Text(&grid)])
                        .await?;
                }
                Some((streams::GRID_SCAN, _)) => match decode::<GridScanEvent>(e)? {
                    GridScanEvent::GridCodeScanned { .. } => {}
                    GridScanEvent::GridVisitRecorded {
                        visit_id,
                        grid_id,
                        worker,
                        subject,
                        reading,
                        at,
                        ..
                    } => {
                        let person = subject.to_string();
                        record_visit(
                            tx,
                            tables,
                            (visit_id.to_string(), grid_id, worker),
                            Some(&person),
                            &reading,
                            at,
                        )
                        .await?;
                    }
                },
                Some((streams::GRID_VISIT, _)) => match decode::<ManualVisitEvent>(e)? {
                    ManualVisitEvent::ManualVisitRecorded {
                        visit_id,
                        grid_id,
                        worker,
                        reading,
                        at,
                        ..
                    } => {
                        record_visit(
                            tx,
                            tables,
                            (visit_id.to_string(), grid_id, worker),
                            None,
                            &reading,
                            at,
                        )
                        .await?;
                    }
                },
                // Other streams (the admin claims among them) show nothing here.
                Some(_) | None => {}
            }
        }
        Ok(())
    }
}

/// One visit's figures (no personal data: the scanned person's id at most).
async fn record_visit(
    tx: &mut Tx,
    tables: &Tables,
    (visit, grid_id, worker): (String, domain::grid::GridId, domain::identity::PersonId),
    person: Option<&str>,
    reading: &Reading,
    at: time::OffsetDateTime,
) -> Result<(), ProjectionError> {
    let (grid, worker) = (grid_id.to_string(), worker.to_string());
    tx.exec(
        &tables.sql(include_str!("visit.sql")),
        &[
            Arg::Text(&visit),
            Arg::Text(&grid),
            Arg::Text(&worker),
            Arg::OptText(person),
            Arg::Int(i64::from(reading.has_fever())),
            Arg::Int(i64::from(!reading.symptoms.is_empty())),
            Arg::Int(at.unix_timestamp()),
        ],
    )
    .await?;
    Ok(())
}

async fn apply_grid(
    tx: &mut Tx,
    tables: &Tables,
    grid: &str,
    e: &RecordedEvent,
) -> Result<(), ProjectionError> {
    match decode::<GridEvent>(e)? {
        GridEvent::GridCreated {
            admin,
            code,
            region,
            name,
            at,
            ..
        } => {
            let (admin, code) = (admin.to_string(), code.to_string());
            tx.exec(
                &tables.sql(include_str!("create.sql")),
                &[
                    Arg::Text(grid),
                    Arg::Text(&admin),
                    Arg::Text(&code),
                    Arg::Text(region.as_str()),
                    Arg::Text(name.as_str()),
                    Arg::Int(at.unix_timestamp()),
                ],
            )
            .await?;
        }
        GridEvent::GridConfirmed { .. } => {
            tx.exec(&tables.sql(include_str!("confirm.sql")), &[Arg::Text(grid)])
                .await?;
        }
        GridEvent::GridHandedOver { to, .. } => {
            let to = to.to_string();
            tx.exec(
                &tables.sql(include_str!("handover.sql")),
                &[Arg::Text(grid), Arg::Text(&to)],
            )
            .await?;
        }
        GridEvent::GridDissolved { .. } => {
            tx.exec(
                &tables.sql(include_str!("dissolve.sql")),
                &[Arg::Text(grid)],
            )
            .await?;
        }
        GridEvent::GridDetailsEdited { changes, .. } => {
            tx.exec(
                &tables.sql(include_str!("edit.sql")),
                &[
                    Arg::Text(grid),
                    Arg::OptText(changes.name.as_ref().map(|n| n.as_str())),
                    Arg::OptText(changes.region.as_ref().map(|r| r.as_str())),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

async fn apply_worker(
    tx: &mut Tx,
    tables: &Tables,
    e: &RecordedEvent,
) -> Result<(), ProjectionError> {
    let (sql, grid_id, worker, arg) = match decode::<WorkerEvent>(e)? {
        WorkerEvent::GridWorkerBound {
            grid_id,
            worker,
            at,
        } => (
            include_str!("bind.sql"),
            grid_id,
            worker,
            at.unix_timestamp(),
        ),
        WorkerEvent::GridWorkerUnbound {
            grid_id,
            worker,
            at,
            ..
        } => (
            include_str!("unbind.sql"),
            grid_id,
            worker,
            at.unix_timestamp(),
        ),
        WorkerEvent::GridWorkerAuthorised {
            grid_id, worker, ..
        } => (include_str!("authorise.sql"), grid_id, worker, 1),
        WorkerEvent::GridWorkerAuthorisationRevoked {
            grid_id, worker, ..
        } => (include_str!("authorise.sql"), grid_id, worker, 0),
    };
    let (grid, person) = (grid_id.to_string(), worker.to_string());
    tx.exec(
        &tables.sql(sql),
        &[Arg::Text(&grid), Arg::Text(&person), Arg::Int(arg)],
    )
    .await?;
    Ok(())
}

/// A grid a worker is bound to now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkerGridRow {
    pub grid_id: String,
    pub name: String,
    pub region: String,
    pub status: String,
    pub authorised: i64,
    pub current: i64,
    pub bound_at: i64,
}

/// The grids `person_id` is bound to now, oldest binding first.
pub async fn of_worker(db: &Database, person_id: &str) -> Result<Vec<WorkerGridRow>, sqlx::Error> {
    fetch_all(db, include_str!("of_worker.sql"), &[Arg::Text(person_id)]).await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct GridIdRow {
    grid_id: String,
}

/// The grids `person_id` administers (one at most).
pub async fn of_admin(db: &Database, person_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<GridIdRow> =
        fetch_all(db, include_str!("of_admin.sql"), &[Arg::Text(person_id)]).await?;
    Ok(rows.into_iter().map(|r| r.grid_id).collect())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct VisitCount {
    visits: i64,
}

/// Whether `person_id` was visited (by a scan) in `grid_id`.
pub async fn visited(db: &Database, grid_id: &str, person_id: &str) -> Result<bool, sqlx::Error> {
    let rows: Vec<VisitCount> = fetch_all(
        db,
        include_str!("visited.sql"),
        &[Arg::Text(grid_id), Arg::Text(person_id)],
    )
    .await?;
    Ok(rows.first().is_some_and(|r| r.visits > 0))
}

/// A visit's figures.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VisitRow {
    pub worker: String,
    pub fever: i64,
    pub symptoms: i64,
    /// Unix seconds.
    pub at: i64,
}

/// The grid's visits before `before` (Unix seconds), oldest first.
pub async fn visits(
    db: &Database,
    grid_id: &str,
    before: i64,
) -> Result<Vec<VisitRow>, sqlx::Error> {
    fetch_all(
        db,
        include_str!("visits_of.sql"),
        &[Arg::Text(grid_id), Arg::Int(before)],
    )
    .await
}

/// A worker bound to a grid now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BoundWorker {
    pub person_id: String,
    pub authorised: i64,
}

/// The workers bound to `grid_id` now, oldest binding first.
pub async fn workers(db: &Database, grid_id: &str) -> Result<Vec<BoundWorker>, sqlx::Error> {
    fetch_all(db, include_str!("workers_of.sql"), &[Arg::Text(grid_id)]).await
}

/// A grid as its admin's pages show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GridInfo {
    pub grid_id: String,
    pub code: String,
    pub region: String,
    pub name: String,
    pub status: String,
}

/// The grid `person_id` administers now (not dissolved), if any.
pub async fn admin_grid(db: &Database, person_id: &str) -> Result<Option<GridInfo>, sqlx::Error> {
    fetch_optional(db, include_str!("admin_grid.sql"), &[Arg::Text(person_id)]).await
}

/// A grid of a region with its figures for a day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegionGridRow {
    pub grid_id: String,
    pub code: String,
    pub region: String,
    pub name: String,
    pub status: String,
    pub created_at: i64,
    pub workers: i64,
    pub authorised: i64,
    pub visits_today: i64,
    pub visits_total: i64,
}

/// The grids in `region` (its code is a prefix of theirs) created before `end`, with `status`
/// (any when empty): workers bound now, visits in `[start, end)` and before `end` (Unix
/// seconds).
pub async fn of_region(
    db: &Database,
    region: &str,
    status: &str,
    start: i64,
    end: i64,
) -> Result<Vec<RegionGridRow>, sqlx::Error> {
    let prefix = format!("{region}%");
    fetch_all(
        db,
        include_str!("of_region.sql"),
        &[
            Arg::Text(&prefix),
            Arg::Int(start),
            Arg::Int(end),
            Arg::Text(status),
        ],
    )
    .await
}

/// A visit that recorded a fever or symptoms.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyVisit {
    pub visit_id: String,
    /// The scanned person; `None` for a visit entered by hand.
    pub person_id: Option<String>,
    pub fever: i64,
    pub symptoms: i64,
    /// Unix seconds.
    pub at: i64,
}

/// The grid's visits since `since` (Unix seconds) that recorded a fever or symptoms, newest
/// first.
pub async fn key_visits(
    db: &Database,
    grid_id: &str,
    since: i64,
) -> Result<Vec<KeyVisit>, sqlx::Error> {
    fetch_all(
        db,
        include_str!("key_visits.sql"),
        &[Arg::Text(grid_id), Arg::Int(since)],
    )
    .await
}
