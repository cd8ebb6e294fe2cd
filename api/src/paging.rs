//! Paging of lists over HTTP: the `limit`, `after` and `min_position` query, the page answer
//! (`{"items","next"}`), and the problem a bad limit or cursor gets. The use cases page with
//! `services::page`.

use serde::{Deserialize, Serialize};
use services::page::{Page, PageRequest};
use utoipa::{IntoParams, ToResponse, ToSchema};

use crate::error::{ApiError, Problem};

/// `?limit=&after=&min_position=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Wait (up to 5 s, else 503 `projection.lagging`) until the read models have applied
    /// this log position.
    pub min_position: Option<u64>,
}

impl PageQuery {
    /// The page asked for: `422` naming a bad limit or cursor.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(self.limit, self.after.as_deref())?)
    }
}

/// A page of items and the cursor of the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

impl<T> PageView<T> {
    /// The page with each item shown as `view`.
    pub fn of<U>(page: Page<U>, view: impl FnMut(U) -> T) -> Self {
        PageView {
            items: page.items.into_iter().map(view).collect(),
            next: page.next,
        }
    }
}

/// A bad limit or cursor.
#[derive(Debug, ToResponse)]
#[response(
    description = "Bad limit or cursor (`page.limit`, `page.cursor`)",
    content_type = "application/problem+json"
)]
pub struct BadPage(#[to_schema] pub Problem);
