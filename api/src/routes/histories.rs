//! The signed-in person's histories, newest first: declarations, entries, checks, notices and
//! the access log (who read their data).

use actix_web::web;
use services::citizens::{self, HistoryKind};

use crate::answer::Unauthenticated;
use crate::error::ApiError;
use crate::extract::SignedIn;
use crate::paging::{BadPage, PageQuery, PageView};
use crate::state::AppState;

/// One history item as recorded (its fields depend on the history).
pub type HistoryItem = serde_json::Value;

async fn history(
    state: &AppState,
    person: SignedIn,
    query: &PageQuery,
    kind: HistoryKind,
) -> Result<web::Json<PageView<HistoryItem>>, ApiError> {
    let page = query.page()?;
    state.wait_for(query.min_position).await?;
    let page = citizens::history(&state.services, person.0, kind, page).await?;
    Ok(web::Json(PageView::of(page, |item| item)))
}

macro_rules! history_route {
    ($name:ident, $path:literal, $kind:expr, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(get, path = $path, tag = "histories", params(PageQuery),
                    security(("bearer" = [])),
                    responses(
                        (status = 200, description = $what, body = PageView<serde_json::Value>),
                        (status = 401, response = Unauthenticated),
                        (status = 422, response = BadPage),
                    ))]
        pub async fn $name(
            query: web::Query<PageQuery>,
            state: web::Data<AppState>,
            person: SignedIn,
        ) -> Result<web::Json<PageView<HistoryItem>>, ApiError> {
            history(&state, person, &query, $kind).await
        }
    };
}

history_route!(
    my_declarations,
    "/v1/me/declarations",
    HistoryKind::Declarations,
    "Own health declarations, newest first (the newest is the one in force)."
);
history_route!(
    my_entries,
    "/v1/me/entries",
    HistoryKind::Entries,
    "Own entry registrations, newest first."
);
history_route!(
    my_checks,
    "/v1/me/checks",
    HistoryKind::Checks,
    "Own temperature checks, newest first."
);
history_route!(
    my_notices,
    "/v1/me/notices",
    HistoryKind::Notices,
    "Notices for me (appeal decisions, release notices), newest first."
);
history_route!(
    my_access_log,
    "/v1/me/access-log",
    HistoryKind::AccessLog,
    "Who read my data (guardian, venue, grid, medical staff) and when, newest first."
);
