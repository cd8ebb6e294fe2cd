//! PostgreSQL done properly: the server runs as a role that can only read and append the log,
//! and its connections are TLS (`sslmode=require`, `verify-full`) against a certificate this
//! test makes and installs in the local cluster. PostgreSQL only: without
//! `YUEKANG_TEST_POSTGRES_URL` these tests print the suites' notice and pass.

use std::os::unix::fs::PermissionsExt;

use event_store::testing::TestDatabase;
use event_store::Database;
use serde_json::json;
use yuekang_tests::{body, TestApp};

/// A login role for the server, made once per cluster (roles are cluster-wide).
const APP_ROLE: &str = "yuekang_test_app";

async fn exec(pool: &sqlx::PgPool, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(pool).await.map(drop)
}

fn pool_of(db: &Database) -> &sqlx::PgPool {
    match db {
        Database::Postgres(pool) => pool,
        Database::Sqlite(_) => unreachable!("PostgreSQL tests"),
    }
}

/// `url` with its user replaced by `user`.
fn as_user(url: &str, user: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{}{user}@{host}", &url[..scheme_end])
}

#[tokio::test]
async fn the_server_runs_as_a_role_that_cannot_rewrite_the_log() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let admin = pool_of(&db.db);
    // Concurrent first runs race to create the role: one wins, the others see it exists.
    let _ = exec(
        admin,
        &format!(
            "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ),
    )
    .await;
    let app_url = as_user(&db.url, APP_ROLE);
    let owner_url = db.url.clone();
    let app = TestApp::spawn_with_url(db, app_url.clone(), |s| {
        s.database_owner_url = Some(owner_url);
    })
    .await;
    assert_eq!(
        app.state.services.db.current_role().await.expect("role"),
        APP_ROLE
    );
    assert!(!app
        .state
        .services
        .db
        .can_rewrite_log()
        .await
        .expect("privileges"));

    // The whole server works as that role: sign-in, a venue, a check-in, a projection
    // rebuild (which makes and drops tables), reads.
    let (admin_token, _) = app.login("44010619900307001X", "张三强").await;
    let venue = json!({"region": "440106001", "address": "天河路208号", "type": "retail", "name": "天河城", "phone": "13912345678"});
    let (status, created) = body(app.post_json_as(&admin_token, "/v1/venues", &venue).await).await;
    assert_eq!(status, 201, "{created}");
    let analyst = app.service_token("analyst").await;
    let (status, rebuilt) = body(
        app.post_as(&analyst, "/v1/projections/venues/rebuild")
            .await,
    )
    .await;
    assert!(status == 202 || status == 200, "{status} {rebuilt}");
    let auditor = app.service_token("auditor").await;
    let (status, verify) = body(app.post_as(&auditor, "/v1/audit/verification").await).await;
    assert_eq!(status, 200, "{verify}");
    assert_eq!(verify["ok"], true);

    // What the role may not do, tried on its own connection.
    let role_db = Database::connect(&app_url)
        .await
        .expect("connect as the role");
    let pool = pool_of(&role_db);
    for sql in [
        "UPDATE events SET payload = '{}' WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER USER",
        "DROP TRIGGER events_refuse_update_delete ON events",
        "CREATE TRIGGER sneak BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_refuse_change()",
        "DROP TABLE events",
        "ALTER TABLE events ADD COLUMN sneak TEXT",
        "UPDATE idempotency_keys SET response = '{}'",
        "UPDATE subject_keys SET wrapped = 'x'",
    ] {
        let err = exec(pool, sql).await.expect_err(sql);
        let message = err.to_string();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{sql}: {message}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .expect("count");
    assert!(count > 0, "the role still reads the log");
    role_db.close().await;
    app.stop().await;
}

/// Makes a CA and a certificate for `localhost` and 127.0.0.1 signed by it, installs them as
/// the cluster's server certificate (files in its data directory, owned by its account) and
/// reloads; returns the CA's PEM.
async fn install_test_certificate(admin: &sqlx::PgPool) -> String {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Yuekang test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let server_key = KeyPair::generate().expect("server key");
    let mut server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_cert = server
        .signed_by(&server_key, &ca_cert, &ca_key)
        .expect("server certificate");

    let data_dir: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(admin)
        .await
        .expect("the data directory (the test URL's role must be a superuser)");
    let dir = std::path::Path::new(&data_dir);
    let owner = std::fs::metadata(dir).expect("data directory");
    let (uid, gid) = (
        std::os::unix::fs::MetadataExt::uid(&owner),
        std::os::unix::fs::MetadataExt::gid(&owner),
    );
    let cert_path = dir.join("yuekang-test-server.crt");
    let key_path = dir.join("yuekang-test-server.key");
    for (path, contents, mode) in [
        (&cert_path, server_cert.pem(), 0o644),
        (&key_path, server_key.serialize_pem(), 0o600),
    ] {
        std::fs::write(path, contents).unwrap_or_else(|e| {
            panic!(
                "writing {} (the TLS test installs its certificate in the local cluster's \
                 data directory, so it runs on the database's machine as root): {e}",
                path.display()
            )
        });
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to the cluster");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    // ALTER SYSTEM runs outside a transaction: one statement at a time.
    for setting in [
        "ssl = on".to_owned(),
        format!("ssl_cert_file = '{}'", cert_path.display()),
        format!("ssl_key_file = '{}'", key_path.display()),
    ] {
        sqlx::raw_sql(&format!("ALTER SYSTEM SET {setting}"))
            .execute(admin)
            .await
            .expect("configure TLS");
    }
    let reloaded: bool = sqlx::query_scalar("SELECT pg_reload_conf()")
        .fetch_one(admin)
        .await
        .expect("reload");
    assert!(reloaded);
    // The reload is asynchronous: wait until new connections present the new certificate.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    ca_cert.pem()
}

async fn uses_tls(url: &str) -> Result<bool, String> {
    // The debug form carries the cause (the TLS error) under the context.
    let db = Database::connect(url).await.map_err(|e| format!("{e:?}"))?;
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pool_of(&db))
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    Ok(ssl)
}

#[tokio::test]
async fn connections_are_tls_with_require_and_verify_full() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let ca_pem = install_test_certificate(pool_of(&db.db)).await;
    let dir = std::env::temp_dir().join(format!("yuekang-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, &ca_pem).expect("write the CA");
    let stranger = {
        use rcgen::{CertificateParams, KeyPair};
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).expect("stranger CA").pem()
    };
    let stranger_path = dir.join("stranger.pem");
    std::fs::write(&stranger_path, stranger).expect("write");

    let with = |query: &str| {
        let sep = if db.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{query}", db.url)
    };
    let require = with("sslmode=require");
    assert_eq!(uses_tls(&require).await, Ok(true), "sslmode=require");
    let verify_full = with(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca_path.display()
    ));
    assert_eq!(uses_tls(&verify_full).await, Ok(true), "verify-full by IP");
    let forged = with(&format!(
        "sslmode=verify-full&sslrootcert={}",
        stranger_path.display()
    ));
    let refused = uses_tls(&forged)
        .await
        .expect_err("a certificate from another CA");
    assert!(
        refused.to_lowercase().contains("certificate")
            || refused.to_lowercase().contains("unknownissuer"),
        "{refused}"
    );
    let disabled = with("sslmode=disable");
    assert_eq!(uses_tls(&disabled).await, Ok(false), "the check can fail");

    // The server itself over verify-full: sign-in and a write go through.
    let app = TestApp::spawn_with_url(db, verify_full, |_| {}).await;
    let (token, _) = app.login("44010619900307001X", "张三强").await;
    let (status, me) = body(app.get_as(&token, "/v1/me").await).await;
    assert_eq!(status, 200, "{me}");
    let ssl: bool = sqlx::query_scalar("SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE datname = current_database()")
        .fetch_one(pool_of(&app.state.services.db))
        .await
        .expect("ssl of the server's connections");
    assert!(ssl, "every connection of the server's pool is TLS");
    app.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
