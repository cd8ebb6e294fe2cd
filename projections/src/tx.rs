//! A read-model transaction on either backend.

use event_store::Database;
use futures_util::future::BoxFuture;
use sqlx::{Executor, Postgres, Sqlite, Transaction};

/// The transaction a projection applies events in; it also carries the checkpoint update.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite, so it queues behind other
    /// writers instead of failing on upgrade).
    ///
    /// The methods here return boxed futures: as plain `async fn`s, the borrows of sqlx
    /// executors make callers' futures fail the `Send` check of `tokio::spawn`.
    pub fn begin(db: &Database) -> BoxFuture<'_, Result<Self, sqlx::Error>> {
        Box::pin(async move {
            Ok(match db {
                Database::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
                Database::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            })
        })
    }

    /// Runs `sql` (one or more statements, no parameters).
    pub fn run_script<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => tx.execute(sqlx::raw_sql(sql)).await.map(drop),
                Tx::Postgres(tx) => tx.execute(sqlx::raw_sql(sql)).await.map(drop),
            }
        })
    }

    pub fn commit(self) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => tx.commit().await,
                Tx::Postgres(tx) => tx.commit().await,
            }
        })
    }

    pub fn rollback(self) -> BoxFuture<'static, Result<(), sqlx::Error>> {
        Box::pin(async move {
            match self {
                Tx::Sqlite(tx) => tx.rollback().await,
                Tx::Postgres(tx) => tx.rollback().await,
            }
        })
    }
}
