//! The `yuekang` binary as an operator runs it, against each backend.

use std::process::Command;

use event_store::hash::{self, ChainKey};
use event_store::testing::TestDatabase;
use event_store::{
    AppendRequest, Database, EventAppender, EventReader, EventStore, ExpectedVersion, Metadata,
    NewEvent, StoreOptions, StreamId,
};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn yuekang(db: &TestDatabase, data_dir: &std::path::Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_yuekang"))
        .arg("--db")
        .arg(&db.url)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run yuekang");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A data directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    let dir = std::env::temp_dir().join(format!("yuekang-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    TempDir(dir)
}

/// A data directory holding a keys file, as every command that opens the log needs.
fn keyed_dir() -> (TempDir, ChainKey) {
    let dir = temp_dir();
    let (keys, _) = crypto::keys::Keys::load_or_create_dev(&dir).expect("keys");
    (dir, ChainKey::new(keys.chain_key))
}

/// The store as the server opens it: its chain keyed with the keys file's `chain_key`.
async fn open(db: &TestDatabase, key: &ChainKey) -> EventStore {
    let options = StoreOptions {
        chain_key: key.clone(),
        ..StoreOptions::default()
    };
    EventStore::open(db.db.clone(), options)
        .await
        .expect("open")
}

async fn seed(db: &TestDatabase, key: &ChainKey, n: u64) {
    let store = open(db, key).await;
    for i in 0..n {
        store
            .append(
                AppendRequest::single(
                    StreamId::parse("sample-0192f0c4-7e57").expect("id"),
                    ExpectedVersion::Exact(i),
                    vec![NewEvent::new(
                        if i % 2 == 0 { "Even" } else { "Odd" },
                        1,
                        &serde_json::json!({ "i": i }),
                    )
                    .expect("json")],
                )
                .with_metadata(Metadata {
                    actor: Some("person-0192f0c4-7e57".into()),
                    ..Metadata::default()
                }),
            )
            .await
            .expect("append");
    }
    store.shutdown().await;
}

async fn exec(db: &Database, sql: &str) {
    match db {
        Database::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
    }
    .expect("test-only SQL");
}

event_store::backend_tests!(
    migrate_applies_and_reports,
    audit_verify_passes_then_names_the_tampered_position,
    projections_list_and_rebuild,
    export_events_is_pseudonymised_ndjson,
    service_account_create_prints_only_the_token,
    admin_bootstrap_appoints_the_province_admin_once,
    feed_import_reads_csv_and_ndjson_and_counts_outcomes,
    retention_run_shreds_the_link_keys_of_past_days,
);

async fn retention_run_shreds_the_link_keys_of_past_days(db: TestDatabase) {
    let (dir, _) = keyed_dir();
    assert_eq!(yuekang(&db, &dir, &["migrate"]).code, 0);
    let keys = crypto::keys::Keys::load(&dir.join(crypto::keys::DEV_KEYS_FILE)).expect("keys");
    let vault = crypto::vault::Vault::new(db.db.clone(), keys.master_key);
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date();
    let person = *uuid::Uuid::now_v7().as_bytes();
    let mut kept = Vec::new();
    for day in [
        today - time::Duration::days(40),
        today - time::Duration::days(29),
        today - time::Duration::days(28),
        today,
    ] {
        let subject = format!("links-{day}");
        kept.push((
            subject.clone(),
            vault.pseudonym(&subject, person).await.expect("key"),
        ));
    }
    let run = yuekang(&db, &dir, &["retention", "run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!("shredded the links of {}", today - time::Duration::days(40)).as_str(),
            format!("shredded the links of {}", today - time::Duration::days(29)).as_str(),
            format!(
                "2 day(s) shredded; links are kept from {} (28 days)",
                today - time::Duration::days(28)
            )
            .as_str(),
        ],
        "{}",
        run.stdout
    );
    let fresh = crypto::vault::Vault::new(db.db.clone(), keys.master_key);
    for (i, (subject, pseudonym)) in kept.iter().enumerate() {
        let resolved = fresh.resolve(subject, *pseudonym).await.expect("resolve");
        assert_eq!(resolved, (i >= 2).then_some(person), "{subject}");
    }
}

async fn migrate_applies_and_reports(db: TestDatabase) {
    let (dir, _) = keyed_dir();
    let run = yuekang(&db, &dir, &["migrate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("migrations applied to "));
}

async fn audit_verify_passes_then_names_the_tampered_position(db: TestDatabase) {
    let (dir, key) = keyed_dir();
    seed(&db, &key, 6).await;
    let run = yuekang(&db, &dir, &["audit", "verify"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "hash chain intact: 6 events checked");

    let tamper = match db.db {
        Database::Sqlite(_) => "DROP TRIGGER events_refuse_update; UPDATE events SET payload = '{\"i\":40}' WHERE position = 4",
        Database::Postgres(_) => "DROP TRIGGER events_refuse_update_delete ON events; UPDATE events SET payload = '{\"i\":40}' WHERE position = 4",
    };
    exec(&db.db, tamper).await;
    let run = yuekang(&db, &dir, &["audit", "verify"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("hash chain broken at position 4"),
        "{}",
        run.stderr
    );

    // A database writer recomputes the chain from the tampered event on: without the chain
    // key (here any other key, or the unkeyed hash of old) it still does not verify.
    rechain(&db, &ChainKey::new([9; 32]), 4).await;
    let run = yuekang(&db, &dir, &["audit", "verify"]);
    assert_eq!(run.code, 1, "a chain recomputed without the key is refused");
    assert!(
        run.stderr.contains("hash chain broken at position 4"),
        "{}",
        run.stderr
    );
    // Only the key was missing: recomputed with it, the rewrite would pass.
    rechain(&db, &key, 4).await;
    let run = yuekang(&db, &dir, &["audit", "verify"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Rewrites the stored hashes from position `from` on as a database writer holding `key`
/// would (the update trigger must be gone, as the tampering above dropped it).
async fn rechain(db: &TestDatabase, key: &ChainKey, from: u64) {
    let store = open(db, key).await;
    let events = store.read_all(0, 1_000).await.expect("read");
    store.shutdown().await;
    let mut prev = hash::GENESIS;
    for event in &events {
        if event.position >= from {
            let new = hash::chain(key, &prev, &event.hash_input());
            let sql = match db.db {
                Database::Sqlite(_) => format!(
                    "UPDATE events SET hash = X'{}' WHERE position = {}",
                    hex::encode_upper(new),
                    event.position
                ),
                Database::Postgres(_) => format!(
                    "UPDATE events SET hash = '\\x{}' WHERE position = {}",
                    hex::encode_upper(new),
                    event.position
                ),
            };
            exec(&db.db, &sql).await;
            prev = new;
        } else {
            prev = event.hash;
        }
    }
}

async fn projections_list_and_rebuild(db: TestDatabase) {
    let (dir, key) = keyed_dir();
    seed(&db, &key, 5).await;
    let list = yuekang(&db, &dir, &["projections", "list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("event_counts"))
        .expect("row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, ["event_counts", "0", "5", "1", "idle"]);

    let rebuild = yuekang(&db, &dir, &["projections", "rebuild", "event_counts"]);
    assert_eq!(rebuild.code, 0, "{}", rebuild.stderr);
    assert!(rebuild
        .stdout
        .contains("event_counts: rebuilt and swapped in at position 5"));
    let list = yuekang(&db, &dir, &["projections", "list"]);
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("event_counts"))
        .expect("row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..4], ["event_counts", "5", "0", "2"]);
    assert_eq!(
        projections::event_counts::counts(&db.db)
            .await
            .expect("counts"),
        vec![("Even".to_owned(), 3), ("Odd".to_owned(), 2)]
    );

    let unknown = yuekang(&db, &dir, &["projections", "rebuild", "nope"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .starts_with("yuekang: no projection is named \"nope\""),
        "{}",
        unknown.stderr
    );
    assert_eq!(unknown.stderr.trim().lines().count(), 1, "one sentence");
}

async fn export_events_is_pseudonymised_ndjson(db: TestDatabase) {
    let (dir, key) = keyed_dir();
    seed(&db, &key, 4).await;
    let run = yuekang(&db, &dir, &["export", "events", "--after", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["position"], 2);
    assert_eq!(lines[0]["type"], "Odd");
    assert_eq!(lines[0]["data"], serde_json::json!({ "i": 1 }));
    assert!(!run.stdout.contains("0192f0c4"), "ids are pseudonymised");
    let stream = lines[0]["stream"].as_str().expect("stream");
    assert!(stream.starts_with("sample-p"));
    assert!(
        lines.iter().all(|l| l["stream"] == stream),
        "one subject, one pseudonym"
    );
    // The same key gives the same pseudonyms next time.
    let again = yuekang(&db, &dir, &["export", "events", "--after", "1"]);
    assert_eq!(again.stdout, run.stdout);
}

async fn service_account_create_prints_only_the_token(db: TestDatabase) {
    let (dir, key) = keyed_dir();
    let run = yuekang(
        &db,
        &dir,
        &[
            "service-account",
            "create",
            "--role",
            "auditor",
            "--name",
            "Provincial audit office",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = run.stdout.trim();
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "stdout holds the token alone"
    );
    assert!(
        token.starts_with("yk_sa_") && token.len() == 6 + 64,
        "{token}"
    );
    assert!(run.stderr.contains("created auditor service account"));

    // The event records the role and the token's hash, never the token.
    let store = open(&db, &key).await;
    let events = event_store::EventReader::read_all(&store, 0, 10)
        .await
        .expect("read");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "ServiceAccountCreated");
    assert!(events[0].stream.starts_with("service-account-"));
    assert!(!events[0].payload.contains(token));
    assert!(events[0].payload.contains("\"role\":\"auditor\""));
    assert_eq!(
        events[0].metadata().expect("metadata").actor.as_deref(),
        Some("operator")
    );
    store.shutdown().await;

    let bad = yuekang(
        &db,
        &dir,
        &[
            "service-account",
            "create",
            "--role",
            "admin",
            "--name",
            "x",
        ],
    );
    assert_eq!(bad.code, 2, "an unknown role is a usage error");
    let blank = yuekang(
        &db,
        &dir,
        &[
            "service-account",
            "create",
            "--role",
            "feed",
            "--name",
            "  ",
        ],
    );
    assert_eq!(blank.code, 1);
    assert!(
        blank.stderr.contains("1 to 100 characters"),
        "{}",
        blank.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_yuekang"))
        .arg("frobnicate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_yuekang"))
        .arg("--help")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve"));
}

async fn region_events(db: &TestDatabase) -> Vec<event_store::RecordedEvent> {
    let store = EventStore::open(db.db.clone(), StoreOptions::default())
        .await
        .expect("open");
    event_store::EventReader::read_stream(&store, &StreamId::parse("region-44").expect("id"), None)
        .await
        .expect("read")
}

async fn admin_bootstrap_appoints_the_province_admin_once(db: TestDatabase) {
    let dir = temp_dir();
    let args = [
        "admin",
        "bootstrap",
        "--doc-type",
        "resident_id",
        "--doc-number",
        "44010619900307001X",
        "--name",
        "张三强",
    ];
    let no_keys = yuekang(&db, &dir, &args);
    assert_eq!(no_keys.code, 1);
    assert!(no_keys.stderr.contains("keys"), "{}", no_keys.stderr);
    crypto::keys::Keys::load_or_create_dev(&dir).expect("keys");
    let run = yuekang(&db, &dir, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .starts_with("province admin appointed (log position "));
    let again = yuekang(&db, &dir, &args);
    assert_eq!(again.code, 0, "the same appointment again changes nothing");
    let events = region_events(&db).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "RegionAdminAppointed");
    assert!(!events[0].payload.contains("张三强"), "the name is sealed");
    assert!(!events[0].payload.contains("44010619900307001X"));
    assert!(
        events[0].metadata.contains("\"operator\""),
        "{}",
        events[0].metadata
    );
    let other = yuekang(
        &db,
        &dir,
        &[
            "admin",
            "bootstrap",
            "--doc-type",
            "resident_id",
            "--doc-number",
            "440305198511200028",
            "--name",
            "李四",
        ],
    );
    assert_eq!(other.code, 1);
    assert!(
        other.stderr.contains("already has an admin"),
        "{}",
        other.stderr
    );
    let bad = yuekang(
        &db,
        &dir,
        &[
            "admin",
            "bootstrap",
            "--doc-type",
            "resident_id",
            "--doc-number",
            "440106199003070011",
            "--name",
            "张三强",
        ],
    );
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("document.number"), "{}", bad.stderr);
    assert_eq!(bad.stderr.trim().lines().count(), 1, "one sentence");
    assert_eq!(region_events(&db).await.len(), 1);
}

async fn feed_import_reads_csv_and_ndjson_and_counts_outcomes(db: TestDatabase) {
    let dir = temp_dir();
    crypto::keys::Keys::load_or_create_dev(&dir).expect("keys");
    let csv = dir.join("records.csv");
    std::fs::write(
        &csv,
        "record_id,doc_type,doc_number,name,reason,action,effective_at,region\n\
         psb-1,resident_id,44010619900307001X,张三强,close_contact,hit,2026-03-01T10:00:00+08:00,440106\n\
         psb-2,resident_id,440305198511200028,\"李, 四\",home_quarantine,hit,2026-03-01T10:00:00+08:00,440305\n\
         psb-3,resident_id,440106199003070011,某人,confirmed,hit,2026-03-01T10:00:00+08:00,440106\n",
    )
    .expect("write");
    let run = yuekang(&db, &dir, &["feed", "import", csv.to_str().expect("path")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "accepted 2, duplicates 0, refused 1");
    assert!(run.stderr.contains("refused psb-3"), "{}", run.stderr);
    assert!(
        run.stderr.contains("resident_id.check_digit"),
        "{}",
        run.stderr
    );
    let replay = yuekang(&db, &dir, &["feed", "import", csv.to_str().expect("path")]);
    assert_eq!(replay.stdout.trim(), "accepted 0, duplicates 2, refused 1");

    let ndjson = dir.join("records.ndjson");
    std::fs::write(
        &ndjson,
        concat!(
            r#"{"record_id":"psb-4","document":{"type":"resident_id","number":"44010619900307001X"},"name":"张三强","reason":"close_contact","action":"release","effective_at":"2026-03-02T10:00:00+08:00","region":"440106"}"#,
            "\n",
            r#"{"record_id":"psb-1","document":{"type":"resident_id","number":"44010619900307001X"},"name":"张三强","reason":"close_contact","action":"hit","effective_at":"2026-03-01T10:00:00+08:00","region":"440106"}"#,
            "\n{not json\n",
        ),
    )
    .expect("write");
    let run = yuekang(
        &db,
        &dir,
        &[
            "feed",
            "import",
            ndjson.to_str().expect("path"),
            "--batch",
            "1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "accepted 1, duplicates 1, refused 1");
    assert!(run.stderr.contains("refused line 3"), "{}", run.stderr);
}

#[test]
fn dev_assert_needs_the_dev_provider_and_prints_a_verifiable_assertion() {
    let dir = temp_dir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_yuekang"))
            .arg("--data-dir")
            .arg(&*dir)
            .args(args)
            .output()
            .expect("run")
    };
    let args = [
        "dev",
        "assert",
        "--doc-type",
        "resident_id",
        "--doc-number",
        "44010619900307001X",
        "--name",
        "张三强",
        "--phone",
        "13912345678",
    ];
    let missing = run(&args);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("serve --dev"));
    let (keys, _) = crypto::keys::Keys::load_or_create_dev(&dir).expect("keys");
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(token.lines().count(), 1, "the assertion alone on stdout");
    let claims =
        crypto::assertion::verify(&token, &keys.providers, time::OffsetDateTime::now_utc())
            .expect("verifies with the dev provider");
    assert_eq!(claims.doc_number, "44010619900307001X");
    assert_eq!(claims.method, "face");
    let derived = claims
        .sub
        .clone()
        .expect("a subject derived from the document");
    let again = run(&args);
    let again = crypto::assertion::verify(
        String::from_utf8_lossy(&again.stdout).trim(),
        &keys.providers,
        time::OffsetDateTime::now_utc(),
    )
    .expect("verifies");
    assert_eq!(
        again.sub.as_deref(),
        Some(derived.as_str()),
        "stable per document"
    );
    assert!(!derived.contains("44010619900307001X"));
    let chosen = run(&[&args[..], &["--subject", "provider-subject-7"]].concat());
    let chosen = crypto::assertion::verify(
        String::from_utf8_lossy(&chosen.stdout).trim(),
        &keys.providers,
        time::OffsetDateTime::now_utc(),
    )
    .expect("verifies");
    assert_eq!(chosen.sub.as_deref(), Some("provider-subject-7"));
    let bad_method = run(&[&args[..], &["--method", "sms"]].concat());
    assert_eq!(bad_method.status.code(), Some(2));
}
