//! `yuekang-bench`: event-store and projection throughput on each backend, one JSON line per
//! figure; with `--pipeline COMMANDS`, the command pipeline without HTTP instead (load, fold,
//! decide, append at the loaded versions, retried on conflict) in three scenarios. Run with `cargo run --release -p api --bin yuekang-bench [-- --events N]`;
//! PostgreSQL figures need `YUEKANG_TEST_POSTGRES_URL` (a fresh database is made and
//! dropped).

use std::time::Instant;

use event_store::testing::TestDatabase;
use event_store::{
    AppendRequest, EventAppender, EventStore, ExpectedVersion, Metadata, NewEvent, StoreOptions,
    StreamId,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// A typed event of realistic size (~300 bytes of JSON), for append and replay.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
enum BenchEvent {
    CheckRecorded {
        check_id: uuid::Uuid,
        venue_id: uuid::Uuid,
        inspector_id: uuid::Uuid,
        person_id: uuid::Uuid,
        band: String,
        recorded_at: String,
        reason_labels: Vec<String>,
    },
}

impl domain::DomainEvent for BenchEvent {}

fn event() -> NewEvent {
    use domain::DomainEvent;
    let e = BenchEvent::CheckRecorded {
        check_id: uuid::Uuid::new_v4(),
        venue_id: uuid::Uuid::new_v4(),
        inspector_id: uuid::Uuid::new_v4(),
        person_id: uuid::Uuid::new_v4(),
        band: "normal".into(),
        recorded_at: "2026-03-02T09:00:00+08:00".into(),
        reason_labels: vec!["close_contact".into()],
    }
    .encode()
    .expect("encode");
    NewEvent {
        event_type: e.event_type,
        schema_version: e.schema_version,
        payload: e.payload,
    }
}

fn metadata() -> Metadata {
    Metadata {
        actor: Some(format!("person-{}", uuid::Uuid::new_v4())),
        command_id: Some(uuid::Uuid::now_v7()),
        correlation_id: Some(uuid::Uuid::now_v7()),
        ..Metadata::default()
    }
}

fn report(bench: &str, backend: &str, extra: serde_json::Value, events: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    let mut line = serde_json::json!({
        "bench": bench,
        "backend": backend,
        "events": events,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "events_per_sec": (events as f64 / seconds).round(),
    });
    if let (Some(line), Some(extra)) = (line.as_object_mut(), extra.as_object()) {
        line.extend(extra.clone());
    }
    println!("{line}");
}

async fn concurrent_single_appends(store: &EventStore, appenders: u64, per_appender: u64) {
    let tasks: Vec<_> = (0..appenders)
        .map(|a| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream =
                    StreamId::parse(format!("bench-{}-{a}", uuid::Uuid::new_v4().simple()))
                        .expect("id");
                for v in 0..per_appender {
                    store
                        .append(
                            AppendRequest::single(
                                stream.clone(),
                                ExpectedVersion::Exact(v),
                                vec![event()],
                            )
                            .with_metadata(metadata()),
                        )
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("appender");
    }
}

/// One command of the pipeline benchmark: load the stream, fold, decide, append at the loaded
/// version (retried on a conflict by the bus). Answers (attempts, latency).
async fn pipeline_command(
    bus: &commands::CommandBus,
    stream: &StreamId,
) -> (u32, std::time::Duration, bool) {
    use domain::health_code::{CodeCommand, HealthCode};
    use domain::Decider;
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let ctx = commands::CommandContext::new("bench");
    let started = Instant::now();
    let outcome = bus
        .execute(&ctx, std::slice::from_ref(stream), |loaded| {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let state = loaded.fold::<HealthCode>(stream)?;
            let events = HealthCode::decide(
                &CodeCommand::Reset {
                    at: time::OffsetDateTime::now_utc(),
                },
                &state,
            )
            .unwrap_or_else(|never| match never {});
            Ok::<_, services::ServiceError>(
                commands::Decision::unchanged(()).append(stream.clone(), &events)?,
            )
        })
        .await;
    (
        attempts.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed(),
        outcome.is_ok(),
    )
}

/// The command pipeline without HTTP (issue 15 item 2): `clients` concurrent clients each
/// running `per_client` commands, on a new aggregate each (`aggregates == 0`) or on one of
/// `aggregates` chosen at random.
async fn pipeline(
    store: &EventStore,
    backend: &str,
    scenario: &str,
    clients: u64,
    per_client: u64,
    aggregates: u64,
) {
    let bus = match scenario.ends_with("(no turns)") {
        true => commands::CommandBus::new(store.clone()).without_turns(),
        false => commands::CommandBus::new(store.clone()),
    };
    let pool: std::sync::Arc<Vec<StreamId>> = std::sync::Arc::new(
        (0..aggregates)
            .map(|_| StreamId::parse(format!("health-code-{}", uuid::Uuid::new_v4())).expect("id"))
            .collect(),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (bus, pool) = (bus.clone(), pool.clone());
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(per_client as usize);
                for _ in 0..per_client {
                    let stream = if pool.is_empty() {
                        StreamId::parse(format!("health-code-{}", uuid::Uuid::new_v4()))
                            .expect("id")
                    } else {
                        let pick = (uuid::Uuid::new_v4().as_u128() % pool.len() as u128) as usize;
                        pool[pick].clone()
                    };
                    samples.push(pipeline_command(&bus, &stream).await);
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.expect("client"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = samples.iter().map(|s| s.1.as_secs_f64() * 1000.0).collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let retried = samples.iter().filter(|s| s.0 > 1).count();
    let failed = samples.iter().filter(|s| !s.2).count();
    let n = samples.len();
    println!(
        "{}",
        serde_json::json!({
            "bench": "pipeline",
            "backend": backend,
            "scenario": scenario,
            "clients": clients,
            "aggregates": if aggregates == 0 { serde_json::json!("new each") } else { serde_json::json!(aggregates) },
            "commands": n,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "commands_per_sec": (n as f64 / seconds).round(),
            "p50_ms": (pct(0.50) * 100.0).round() / 100.0,
            "p99_ms": (pct(0.99) * 100.0).round() / 100.0,
            "retried_share": ((retried as f64 / n as f64) * 10_000.0).round() / 10_000.0,
            "failed": failed,
        })
    );
}

/// Issue 15 item 4's raw baseline: the same events as the 64 single-event appenders, written
/// into the same table (same indexes and triggers, a freshly migrated database, WAL and
/// `synchronous=FULL`) from one rusqlite connection in multi-row INSERTs of `batch` rows, one
/// transaction per batch, with the same keyed hash chain computed. What is left between this
/// and the store is the store's own cost (the writer task, sqlx, the plan, the answers).
async fn raw_sqlite_appends(events: u64, batch: usize, synchronous: &'static str) {
    let db = TestDatabase::sqlite().await;
    let path = db
        .url
        .strip_prefix("sqlite://")
        .expect("a sqlite:// URL")
        .to_owned();
    db.db.close().await;
    let started = Instant::now();
    let written = tokio::task::spawn_blocking(move || {
        let mut conn = rusqlite::Connection::open(&path).expect("open with rusqlite");
        conn.pragma_update(None, "journal_mode", "WAL").expect("WAL");
        conn.pragma_update(None, "synchronous", synchronous)
            .expect("synchronous");
        let key = event_store::ChainKey::for_tests();
        let insert = |rows: usize| {
            let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
            format!("INSERT INTO events (position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash) VALUES {values}")
        };
        let sql = insert(batch);
        let metadata = serde_json::to_string(&metadata()).expect("metadata");
        let mut prev = event_store::hash::GENESIS;
        let mut position = 0u64;
        while position < events {
            let rows = batch.min((events - position) as usize);
            let tx = conn.transaction().expect("begin");
            {
                let last = (rows != batch).then(|| insert(rows));
                let mut statement = tx
                    .prepare_cached(last.as_deref().unwrap_or(&sql))
                    .expect("prepare");
                let mut params: Vec<rusqlite::types::Value> = Vec::with_capacity(rows * 9);
                let recorded_at = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64;
                for _ in 0..rows {
                    position += 1;
                    let e = event();
                    let stream = format!("raw-{}", uuid::Uuid::new_v4());
                    let hash = event_store::hash::chain(
                        &key,
                        &prev,
                        &event_store::hash::HashInput {
                            position,
                            stream: &stream,
                            version: 1,
                            event_type: &e.event_type,
                            schema_version: e.schema_version,
                            payload: &e.payload,
                            metadata: &metadata,
                            recorded_at_micros: recorded_at,
                        },
                    );
                    prev = hash;
                    params.extend([
                        rusqlite::types::Value::Integer(position as i64),
                        rusqlite::types::Value::Text(stream),
                        rusqlite::types::Value::Integer(1),
                        rusqlite::types::Value::Text(e.event_type),
                        rusqlite::types::Value::Integer(i64::from(e.schema_version)),
                        rusqlite::types::Value::Text(e.payload),
                        rusqlite::types::Value::Text(metadata.clone()),
                        rusqlite::types::Value::Integer(recorded_at),
                        rusqlite::types::Value::Blob(hash.to_vec()),
                    ]);
                }
                statement
                    .execute(rusqlite::params_from_iter(params))
                    .expect("insert");
            }
            tx.commit().expect("commit");
        }
        position
    })
    .await
    .expect("raw writer");
    report(
        "append_raw_baseline",
        "sqlite",
        serde_json::json!({"writer": "rusqlite, one connection", "rows_per_transaction": batch, "synchronous": synchronous}),
        written,
        started,
    );
}

async fn run(backend: &str, db: TestDatabase, events: u64) {
    let store = EventStore::open(db.db.clone(), StoreOptions::default())
        .await
        .expect("open");

    let single = (events / 20).max(100);
    let started = Instant::now();
    concurrent_single_appends(&store, 1, single).await;
    report(
        "append",
        backend,
        serde_json::json!({"appenders": 1, "events_per_append": 1}),
        single,
        started,
    );

    let per = events / 64;
    let (b0, r0) = store.writer_stats().snapshot();
    let started = Instant::now();
    concurrent_single_appends(&store, 64, per).await;
    let (b1, r1) = store.writer_stats().snapshot();
    let mean = (r1 - r0) as f64 / (b1 - b0).max(1) as f64;
    report(
        "append",
        backend,
        serde_json::json!({"appenders": 64, "events_per_append": 1, "mean_requests_per_commit": (mean * 10.0).round() / 10.0}),
        per * 64,
        started,
    );
    if backend == "sqlite" {
        // The raw baseline, same run, in transactions as large as the writer's were.
        let batch = (mean.round() as usize).max(1);
        raw_sqlite_appends(per * 64, batch, "FULL").await;
        // The same two with `?synchronous=normal` (README: may lose the last commits on a
        // power loss).
        let normal = TestDatabase::sqlite().await;
        let url = format!("{}?synchronous=normal", normal.url);
        let db = event_store::Database::connect(&url).await.expect("normal");
        let store = EventStore::open(db, StoreOptions::default())
            .await
            .expect("open");
        let started = Instant::now();
        concurrent_single_appends(&store, 64, per).await;
        report(
            "append",
            backend,
            serde_json::json!({"appenders": 64, "events_per_append": 1, "synchronous": "NORMAL"}),
            per * 64,
            started,
        );
        store.shutdown().await;
        raw_sqlite_appends(per * 64, batch, "NORMAL").await;
    }

    let batches = events / 100;
    let started = Instant::now();
    let stream = StreamId::parse("bench-batch").expect("id");
    for b in 0..batches {
        store
            .append(
                AppendRequest::single(
                    stream.clone(),
                    ExpectedVersion::Exact(b * 100),
                    (0..100).map(|_| event()).collect(),
                )
                .with_metadata(metadata()),
            )
            .await
            .expect("append");
    }
    report(
        "append",
        backend,
        serde_json::json!({"appenders": 1, "events_per_append": 100}),
        batches * 100,
        started,
    );

    let started = Instant::now();
    let mut replayed = 0u64;
    let mut last = 0;
    let mut all = std::pin::pin!(store.read_all_stream(0, 5_000));
    while let Some(e) = all.next().await {
        let e = e.expect("event");
        assert!(e.position > last, "in order");
        last = e.position;
        let typed: BenchEvent = <BenchEvent as domain::DomainEvent>::decode(
            &e.event_type,
            e.schema_version,
            &e.payload,
        )
        .expect("decode");
        std::hint::black_box(typed);
        replayed += 1;
    }
    report(
        "replay",
        backend,
        serde_json::json!({"decode": "typed", "reader": "stream"}),
        replayed,
        started,
    );

    let started = Instant::now();
    let mut replayed = 0u64;
    let mut after = 0;
    loop {
        let page = event_store::EventReader::read_all(&store, after, 5_000)
            .await
            .expect("page");
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        for e in &page {
            let typed: BenchEvent = <BenchEvent as domain::DomainEvent>::decode(
                &e.event_type,
                e.schema_version,
                &e.payload,
            )
            .expect("decode");
            std::hint::black_box(typed);
            replayed += 1;
        }
        after = last;
    }
    report(
        "replay",
        backend,
        serde_json::json!({"decode": "typed", "reader": "pages"}),
        replayed,
        started,
    );

    let runner = projections::Runner::new(store.clone(), projections::registry())
        .await
        .expect("runner");
    let started = Instant::now();
    let position = runner
        .rebuild("event_counts", |_| {})
        .await
        .expect("rebuild");
    report(
        "rebuild",
        backend,
        serde_json::json!({"projection": "event_counts"}),
        position,
        started,
    );

    let started = Instant::now();
    let report_ = store.verify().await.expect("verify");
    assert!(report_.ok);
    report(
        "verify",
        backend,
        serde_json::json!({}),
        report_.checked,
        started,
    );

    store.shutdown().await;
}

/// The three pipeline scenarios of issue 15 on one backend.
async fn run_pipeline(backend: &str, db: TestDatabase, commands: u64) {
    let store = EventStore::open(db.db.clone(), StoreOptions::default())
        .await
        .expect("open");
    pipeline(
        &store,
        backend,
        "new aggregates",
        1,
        (commands / 8).max(100),
        0,
    )
    .await;
    pipeline(
        &store,
        backend,
        "64 clients over 10 000",
        64,
        commands / 64,
        10_000,
    )
    .await;
    pipeline(
        &store,
        backend,
        "64 clients over 100 hot",
        64,
        commands / 64 / 4,
        100,
    )
    .await;
    // The baselines, same run: the same bus without turns per stream.
    for (scenario, per_client, aggregates) in [
        ("64 clients over 10 000 (no turns)", commands / 64, 10_000),
        ("64 clients over 100 hot (no turns)", commands / 64 / 4, 100),
    ] {
        pipeline(&store, backend, scenario, 64, per_client, aggregates).await;
    }
    store.shutdown().await;
    // And the store without its stream cache: every command reads its stream from the
    // database, as before issue 15 item 3.
    let uncached = EventStore::open(
        db.db.clone(),
        StoreOptions {
            keep_streams: false,
            ..StoreOptions::default()
        },
    )
    .await
    .expect("open");
    for (scenario, per_client, aggregates) in [
        (
            "64 clients over 10 000 (no stream cache)",
            commands / 64,
            10_000,
        ),
        (
            "64 clients over 100 hot (no stream cache)",
            commands / 64 / 4,
            100,
        ),
    ] {
        pipeline(&uncached, backend, scenario, 64, per_client, aggregates).await;
    }
    uncached.shutdown().await;
}

#[tokio::main]
async fn main() {
    let mut events = 200_000u64;
    let mut only: Option<String> = None;
    let mut pipeline_commands: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--events" => {
                events = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--events N")
            }
            "--backend" => only = args.next(),
            "--pipeline" => {
                pipeline_commands = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .expect("--pipeline COMMANDS"),
                )
            }
            other => {
                eprintln!("usage: yuekang-bench [--events N] [--backend sqlite|postgres] [--pipeline COMMANDS] (unknown argument {other})");
                std::process::exit(2);
            }
        }
    }
    if let Some(commands) = pipeline_commands {
        if only.as_deref().is_none_or(|b| b == "sqlite") {
            run_pipeline("sqlite", TestDatabase::sqlite().await, commands).await;
        }
        if only.as_deref().is_none_or(|b| b == "postgres") {
            match TestDatabase::postgres().await {
                Some(db) => run_pipeline("postgres", db, commands).await,
                None => eprintln!("postgres: skipped (set YUEKANG_TEST_POSTGRES_URL)"),
            }
        }
        return;
    }
    if only.as_deref().is_none_or(|b| b == "sqlite") {
        run("sqlite", TestDatabase::sqlite().await, events).await;
    }
    if only.as_deref().is_none_or(|b| b == "postgres") {
        match TestDatabase::postgres().await {
            Some(db) => run("postgres", db, events).await,
            None => eprintln!("postgres: skipped (set YUEKANG_TEST_POSTGRES_URL)"),
        }
    }
}
