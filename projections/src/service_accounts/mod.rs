//! Service accounts by token hash: what the API's bearer authentication looks up.

use async_trait::async_trait;
use domain::service_account::ServiceAccountEvent;
use domain::streams;
use domain::DomainEvent;
use event_store::{Backend, Database, RecordedEvent};
use sqlx::Row;

use crate::query::stream_id;
use crate::{Projection, ProjectionError, Tables, Tx};

/// Maintains `service_accounts(account_id, role, name, token_hash, created_at, revoked)`.
#[derive(Debug, Clone, Copy)]
pub struct ServiceAccounts;

#[async_trait]
impl Projection for ServiceAccounts {
    fn name(&self) -> &'static str {
        "service_accounts"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["service_accounts"]
    }

    fn schema(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => include_str!("schema.sqlite.sql"),
            Backend::Postgres => include_str!("schema.postgres.sql"),
        }
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for e in events {
            let Some(account_id) = stream_id(&e.stream, streams::SERVICE_ACCOUNT) else {
                continue;
            };
            let event = ServiceAccountEvent::decode(&e.event_type, e.schema_version, &e.payload)
                .map_err(|err| ProjectionError::Decode {
                    position: e.position,
                    detail: err.to_string(),
                })?;
            match event {
                ServiceAccountEvent::ServiceAccountCreated {
                    role,
                    name,
                    token_hash,
                    at,
                } => {
                    let at = at.unix_timestamp();
                    match tx {
                        Tx::Sqlite(tx) => {
                            sqlx::query(&tables.sql(include_str!("create.sqlite.sql")))
                                .bind(account_id)
                                .bind(role.as_str())
                                .bind(name.as_str())
                                .bind(&token_hash.0)
                                .bind(at)
                                .execute(&mut **tx)
                                .await?;
                        }
                        Tx::Postgres(tx) => {
                            sqlx::query(&tables.sql(include_str!("create.postgres.sql")))
                                .bind(account_id)
                                .bind(role.as_str())
                                .bind(name.as_str())
                                .bind(&token_hash.0)
                                .bind(at)
                                .execute(&mut **tx)
                                .await?;
                        }
                    }
                }
                ServiceAccountEvent::ServiceAccountRevoked { .. } => match tx {
                    Tx::Sqlite(tx) => {
                        sqlx::query(&tables.sql(include_str!("revoke.sqlite.sql")))
                            .bind(account_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Tx::Postgres(tx) => {
                        sqlx::query(&tables.sql(include_str!("revoke.postgres.sql")))
                            .bind(account_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                },
            }
        }
        Ok(())
    }
}

/// An active service account, as authentication needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAccount {
    pub account_id: String,
    pub role: String,
}

/// The active (not revoked) account holding the token with this hash.
pub async fn by_token_hash(
    db: &Database,
    token_hash: &str,
) -> Result<Option<ActiveAccount>, sqlx::Error> {
    let row = match db {
        Database::Sqlite(pool) => sqlx::query(include_str!("by_token.sqlite.sql"))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?,
        Database::Postgres(pool) => sqlx::query(include_str!("by_token.postgres.sql"))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?,
    };
    Ok(row.map(|(account_id, role)| ActiveAccount { account_id, role }))
}
