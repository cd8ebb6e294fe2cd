//! One SQL text for both backends: statements written with `$1, $2, …` placeholders (which
//! sqlx accepts on SQLite too) and portable SQL, bound from a small argument list. Rows are
//! read into `sqlx::FromRow` structs, which decode from either backend.

use event_store::Database;
use futures_util::future::BoxFuture;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::Tx;

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match *arg {
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

impl Tx {
    /// Runs one statement with `args`; answers the rows affected.
    pub fn exec<'a>(
        &'a mut self,
        sql: &'a str,
        args: &'a [Arg<'a>],
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => Ok(bind_all!(sqlx::query(sql), args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()),
                Tx::Postgres(tx) => Ok(bind_all!(sqlx::query(sql), args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()),
            }
        })
    }
}

/// Every row of a query, as `T`.
pub async fn fetch_all<T>(db: &Database, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    match db {
        Database::Sqlite(pool) => {
            bind_all!(sqlx::query_as::<_, T>(sql), args)
                .fetch_all(pool)
                .await
        }
        Database::Postgres(pool) => {
            bind_all!(sqlx::query_as::<_, T>(sql), args)
                .fetch_all(pool)
                .await
        }
    }
}

/// The first row of a query, if any.
pub async fn fetch_optional<T>(
    db: &Database,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Option<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    match db {
        Database::Sqlite(pool) => {
            bind_all!(sqlx::query_as::<_, T>(sql), args)
                .fetch_optional(pool)
                .await
        }
        Database::Postgres(pool) => {
            bind_all!(sqlx::query_as::<_, T>(sql), args)
                .fetch_optional(pool)
                .await
        }
    }
}

/// The stream id's part after `category-`, when the stream is of that category (one of
/// [`domain::streams`]) and of no longer one it is a prefix of (`notice-number-2026` is not a
/// `notice`, `org-member-…` not an `org`).
pub fn stream_id<'a>(stream: &'a str, category: &str) -> Option<&'a str> {
    domain::streams::split(stream)
        .filter(|(of, _)| *of == category)
        .map(|(_, id)| id)
}

/// Decodes a recorded event as `E`, naming the position when it fails.
pub fn decode<E: domain::DomainEvent>(
    e: &event_store::RecordedEvent,
) -> Result<E, crate::ProjectionError> {
    E::decode(&e.event_type, e.schema_version, &e.payload).map_err(|err| {
        crate::ProjectionError::Decode {
            position: e.position,
            detail: err.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::stream_id;
    use domain::streams;

    #[test]
    fn a_stream_is_of_its_longest_category_only() {
        assert_eq!(stream_id("notice-n1", streams::NOTICE), Some("n1"));
        assert_eq!(stream_id("notice-number-2026", streams::NOTICE), None);
        assert_eq!(
            stream_id("notice-number-2026", streams::NOTICE_NUMBER),
            Some("2026")
        );
        assert_eq!(stream_id("org-member-o-p", streams::ORG), None);
        assert_eq!(stream_id("org-o", streams::ORG), Some("o"));
        assert_eq!(stream_id("orgs-o", streams::ORG), None);
    }
}
