//! The check behind docs/privacy.md, on SQLite and PostgreSQL: after a scripted day, no name,
//! phone, document number or address that the page says is sealed appears in clear anywhere
//! the server keeps data (SQLite: every file of the data directory and of the database,
//! including its WAL; PostgreSQL: every row of every table, as text, and the data directory);
//! and after the retention period the day's link key is gone from all of them.

use std::path::{Path, PathBuf};

use event_store::testing::TestDatabase;
use event_store::{Database, EventReader};
use serde_json::json;
use time::Duration;
use yuekang_tests::{body, TestApp};

use super::grids::{grid_with_worker, resident, visit};
use super::medical::staff;
use super::venues::{venue_with_inspector, CITIZEN};

event_store::backend_tests!(no_sealed_value_is_kept_in_clear_and_expired_link_keys_are_gone,);

/// Everything the server stores, as bytes: the data directory's files, the SQLite database's
/// files, and for PostgreSQL every row of every table of the database as text.
async fn stored(app: &TestApp, db: &Database, url: &str) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![app.data_dir().to_owned()];
    if let Some(path) = url.strip_prefix("sqlite://") {
        if let Some(dir) = Path::new(path).parent() {
            dirs.push(dir.to_owned());
        }
    }
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            if entry.path().is_file() {
                found.push((
                    entry.path().display().to_string(),
                    std::fs::read(entry.path()).expect("read"),
                ));
            }
        }
    }
    if let Database::Postgres(pool) = db {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(table_name) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(pool)
        .await
        .expect("tables");
        for table in tables {
            let rows: Option<String> = sqlx::query_scalar(&format!(
                "SELECT string_agg(t::text, E'\\n') FROM {table} t"
            ))
            .fetch_one(pool)
            .await
            .expect("rows");
            found.push((table, rows.unwrap_or_default().into_bytes()));
        }
    }
    found
}

/// Where `value` occurs in what is stored.
fn places(stored: &[(String, Vec<u8>)], value: &str) -> Vec<String> {
    stored
        .iter()
        .filter(|(_, bytes)| bytes.windows(value.len()).any(|w| w == value.as_bytes()))
        .map(|(name, _)| name.clone())
        .collect()
}

async fn checkpoint(db: &Database) {
    if let Database::Sqlite(pool) = db {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .expect("checkpoint");
    }
}

async fn no_sealed_value_is_kept_in_clear_and_expired_link_keys_are_gone(db: TestDatabase) {
    let url = db.url.clone();
    let app = TestApp::spawn(db).await;
    let database = app.state.services.db.clone();
    // The scripted day: each value below is one the page lists as sealed (or never stored).
    let citizen_phone = "13700001111";
    let (citizen, citizen_id) = {
        let assertion = app.assertion_with(
            "resident_id",
            CITIZEN,
            "李四强",
            Some(citizen_phone),
            "face",
        );
        let (status, session) = body(
            app.post_json("/v1/sessions", &json!({ "assertion": assertion }))
                .await,
        )
        .await;
        assert_eq!(status, 201, "{session}");
        (
            session["token"].as_str().expect("token").to_owned(),
            session["person_id"].as_str().expect("id").to_owned(),
        )
    };
    let (status, child) = body(
        app.post_json_as(
            &citizen,
            "/v1/me/family",
            &json!({
                "assertion": app.member_assertion(&citizen_id, "birth_certificate", "M440305202", "李小宝", "birth_certificate"),
                "relation": "child",
            }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{child}");
    let feed = app.service_token("feed").await;
    let (status, fed) = body(
        app.post_json_as(
            &feed,
            "/v1/feed/batches",
            &json!({"records": [{
                "record_id": "psb-9", "document": {"type": "passport", "number": "G87654321"},
                "name": "赵未登", "reason": "close_contact", "action": "hit",
                "effective_at": "2026-03-01T10:00:00+08:00", "region": "440305"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    // The grid's set-up appoints the province admin (grids' serial 10, 张省) and region
    // admins (王官).
    let (grid, _, worker, _) = grid_with_worker(&app, true).await;
    let (admin, _) = app.login(&resident(10), "张省").await;
    staff(&app, &admin, 5).await;
    let (_, inspector, _, venue_id) = venue_with_inspector(&app).await;
    let code = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, scanned) = body(
        app.post_json_as(
            &inspector,
            "/v1/scans",
            &json!({"token": code, "context": {"venue_id": venue_id}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{scanned}");
    let (status, recorded) = visit(
        &app,
        &worker,
        &grid,
        json!({
            "manual": {
                "name": "王手录",
                "document": {"type": "birth_certificate", "number": "B555012340"},
                "phone": "13600002222",
                "address": "东城街道光明路88号",
            },
            "temperature_c": 36.6,
            "symptoms": [],
        }),
    )
    .await;
    assert_eq!(status, 201, "{recorded}");
    let head = app.state.store.last_position().await.expect("head");
    app.state.wait_for(Some(head)).await.expect("caught up");
    checkpoint(&database).await;

    let sealed = [
        // The citizen: name, phone, document number.
        "李四强",
        citizen_phone,
        CITIZEN,
        // A family member added with a birth certificate.
        "李小宝",
        "M440305202",
        // Someone the feed named before they registered.
        "赵未登",
        "G87654321",
        // Region admins as appointed (their names are sealed in the appointment).
        "张省",
        "王官",
        // Medical staff's contact (name and phone).
        "李医生",
        "13800138000",
        // A person entered by hand in a grid.
        "王手录",
        "B555012340",
        "13600002222",
        "光明路88号",
    ];
    let all = stored(&app, &database, &url).await;
    assert!(
        all.iter().map(|(_, b)| b.len()).sum::<usize>() > 10_000,
        "something was read"
    );
    for value in sealed {
        assert_eq!(
            places(&all, value),
            Vec::<String>::new(),
            "{value} in clear"
        );
    }
    // The scan linked the citizen through the day's key, which is stored (wrapped).
    let wrapped: String = match &database {
        Database::Sqlite(pool) => {
            sqlx::query_scalar(
                "SELECT wrapped FROM subject_keys WHERE subject = 'links-2026-03-02'",
            )
            .fetch_one(pool)
            .await
        }
        Database::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT wrapped FROM subject_keys WHERE subject = 'links-2026-03-02'",
            )
            .fetch_one(pool)
            .await
        }
    }
    .expect("the day's link key");
    assert!(!places(&all, &wrapped).is_empty());

    // After the retention period the key is gone: from the tables, and (SQLite, which
    // overwrites deleted content: secure_delete) from the files once the WAL is checkpointed.
    app.clock.advance(Duration::days(29));
    let run = services::links::run_retention(&app.state.services)
        .await
        .expect("retention");
    assert_eq!(run.shredded, [time::macros::date!(2026 - 03 - 02)]);
    checkpoint(&database).await;
    let after = stored(&app, &database, &url).await;
    assert_eq!(
        places(&after, &wrapped),
        Vec::<String>::new(),
        "the link key is gone"
    );
    for value in sealed {
        assert_eq!(
            places(&after, value),
            Vec::<String>::new(),
            "{value} in clear"
        );
    }
    app.stop().await;
}
