//! `GET /v1/scans/{scan_id}/declaration` for both kinds of scan: a venue inspector's and a
//! grid worker's. A scan id names one or the other; the venue's scan is looked up first.

use domain::identity::PersonId;
use uuid::Uuid;

use crate::{grids, venues, ServiceError, Services};

/// A permit to see the declaration behind a venue scan or a grid scan.
#[derive(Debug)]
pub enum ScanDeclarationView {
    Venue(venues::DeclarationView),
    Grid(grids::GridDeclarationView),
}

/// Lets `scanner` see the declaration behind the scan named by `raw`, whichever kind it is:
/// `404 scan.unknown` when it is neither.
pub async fn permit(
    services: &Services,
    scanner: PersonId,
    raw: &str,
) -> Result<ScanDeclarationView, ServiceError> {
    match venues::permit_declaration_view(services, scanner, raw).await {
        Err(ServiceError::NotFound {
            code: "scan.unknown",
            detail,
        }) => {
            let scan_id = Uuid::parse_str(raw)
                .map_err(|_| ServiceError::not_found("scan.unknown", detail))?;
            grids::permit_scan_declaration(services, scanner, scan_id)
                .await
                .map(ScanDeclarationView::Grid)
        }
        other => other.map(ScanDeclarationView::Venue),
    }
}

/// The latest declaration of the scanned person (recorded in their access log).
pub async fn declaration(
    services: &Services,
    view: ScanDeclarationView,
) -> Result<serde_json::Value, ServiceError> {
    match view {
        ScanDeclarationView::Venue(view) => venues::scanned_declaration(services, view).await,
        ScanDeclarationView::Grid(view) => grids::scanned_declaration(services, view).await,
    }
}
