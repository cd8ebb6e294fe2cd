//! Throw-away databases for tests: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database (created from `YUEKANG_TEST_POSTGRES_URL`, dropped afterwards).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

use crate::db::Database;

/// The variable naming the PostgreSQL server the tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "YUEKANG_TEST_POSTGRES_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub db: Database,
    /// The URL to connect to this database again (to test reopening).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

impl TestDatabase {
    /// A migrated SQLite database in a new temporary directory.
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("yuekang-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.join("yuekang.db").display());
        let db = Database::connect(&url).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        Self {
            db,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A migrated PostgreSQL database of its own, or `None` (with a notice on stderr, once
    /// per test binary) when `YUEKANG_TEST_POSTGRES_URL` is not set.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                // Written to the real stderr, past the test harness's capture.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: PostgreSQL tests SKIPPED: {POSTGRES_URL_VAR} is not set \
                     (e.g. {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/test)\n"
                );
            });
            return None;
        };
        let name = format!("yk_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .expect("connect to the PostgreSQL test server");
        if let Database::Postgres(pool) = &admin {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(pool)
                .await
                .expect("create a test database");
        }
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let db = Database::connect(&url)
            .await
            .expect("connect to the test database");
        db.migrate().await.expect("migrate PostgreSQL");
        Some(Self {
            db,
            url,
            cleanup: Cleanup::PgDatabase { admin_url, name },
        })
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a thread with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(Database::Postgres(pool)) = Database::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&pool)
                            .await;
                            pool.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Runs each named `async fn(TestDatabase)` once on SQLite and once on PostgreSQL (skipped,
/// with a notice, when `YUEKANG_TEST_POSTGRES_URL` is unset): `backend_tests!(a, b, c);`
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestDatabase::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::testing::TestDatabase::postgres().await else {
                        return;
                    };
                    super::$name(db).await;
                }
            )*
        }
    };
}
