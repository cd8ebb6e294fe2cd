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
/// [`domain::streams`]). A category is a prefix of longer ones (`org` of `org-member`), so
/// callers test the longer categories first.
pub fn stream_id<'a>(stream: &'a str, category: &str) -> Option<&'a str> {
    stream
        .strip_prefix(category)
        .and_then(|rest| rest.strip_prefix('-'))
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
