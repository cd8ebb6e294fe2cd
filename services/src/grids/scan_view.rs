//! The latest declaration of a person scanned in a grid, for the worker who scanned while
//! still bound to the grid, within 30 minutes of the scan (as at venues): what an
//! unauthorised worker may see. Recorded in the person's access log.

use commands::{CommandContext, Decision};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::grid::{Grid, GridId, GridScan, GridScanCommand, GridWorker, WorkerState};
use domain::identity::PersonId;
use domain::Decider;
use event_store::StreamId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{streams, ServiceError, Services};

/// A worker allowed to see the latest declaration of the person their grid scan names: the
/// scan's, the grid's and the binding's streams as read, so the view decides on that read.
#[derive(Debug)]
pub struct GridDeclarationView {
    scanner: PersonId,
    grid_id: GridId,
    subject: PersonId,
    scan_stream: StreamId,
    worker_stream: StreamId,
    loaded: commands::Loaded,
}

/// Lets `scanner` see the declaration behind the grid scan `scan_id`: `404 scan.unknown`,
/// `410 grid.dissolved`, `403` for anyone but the scanner still bound, `409 scan.expired`.
pub async fn permit_scan_declaration(
    services: &Services,
    scanner: PersonId,
    scan_id: Uuid,
) -> Result<GridDeclarationView, ServiceError> {
    let scan_stream = streams::grid_scan(scan_id);
    let loaded = services
        .bus
        .load(std::slice::from_ref(&scan_stream))
        .await?;
    let Some((grid_id, _, named, scanned_at)) = loaded.fold::<GridScan>(&scan_stream)?.scanned()
    else {
        return Err(ServiceError::not_found("scan.unknown", "no such scan"));
    };
    let subject = crate::links::resolve_or_unknown(services, named, scanned_at).await?;
    let grid_stream = streams::grid(grid_id);
    let worker_stream = streams::grid_worker(grid_id, scanner);
    let loaded = loaded.join(
        services
            .bus
            .load(&[grid_stream.clone(), worker_stream.clone()])
            .await?,
    );
    loaded
        .fold::<Grid>(&grid_stream)?
        .require_open()
        .map_err(ServiceError::refused)?;
    let view = GridDeclarationView {
        scanner,
        grid_id,
        subject,
        scan_stream,
        worker_stream,
        loaded,
    };
    view.decide(&view.loaded, services.now())?;
    Ok(view)
}

impl GridDeclarationView {
    /// The GridScan decider's answer on `loaded` (the permit's read, or a fresh one at commit).
    fn decide(&self, loaded: &commands::Loaded, at: OffsetDateTime) -> Result<(), ServiceError> {
        let worker_bound = matches!(
            loaded.fold::<GridWorker>(&self.worker_stream)?,
            WorkerState::Bound { .. }
        );
        GridScan::decide(
            &GridScanCommand::ViewDeclaration {
                viewer: self.scanner,
                worker_bound,
                at,
            },
            &loaded.fold::<GridScan>(&self.scan_stream)?,
        )
        .map_err(ServiceError::refused)?;
        Ok(())
    }
}

/// The latest health declaration of the person a permitted grid scan names, health facts
/// only (`404 declaration.none` when there is none); the access is recorded in the person's
/// access log while the worker is still bound (checked at commit).
pub async fn scanned_declaration(
    services: &Services,
    view: GridDeclarationView,
) -> Result<serde_json::Value, ServiceError> {
    let latest = crate::venues::latest_declaration(services, view.subject).await?;
    let now = services.now();
    let a_stream = streams::access(view.subject);
    let ctx = CommandContext::new(crate::auth::person_actor(view.scanner));
    let accessed = AccessEvent::PersonalDataAccessed {
        accessor: crate::links::link_accessor(
            services,
            Accessor::Grid {
                grid_id: view.grid_id.as_uuid(),
                person_id: view.scanner,
            },
            now,
        )
        .await?,
        data: AccessedData::Declarations,
        at: now,
    };
    let outcome = services
        .bus
        .execute_loaded(&ctx, view.loaded.clone(), |loaded| {
            view.decide(loaded, now)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(latest.clone())
                    .append(a_stream.clone(), std::slice::from_ref(&accessed))?
                    .check(view.worker_stream.clone()),
            )
        })
        .await?;
    Ok(outcome.into_response())
}
