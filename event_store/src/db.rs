//! Connecting to the configured database and applying the migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine is behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool to the one database holding the log, the read models and their
/// checkpoints.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Connects to `sqlite://PATH` (created if missing, WAL, synchronous=FULL, secure_delete) or
    /// `postgres://…`.
    ///
    /// A SQLite URL may end in `?synchronous=normal`, for a deployment that accepts losing
    /// the last commits (acknowledged ones included) on a power loss or an operating-system
    /// crash, for faster appends; a crash of the process alone loses nothing either way
    /// (README, Configuration). The default is `full`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let (url, synchronous) = sqlite_synchronous(url)?;
            let options = SqliteConnectOptions::from_str(&url)
                .map_err(StoreError::db("parsing the SQLite URL"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("cache_size", "-32000")
                // Deleted rows (a shredded key, a forgotten answer) are overwritten, not left
                // in free pages (docs/privacy.md).
                .pragma("secure_delete", "ON");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .min_connections(1)
                .connect_with(options)
                .await
                .map_err(StoreError::db("opening the SQLite database"))?;
            Ok(Database::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .map_err(StoreError::db("parsing the PostgreSQL URL"))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(3))
                .connect_with(options)
                .await
                .map_err(StoreError::db("connecting to PostgreSQL"))?;
            Ok(Database::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// Another handle on the same database for derived data (the projections' read models):
    /// its commits are not flushed to disk one by one (SQLite `synchronous=NORMAL`, PostgreSQL
    /// `synchronous_commit=off`). A crash of the machine may lose its last commits; they are
    /// applied again from the log, which stays as durable as before: the log's own commits
    /// flush everything written before them. A crash of the process alone loses nothing.
    pub async fn for_derived_data(&self) -> Result<Database, StoreError> {
        match self {
            Database::Sqlite(pool) => {
                let options = (*pool.connect_options())
                    .clone()
                    .synchronous(SqliteSynchronous::Normal);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .min_connections(0)
                    .connect_with(options)
                    .await
                    .map_err(StoreError::db("opening the SQLite pool for derived data"))?;
                Ok(Database::Sqlite(pool))
            }
            Database::Postgres(pool) => {
                let options = (*pool.connect_options())
                    .clone()
                    .options([("synchronous_commit", "off")]);
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(3))
                    .connect_with(options)
                    .await
                    .map_err(StoreError::db("connecting to PostgreSQL for derived data"))?;
                Ok(Database::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Database::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// One round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let ctx = StoreError::db("pinging the database");
        match self {
            Database::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Database::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
        .map_err(ctx)
    }

    /// The role this pool connects as (PostgreSQL); `sqlite` on SQLite, which has none.
    pub async fn current_role(&self) -> Result<String, StoreError> {
        match self {
            Database::Sqlite(_) => Ok("sqlite".to_owned()),
            Database::Postgres(pool) => sqlx::query_scalar("SELECT current_user::text")
                .fetch_one(pool)
                .await
                .map_err(StoreError::db("reading the current role")),
        }
    }

    /// PostgreSQL, run as the schema's owner: grants `role` what the server needs and no
    /// more. On the log (`events`) only SELECT and INSERT, so the server's connection can
    /// neither change nor remove a row nor touch the triggers (only the owner can); the
    /// idempotency records may also be deleted (old answers are forgotten) but not changed;
    /// the vault's keys deleted (shredding); the projections' checkpoints updated; and the schema may hold new tables (projection generations),
    /// which `role` owns. Projection tables and views another role made are handed to `role`
    /// so its rebuilds can drop them. Idempotent. Nothing to do on SQLite.
    pub async fn grant_least_privilege(&self, role: &str) -> Result<(), StoreError> {
        let Database::Postgres(pool) = self else {
            return Ok(());
        };
        let ident = format!("\"{}\"", role.replace('"', "\"\""));
        let literal = format!("'{}'", role.replace('\'', "''"));
        let core =
            "'events', 'idempotency_keys', 'subject_keys', 'projections', '_sqlx_migrations'";
        let sql = format!(
            "GRANT USAGE, CREATE ON SCHEMA public TO {ident};
             REVOKE ALL ON events, idempotency_keys, subject_keys, projections, _sqlx_migrations FROM {ident};
             GRANT SELECT, INSERT ON events TO {ident};
             GRANT SELECT, INSERT, DELETE ON idempotency_keys TO {ident};
             GRANT SELECT, INSERT, DELETE ON subject_keys TO {ident};
             GRANT SELECT, INSERT, UPDATE, DELETE ON projections TO {ident};
             GRANT SELECT ON _sqlx_migrations TO {ident};
             DO $grant$
             DECLARE t record;
             BEGIN
                 FOR t IN SELECT c.relname, c.relkind FROM pg_class c
                          JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')
                            AND c.relname NOT IN ({core})
                            AND pg_get_userbyid(c.relowner) <> {literal}
                 LOOP
                     EXECUTE format('ALTER %s %I OWNER TO %I',
                         CASE t.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, t.relname, {literal});
                 END LOOP;
             END
             $grant$;"
        );
        sqlx::raw_sql(&sql)
            .execute(pool)
            .await
            .map(drop)
            .map_err(StoreError::db("granting the server's role"))
    }

    /// Whether this connection's role could change or remove rows of the log: it may UPDATE,
    /// DELETE or TRUNCATE `events`, or it owns the table (and so its triggers). Always false
    /// on SQLite, whose triggers refuse every such statement to every connection.
    pub async fn can_rewrite_log(&self) -> Result<bool, StoreError> {
        let Database::Postgres(pool) = self else {
            return Ok(false);
        };
        sqlx::query_scalar(
            "SELECT has_table_privilege('events', 'UPDATE')
                 OR has_table_privilege('events', 'DELETE')
                 OR has_table_privilege('events', 'TRUNCATE')
                 OR pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'events'::regclass), 'USAGE')",
        )
        .fetch_one(pool)
        .await
        .map_err(StoreError::db("reading the role's privileges"))
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        match self {
            Database::Sqlite(pool) => pool.close().await,
            Database::Postgres(pool) => pool.close().await,
        }
    }
}

/// A database URL with any password replaced, fit for an error message or a log line.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}

/// The URL without its `synchronous` parameter, and that parameter (`full` when absent).
fn sqlite_synchronous(url: &str) -> Result<(String, SqliteSynchronous), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), SqliteSynchronous::Full));
    };
    let mut synchronous = SqliteSynchronous::Full;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("synchronous", value)) => {
                synchronous = match value.to_ascii_lowercase().as_str() {
                    "full" => SqliteSynchronous::Full,
                    "normal" => SqliteSynchronous::Normal,
                    _ => return Err(StoreError::BadSynchronous(value.to_owned())),
                }
            }
            _ => rest.push(pair),
        }
    }
    let url = match rest.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", rest.join("&")),
    };
    Ok((url, synchronous))
}

#[cfg(test)]
mod synchronous_tests {
    use super::*;

    #[test]
    fn the_sqlite_url_chooses_synchronous_full_unless_told_normal() {
        let full = |url: &str| sqlite_synchronous(url).map(|(u, s)| (u, format!("{s:?}")));
        assert_eq!(
            full("sqlite://a.db").expect("plain"),
            ("sqlite://a.db".into(), "Full".into())
        );
        assert_eq!(
            full("sqlite://a.db?synchronous=normal").expect("normal"),
            ("sqlite://a.db".into(), "Normal".into())
        );
        assert_eq!(
            full("sqlite://a.db?mode=rwc&synchronous=FULL").expect("full"),
            ("sqlite://a.db?mode=rwc".into(), "Full".into())
        );
        assert!(matches!(
            sqlite_synchronous("sqlite://a.db?synchronous=off"),
            Err(StoreError::BadSynchronous(v)) if v == "off"
        ));
    }
}
