//! Paging of lists: how many items a page holds and where it starts, as the use cases take
//! them, and the page they answer.

use crate::{ServiceError, ServiceResult};

/// Most items a page holds.
pub const MAX_LIMIT: u32 = 500;
/// Items a page holds when the caller does not say.
pub const DEFAULT_LIMIT: u32 = 50;

/// A page asked for: `limit` items after the opaque cursor `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<u64>,
}

impl PageRequest {
    /// Parses `limit` (1 to 500, default 50) and the cursor `after` (a number from a previous
    /// page), naming the field and the rule when refused.
    pub fn parse(limit: Option<u32>, after: Option<&str>) -> ServiceResult<Self> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(ServiceError::invalid(
                    "limit",
                    "page.limit",
                    format!("limit must be between 1 and {MAX_LIMIT}"),
                ))
            }
        };
        let after = after
            .map(|raw| {
                raw.parse::<u64>().map_err(|_| {
                    ServiceError::invalid(
                        "after",
                        "page.cursor",
                        "after is a cursor from a previous page",
                    )
                })
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// The offset of an offset-paged list.
    pub fn offset(&self) -> usize {
        usize::try_from(self.after.unwrap_or(0)).unwrap_or(usize::MAX)
    }

    /// The page of `rows` (the whole list) this request asks for, offset-paged.
    pub fn slice<T>(&self, rows: Vec<T>) -> Page<T> {
        let offset = self.offset();
        let limit = self.limit as usize;
        let more = rows.len() > offset.saturating_add(limit);
        Page {
            items: rows.into_iter().skip(offset).take(limit).collect(),
            next: more.then(|| (offset + limit).to_string()),
        }
    }
}

/// A page of items and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors_are_checked() {
        assert_eq!(
            PageRequest::parse(None, None).map(|p| p.limit).ok(),
            Some(50)
        );
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert!(PageRequest::parse(None, Some("x")).is_err());
        assert_eq!(
            PageRequest::parse(Some(2), Some("4")).map(|p| p.after).ok(),
            Some(Some(4))
        );
    }

    #[test]
    fn slices_say_whether_more_follow() {
        let page = PageRequest::parse(Some(2), Some("1")).map(|p| p.slice(vec![1, 2, 3, 4]));
        assert_eq!(
            page.ok(),
            Some(Page {
                items: vec![2, 3],
                next: Some("3".into())
            })
        );
    }
}
