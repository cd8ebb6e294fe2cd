//! Analysis of the read models: every projection's progress, and rebuilding one beside the
//! serving model.

use projections::{ProjectionStatus, Runner, RunnerError};

use crate::{ServiceError, ServiceResult};

/// Every projection's position, lag, generation and status.
pub async fn projections(runner: &Runner) -> ServiceResult<Vec<ProjectionStatus>> {
    runner.status().await.map_err(ServiceError::internal)
}

/// Starts rebuilding the projection `name` beside the serving one (swapped in when done):
/// `404 projection.unknown` for no such projection, `409 projection.rebuilding` while one
/// runs.
pub fn rebuild(runner: &Runner, name: &str) -> ServiceResult<()> {
    if !runner.names().contains(&name) {
        return Err(ServiceError::not_found(
            "projection.unknown",
            format!(
                "no projection is named {name:?} (known: {})",
                runner.names().join(", ")
            ),
        ));
    }
    match runner.spawn_rebuild(name) {
        Ok(()) => Ok(()),
        Err(RunnerError::AlreadyRebuilding(_)) => Err(ServiceError::conflict(
            "projection.rebuilding",
            format!("projection {name} is already being rebuilt"),
        )),
        Err(error) => Err(ServiceError::internal(error)),
    }
}

/// The highest position any projection has applied: the log reached at least this far (a
/// witness for verifying the chain).
pub async fn applied_position(runner: &Runner) -> ServiceResult<u64> {
    Ok(projections(runner)
        .await?
        .iter()
        .map(|s| s.position)
        .max()
        .unwrap_or(0))
}
