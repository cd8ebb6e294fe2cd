//! `yuekang-bench`: event-store and projection throughput on each backend, one JSON line per
//! figure. Run with `cargo run --release -p api --bin yuekang-bench [-- --events N]`;
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

#[tokio::main]
async fn main() {
    let mut events = 200_000u64;
    let mut only: Option<String> = None;
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
            other => {
                eprintln!("usage: yuekang-bench [--events N] [--backend sqlite|postgres] (unknown argument {other})");
                std::process::exit(2);
            }
        }
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
