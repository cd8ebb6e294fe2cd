//! Community grids (网格, SPEC §7): the grid itself (created pending, confirmed by a region
//! admin whose region encloses it, weekly-limited edits), its workers' bindings (bound,
//! authorised by the grid's own admin), and each worker's current grid.

mod aggregate;
mod current;
mod handover;
mod visit;
mod worker;

pub use aggregate::{
    Grid, GridChanges, GridCommand, GridError, GridEvent, GridId, GridName, GridState,
};
pub use current::{CurrentGrid, CurrentGridCommand, CurrentGridError, CurrentGridEvent};
pub use handover::{
    Handover, HandoverCommand, HandoverError, HandoverEvent, HandoverState, HANDOVER_VALIDITY,
};
pub use visit::{
    GridScan, GridScanCommand, GridScanEvent, GridScanState, ManualVisit, ManualVisitCommand,
    ManualVisitEvent, VisitError, VisitFacts, GRID_SCAN_VALIDITY,
};
pub use worker::{
    require_authorised, GridWorker, WorkerCommand, WorkerError, WorkerEvent, WorkerState,
};
