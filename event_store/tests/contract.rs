//! The event store contract: one suite, run against SQLite and against PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use event_store::testing::TestDatabase;
use event_store::{
    AppendError, AppendRequest, Database, EventAppender, EventReader, EventStore, ExpectedVersion,
    IdempotencyRecord, ManualClock, Metadata, NewEvent, StoreOptions, StreamAppend, StreamId,
};
use futures_util::StreamExt;
use time::macros::datetime;

event_store::backend_tests!(
    round_trip_keeps_every_field,
    stale_expected_version_is_a_typed_conflict,
    multi_stream_append_is_all_or_none,
    concurrent_appenders_get_gap_free_commit_ordered_positions,
    exactly_one_of_concurrent_creators_wins,
    database_refuses_update_and_delete,
    verify_finds_a_changed_event,
    verify_finds_a_removed_event,
    data_survive_reopening,
    reads_a_stream_as_of_an_instant,
    idempotency_record_commits_with_the_events,
    global_log_reads_in_pages_and_as_a_stream,
    subscribers_learn_of_new_appends,
    another_process_appending_is_never_overlooked,
    filtered_reads_select_by_stream_and_type,
    a_stale_memory_never_refuses_a_correct_append,
    a_retry_racing_its_first_attempt_gets_the_key_answer,
    verify_finds_the_newest_events_removed,
    as_of_never_skips_a_version,
    a_kept_stream_reads_exactly_as_the_database_has_it,
    another_process_append_reaches_a_kept_stream,
    a_stream_kept_behind_the_log_is_refused_at_append_and_read_afresh,
    derived_data_is_not_flushed_commit_by_commit_and_the_log_is,
    the_log_tail_reads_exactly_as_the_database_has_it,
);

fn stream(name: &str) -> StreamId {
    StreamId::parse(name).expect("valid stream id")
}

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "Counted",
        1,
        &serde_json::json!({ "n": n, "note": "深圳 ✓" }),
    )
    .expect("json")
}

async fn open(db: &TestDatabase) -> EventStore {
    EventStore::open(db.db.clone(), StoreOptions::default())
        .await
        .expect("open the store")
}

async fn exec(db: &Database, sql: &str) -> Result<(), sqlx::Error> {
    match db {
        Database::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
    }
}

async fn round_trip_keeps_every_field(db: TestDatabase) {
    let store = open(&db).await;
    let metadata = Metadata {
        actor: Some("person-1".into()),
        command_id: Some(uuid::Uuid::new_v4()),
        correlation_id: Some(uuid::Uuid::new_v4()),
        causation_id: Some(uuid::Uuid::new_v4()),
        idempotency_key: Some("k-1".into()),
    };
    let outcome = store
        .append(
            AppendRequest::single(
                stream("thing-1"),
                ExpectedVersion::NO_STREAM,
                vec![event(1), event(2)],
            )
            .with_metadata(metadata.clone()),
        )
        .await
        .expect("append");
    assert_eq!((outcome.first_position, outcome.last_position), (1, 2));
    assert_eq!(outcome.versions, vec![(stream("thing-1"), 2)]);

    let events = store
        .read_stream(&stream("thing-1"), None)
        .await
        .expect("read");
    assert_eq!(events.len(), 2);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1);
        assert_eq!(e.version, i as u64 + 1);
        assert_eq!(e.stream, "thing-1");
        assert_eq!(e.event_type, "Counted");
        assert_eq!(e.schema_version, 1);
        let payload: serde_json::Value = e.payload_as().expect("payload");
        assert_eq!(payload, serde_json::json!({ "n": i + 1, "note": "深圳 ✓" }));
        assert_eq!(e.metadata().expect("metadata"), metadata);
        assert_eq!(
            e.recorded_at,
            outcome
                .recorded_at
                .replace_nanosecond(outcome.recorded_at.microsecond() * 1_000)
                .expect("micros")
        );
    }
    assert_ne!(events[0].hash, events[1].hash);
    assert_eq!(store.read_all(0, 10).await.expect("read all"), events);
    assert_eq!(store.last_position().await.expect("head"), 2);
    assert!(store
        .read_stream(&stream("thing-2"), None)
        .await
        .expect("read")
        .is_empty());
}

async fn stale_expected_version_is_a_typed_conflict(db: TestDatabase) {
    let store = open(&db).await;
    let s = stream("venue-1");
    store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::NO_STREAM,
            vec![event(1)],
        ))
        .await
        .expect("first append");
    let err = store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::NO_STREAM,
            vec![event(2)],
        ))
        .await
        .expect_err("stale version");
    match err {
        AppendError::Conflict {
            stream,
            expected,
            actual,
        } => {
            assert_eq!(stream, s);
            assert_eq!(expected, ExpectedVersion::Exact(0));
            assert_eq!(actual, 1);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(1),
            vec![event(2)],
        ))
        .await
        .expect("append at the right version");
    assert_eq!(store.read_stream(&s, None).await.expect("read").len(), 2);
}

async fn multi_stream_append_is_all_or_none(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(AppendRequest::single(
            stream("claim-a"),
            ExpectedVersion::NO_STREAM,
            vec![event(1)],
        ))
        .await
        .expect("claim");
    let both = |expected_claim| AppendRequest {
        streams: vec![
            StreamAppend {
                stream: stream("venue-b"),
                expected: ExpectedVersion::NO_STREAM,
                events: vec![event(1), event(2)],
            },
            StreamAppend {
                stream: stream("claim-a"),
                expected: expected_claim,
                events: vec![event(3)],
            },
        ],
        ..AppendRequest::default()
    };
    let err = store
        .append(both(ExpectedVersion::NO_STREAM))
        .await
        .expect_err("stale claim");
    assert!(
        matches!(err, AppendError::Conflict { ref stream, actual: 1, .. } if stream.as_str() == "claim-a")
    );
    assert!(store
        .read_stream(&stream("venue-b"), None)
        .await
        .expect("read")
        .is_empty());
    assert_eq!(store.last_position().await.expect("head"), 1);

    let outcome = store
        .append(both(ExpectedVersion::Exact(1)))
        .await
        .expect("fresh claim");
    assert_eq!((outcome.first_position, outcome.last_position), (2, 4));
    assert_eq!(
        outcome.versions,
        vec![(stream("venue-b"), 2), (stream("claim-a"), 2)]
    );
}

async fn concurrent_appenders_get_gap_free_commit_ordered_positions(db: TestDatabase) {
    const APPENDERS: u64 = 64;
    const EACH: u64 = 25;
    let store = open(&db).await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // A reader that follows the log while it grows: it must never see N before N-1.
    let reader = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = 0u64;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = store.read_all(seen, 1_000).await.expect("read");
                for e in &page {
                    assert_eq!(e.position, seen + 1, "a reader saw a gap");
                    seen = e.position;
                }
                if finished && page.is_empty() {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let mut appenders = Vec::new();
    for a in 0..APPENDERS {
        let store = store.clone();
        appenders.push(tokio::spawn(async move {
            let s = stream(&format!("appender-{a}"));
            let mut acknowledged = Vec::new();
            for i in 0..EACH {
                let outcome = store
                    .append(AppendRequest::single(
                        s.clone(),
                        ExpectedVersion::Exact(i),
                        vec![event(i)],
                    ))
                    .await
                    .expect("append");
                assert_eq!(outcome.versions, vec![(s.clone(), i + 1)]);
                acknowledged.push((outcome.last_position, s.clone(), i + 1));
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for a in appenders {
        acknowledged.extend(a.await.expect("appender"));
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.expect("reader");

    let total = APPENDERS * EACH;
    assert_eq!(seen, total);
    let all: Vec<_> = store
        .read_all_stream(0, 500)
        .map(|e| e.expect("event"))
        .collect()
        .await;
    assert_eq!(all.len() as u64, total);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(
            e.position,
            i as u64 + 1,
            "positions are gap-free and increasing"
        );
    }
    for (position, s, version) in acknowledged {
        let e = &all[position as usize - 1];
        assert_eq!(
            (e.stream.as_str(), e.version),
            (s.as_str(), version),
            "acknowledged event present"
        );
    }
    let positions: BTreeSet<u64> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions.len() as u64, total);
    assert!(store.verify().await.expect("verify").ok);
}

async fn exactly_one_of_concurrent_creators_wins(db: TestDatabase) {
    let store = open(&db).await;
    let attempts: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(AppendRequest {
                        streams: vec![
                            StreamAppend {
                                stream: stream(&format!("venue-{i}")),
                                expected: ExpectedVersion::NO_STREAM,
                                events: vec![event(i)],
                            },
                            StreamAppend {
                                stream: stream("admin-claim-1"),
                                expected: ExpectedVersion::NO_STREAM,
                                events: vec![event(i)],
                            },
                        ],
                        ..AppendRequest::default()
                    })
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(_) => won += 1,
            Err(AppendError::Conflict { stream, .. }) => {
                assert_eq!(stream.as_str(), "admin-claim-1")
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.last_position().await.expect("head"), 2);
}

async fn database_refuses_update_and_delete(db: TestDatabase) {
    let store = open(&db).await;
    store
        .append(AppendRequest::single(
            stream("s-1"),
            ExpectedVersion::Any,
            vec![event(1)],
        ))
        .await
        .expect("append");
    assert!(exec(
        &db.db,
        "UPDATE events SET payload = '{}' WHERE position = 1"
    )
    .await
    .is_err());
    assert!(exec(&db.db, "DELETE FROM events WHERE position = 1")
        .await
        .is_err());
    if let Database::Postgres(_) = db.db {
        assert!(exec(&db.db, "TRUNCATE events").await.is_err());
    }
    // Writing over an event by an insert that resolves its conflict is refused too.
    let over = match db.db {
        Database::Sqlite(_) => vec![
            "INSERT OR REPLACE INTO events SELECT position, stream, version, event_type, \
             schema_version, '{}', metadata, recorded_at, hash FROM events WHERE position = 1",
            "REPLACE INTO events SELECT position, 'other', 9, event_type, schema_version, \
             payload, metadata, recorded_at, hash FROM events WHERE position = 1",
            "INSERT OR REPLACE INTO events SELECT 2, stream, version, event_type, \
             schema_version, '{}', metadata, recorded_at, hash FROM events WHERE position = 1",
        ],
        Database::Postgres(_) => vec![
            "INSERT INTO events SELECT * FROM events WHERE position = 1 \
             ON CONFLICT (position) DO UPDATE SET payload = '{}'",
        ],
    };
    for sql in over {
        assert!(exec(&db.db, sql).await.is_err(), "{sql}");
    }
    assert_eq!(
        store.read_all(0, 10).await.expect("read")[0].payload,
        event(1).payload
    );
}

async fn drop_triggers(db: &Database) {
    let sql = match db {
        Database::Sqlite(_) => {
            "DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete;"
        }
        Database::Postgres(_) => "DROP TRIGGER events_refuse_update_delete ON events;",
    };
    exec(db, sql).await.expect("test-only: drop the triggers");
}

async fn append_five(store: &EventStore) {
    for i in 0..5 {
        store
            .append(AppendRequest::single(
                stream("s-1"),
                ExpectedVersion::Exact(i),
                vec![event(i)],
            ))
            .await
            .expect("append");
    }
}

async fn verify_finds_a_changed_event(db: TestDatabase) {
    let store = open(&db).await;
    append_five(&store).await;
    let report = store.verify().await.expect("verify");
    assert!(report.ok);
    assert_eq!(report.checked, 5);
    drop_triggers(&db.db).await;
    exec(
        &db.db,
        r#"UPDATE events SET payload = '{"n":99}' WHERE position = 3"#,
    )
    .await
    .expect("tamper");
    let report = store.verify().await.expect("verify");
    assert!(!report.ok);
    assert_eq!(report.first_bad_position, Some(3));
    assert_eq!(report.problem.as_deref(), Some("hash mismatch"));
}

async fn verify_finds_a_removed_event(db: TestDatabase) {
    let store = open(&db).await;
    append_five(&store).await;
    drop_triggers(&db.db).await;
    exec(&db.db, "DELETE FROM events WHERE position = 2")
        .await
        .expect("tamper");
    let report = store.verify().await.expect("verify");
    assert_eq!(report.first_bad_position, Some(2));
    assert_eq!(report.problem.as_deref(), Some("missing"));
}

async fn data_survive_reopening(db: TestDatabase) {
    let store = open(&db).await;
    append_five(&store).await;
    let before = store.read_all(0, 100).await.expect("read");
    store.shutdown().await;
    assert!(matches!(
        store
            .append(AppendRequest::single(
                stream("s-2"),
                ExpectedVersion::Any,
                vec![event(1)]
            ))
            .await,
        Err(AppendError::Store(event_store::StoreError::Closed))
    ));
    db.db.close().await;

    let reopened = Database::connect(&db.url).await.expect("reconnect");
    reopened.migrate().await.expect("migrations are idempotent");
    let store = EventStore::open(reopened.clone(), StoreOptions::default())
        .await
        .expect("reopen");
    assert_eq!(store.read_all(0, 100).await.expect("read"), before);
    store
        .append(AppendRequest::single(
            stream("s-1"),
            ExpectedVersion::Exact(5),
            vec![event(5)],
        ))
        .await
        .expect("append after reopening continues the chain");
    assert!(store.verify().await.expect("verify").ok);
    store.shutdown().await;
    reopened.close().await;
}

async fn reads_a_stream_as_of_an_instant(db: TestDatabase) {
    let clock = ManualClock::new(datetime!(2026-03-01 08:00 UTC));
    let store = EventStore::open(
        db.db.clone(),
        StoreOptions {
            clock: Arc::new(clock.clone()),
            ..StoreOptions::default()
        },
    )
    .await
    .expect("open");
    let s = stream("person-1");
    store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(0),
            vec![event(1)],
        ))
        .await
        .expect("append");
    clock.set(datetime!(2026-03-02 08:00 UTC));
    store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(1),
            vec![event(2)],
        ))
        .await
        .expect("append");

    let as_of = |at| store.read_stream(&s, Some(at));
    assert_eq!(
        as_of(datetime!(2026-02-28 00:00 UTC))
            .await
            .expect("read")
            .len(),
        0
    );
    assert_eq!(
        as_of(datetime!(2026-03-01 08:00 UTC))
            .await
            .expect("read")
            .len(),
        1
    );
    assert_eq!(
        as_of(datetime!(2026-03-02 07:59:59 UTC))
            .await
            .expect("read")
            .len(),
        1
    );
    assert_eq!(
        as_of(datetime!(2026-03-02 08:00 UTC))
            .await
            .expect("read")
            .len(),
        2
    );
    assert_eq!(
        store.read_all(0, 1).await.expect("read")[0].recorded_at,
        datetime!(2026-03-01 08:00 UTC)
    );
}

async fn idempotency_record_commits_with_the_events(db: TestDatabase) {
    let store = open(&db).await;
    let record = IdempotencyRecord {
        key: "person-1:abc".into(),
        request_hash: "h1".into(),
        response: r#"{"ok":true}"#.into(),
    };
    let keyed = |n| AppendRequest {
        idempotency: Some(record.clone()),
        ..AppendRequest::single(
            stream(&format!("s-{n}")),
            ExpectedVersion::Any,
            vec![event(n)],
        )
    };
    let outcome = store.append(keyed(1)).await.expect("append");
    let stored = store
        .idempotency("person-1:abc")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (
            stored.request_hash.as_str(),
            stored.response.as_str(),
            stored.position
        ),
        ("h1", r#"{"ok":true}"#, outcome.last_position)
    );
    assert!(matches!(
        store.append(keyed(2)).await,
        Err(AppendError::IdempotencyKeyExists { .. })
    ));
    assert!(store
        .read_stream(&stream("s-2"), None)
        .await
        .expect("read")
        .is_empty());
    assert!(store
        .idempotency("person-1:other")
        .await
        .expect("read")
        .is_none());
}

async fn global_log_reads_in_pages_and_as_a_stream(db: TestDatabase) {
    let store = open(&db).await;
    let events = (0..25).map(event).collect();
    store
        .append(AppendRequest::single(
            stream("s-1"),
            ExpectedVersion::Any,
            events,
        ))
        .await
        .expect("append");
    let page = store.read_all(10, 10).await.expect("page");
    assert_eq!(
        page.iter().map(|e| e.position).collect::<Vec<_>>(),
        (11..=20).collect::<Vec<_>>()
    );
    let streamed: Vec<u64> = store
        .read_all_stream(5, 7)
        .map(|e| e.expect("event").position)
        .collect()
        .await;
    assert_eq!(streamed, (6..=25).collect::<Vec<_>>());
}

async fn subscribers_learn_of_new_appends(db: TestDatabase) {
    let store = open(&db).await;
    let mut head = store.subscribe();
    assert_eq!(*head.borrow_and_update(), 0);
    store
        .append(AppendRequest::single(
            stream("s-1"),
            ExpectedVersion::Any,
            vec![event(1)],
        ))
        .await
        .expect("append");
    tokio::time::timeout(Duration::from_secs(5), head.changed())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(*head.borrow(), 1);

    // A second store on the same database stands for another server process.
    let other = open(&db).await;
    let mut other_head = other.subscribe();
    store
        .append(AppendRequest::single(
            stream("s-1"),
            ExpectedVersion::Any,
            vec![event(2)],
        ))
        .await
        .expect("append");
    if let Database::Postgres(_) = db.db {
        // LISTEN/NOTIFY carries the news across processes.
        tokio::time::timeout(Duration::from_secs(5), other_head.wait_for(|p| *p >= 2))
            .await
            .expect("notified in time")
            .expect("open");
    }
    assert_eq!(other.last_position().await.expect("head"), 2);
}

async fn another_process_appending_is_never_overlooked(db: TestDatabase) {
    // Two stores on one database stand for two processes, each with its own writer and its
    // own memory of the log.
    let a = open(&db).await;
    let b = open(&db).await;
    let s = stream("shared-1");
    let t = stream("other-1");
    a.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(0),
        vec![event(1)],
    ))
    .await
    .expect("a1");
    a.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(1),
        vec![event(2)],
    ))
    .await
    .expect("a2");
    // B moves the stream on behind A's back.
    b.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(2),
        vec![event(3)],
    ))
    .await
    .expect("b3");
    match a
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(2),
            vec![event(4)],
        ))
        .await
    {
        Err(AppendError::Conflict { actual: 3, .. }) => {}
        other => panic!("A must see B's append as a conflict, got {other:?}"),
    }
    // B appends elsewhere; A's next append still lands after it, chained to it.
    b.append(AppendRequest::single(
        t.clone(),
        ExpectedVersion::Exact(0),
        vec![event(5)],
    ))
    .await
    .expect("b on t");
    let outcome = a
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(3),
            vec![event(6)],
        ))
        .await
        .expect("a after b");
    assert_eq!(outcome.last_position, 5);
    assert_eq!(outcome.versions, vec![(s.clone(), 4)]);
    let report = a.verify().await.expect("verify");
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 5);
}

async fn filtered_reads_select_by_stream_and_type(db: TestDatabase) {
    let store = open(&db).await;
    for (name, event_type) in [
        ("a-1", "Opened"),
        ("b-1", "Opened"),
        ("a-1", "Closed"),
        ("b-1", "Closed"),
        ("a-1", "Opened"),
    ] {
        let e = NewEvent::new(event_type, 1, &name).expect("json");
        store
            .append(AppendRequest::single(
                stream(name),
                ExpectedVersion::Any,
                vec![e],
            ))
            .await
            .expect("append");
    }
    let positions = |events: Vec<event_store::RecordedEvent>| {
        events.iter().map(|e| e.position).collect::<Vec<_>>()
    };
    assert_eq!(
        positions(store.read_filtered(0, 100, None, None).await.expect("all")),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        positions(
            store
                .read_filtered(0, 100, Some("a-1"), None)
                .await
                .expect("stream")
        ),
        [1, 3, 5]
    );
    assert_eq!(
        positions(
            store
                .read_filtered(0, 100, None, Some("Closed"))
                .await
                .expect("type")
        ),
        [3, 4]
    );
    assert_eq!(
        positions(
            store
                .read_filtered(1, 1, Some("a-1"), Some("Opened"))
                .await
                .expect("both")
        ),
        [5]
    );
    assert!(store
        .read_filtered(5, 100, None, None)
        .await
        .expect("past the end")
        .is_empty());
}

async fn a_stale_memory_never_refuses_a_correct_append(db: TestDatabase) {
    let a = open(&db).await;
    let b = open(&db).await;
    let s = stream("shared-2");
    a.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(0),
        vec![event(1)],
    ))
    .await
    .expect("a1");
    a.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(1),
        vec![event(2)],
    ))
    .await
    .expect("a2");
    b.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(2),
        vec![event(3)],
    ))
    .await
    .expect("b3");
    // A's writer last saw version 2; the caller, having read the stream, rightly expects 3.
    let outcome = a
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(3),
            vec![event(4)],
        ))
        .await
        .expect("a correct expectation is honoured whatever the writer remembered");
    assert_eq!(
        (outcome.last_position, outcome.versions),
        (4, vec![(s.clone(), 4)])
    );
    assert!(a.verify().await.expect("verify").ok);
}

async fn a_retry_racing_its_first_attempt_gets_the_key_answer(db: TestDatabase) {
    let store = open(&db).await;
    let record = IdempotencyRecord {
        key: "actor:k".into(),
        request_hash: "h".into(),
        response: "{}".into(),
    };
    let attempt = || AppendRequest {
        idempotency: Some(record.clone()),
        ..AppendRequest::single(stream("race-1"), ExpectedVersion::Exact(0), vec![event(1)])
    };
    store.append(attempt()).await.expect("first attempt");
    // The retry loaded the stream before the first attempt committed: its version is stale
    // too, but what it must learn is that its key already answered.
    assert!(matches!(
        store.append(attempt()).await,
        Err(AppendError::IdempotencyKeyExists { .. })
    ));
}

async fn verify_finds_the_newest_events_removed(db: TestDatabase) {
    let store = open(&db).await;
    append_five(&store).await;
    let keyed = AppendRequest {
        idempotency: Some(IdempotencyRecord {
            key: "a:k".into(),
            request_hash: "h".into(),
            response: "{}".into(),
        }),
        ..AppendRequest::single(stream("s-2"), ExpectedVersion::Any, vec![event(9)])
    };
    store.append(keyed).await.expect("append at 6");
    drop_triggers(&db.db).await;
    exec(&db.db, "DELETE FROM events WHERE position >= 5")
        .await
        .expect("tamper");
    // This process saw position 6 committed.
    let report = store.verify().await.expect("verify");
    assert_eq!(
        (
            report.ok,
            report.first_bad_position,
            report.problem.as_deref()
        ),
        (false, Some(5), Some("missing"))
    );
    // A process that never saw it still has the idempotency record as a witness.
    let fresh = open(&db).await;
    assert_eq!(
        fresh.verify().await.expect("verify").first_bad_position,
        Some(5)
    );
    // And a caller's own anchor counts too.
    exec(&db.db, "DELETE FROM idempotency_keys")
        .await
        .expect("tamper");
    let fresher = open(&db).await;
    assert!(
        fresher.verify().await.expect("verify").ok,
        "no witness left: the chain itself is intact"
    );
    assert_eq!(
        fresher
            .verify_reaching(6)
            .await
            .expect("verify")
            .first_bad_position,
        Some(5)
    );
}

async fn as_of_never_skips_a_version(db: TestDatabase) {
    // Writers' clocks may disagree: a later version can carry an earlier time. The history
    // as of an instant is the unbroken run of versions recorded by then.
    let clock = ManualClock::new(datetime!(2026-03-01 10:00:01 UTC));
    let store = EventStore::open(
        db.db.clone(),
        StoreOptions {
            clock: Arc::new(clock.clone()),
            ..StoreOptions::default()
        },
    )
    .await
    .expect("open");
    let s = stream("skewed-1");
    store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(0),
            vec![event(1)],
        ))
        .await
        .expect("v1");
    clock.set(datetime!(2026-03-01 10:00:00 UTC));
    store
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(1),
            vec![event(2)],
        ))
        .await
        .expect("v2");
    assert!(store
        .read_stream(&s, Some(datetime!(2026-03-01 10:00:00.5 UTC)))
        .await
        .expect("read")
        .is_empty());
    assert_eq!(
        store
            .read_stream(&s, Some(datetime!(2026-03-01 10:00:01 UTC)))
            .await
            .expect("read")
            .len(),
        2
    );
}

/// The stream as a store that never read it (a fresh process) has it.
async fn from_database(db: &TestDatabase, s: &StreamId) -> Vec<event_store::RecordedEvent> {
    let fresh = open(db).await;
    fresh.read_stream(s, None).await.expect("read afresh")
}

async fn a_kept_stream_reads_exactly_as_the_database_has_it(db: TestDatabase) {
    let store = open(&db).await;
    let s = stream("kept-1");
    let metadata = Metadata {
        actor: Some("person-1".into()),
        command_id: Some(uuid::Uuid::new_v4()),
        ..Metadata::default()
    };
    store
        .append(
            AppendRequest::single(s.clone(), ExpectedVersion::NO_STREAM, vec![event(1)])
                .with_metadata(metadata.clone()),
        )
        .await
        .expect("first");
    let first = store.read_stream(&s, None).await.expect("read");
    assert_eq!(first, from_database(&db, &s).await);
    // Appends after the stream is kept extend it from the rows the writer wrote: every field
    // (position, version, hash, time, metadata) as the database has it.
    for n in 2..=4 {
        store
            .append(
                AppendRequest::single(s.clone(), ExpectedVersion::Exact(n - 1), vec![event(n)])
                    .with_metadata(metadata.clone()),
            )
            .await
            .expect("next");
    }
    let (hits_before, _) = store.stream_cache_counts();
    let kept = store.read_stream(&s, None).await.expect("read kept");
    let (hits_after, _) = store.stream_cache_counts();
    assert_eq!(hits_after, hits_before + 1, "served from memory");
    assert_eq!(kept.len(), 4);
    assert_eq!(kept, from_database(&db, &s).await);
    // As of an instant, from memory too.
    let as_of = kept[1].recorded_at;
    let cut = store.read_stream(&s, Some(as_of)).await.expect("as of");
    assert!(cut.iter().all(|e| e.recorded_at <= as_of) && !cut.is_empty());
}

async fn another_process_append_reaches_a_kept_stream(db: TestDatabase) {
    let a = open(&db).await;
    let b = open(&db).await;
    let s = stream("kept-2");
    a.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::NO_STREAM,
        vec![event(1)],
    ))
    .await
    .expect("a1");
    assert_eq!(a.read_stream(&s, None).await.expect("kept").len(), 1);
    // B (another process) appends; A hears of it without appending anything itself (a
    // notification on PostgreSQL, the head poll on SQLite) and reads the stream afresh.
    b.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(1),
        vec![event(2)],
    ))
    .await
    .expect("b2");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let seen = a.read_stream(&s, None).await.expect("read");
        if seen.len() == 2 {
            assert_eq!(seen, from_database(&db, &s).await);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "A still serves the stream without B's append after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_stream_kept_behind_the_log_is_refused_at_append_and_read_afresh(db: TestDatabase) {
    let a = open(&db).await;
    let b = open(&db).await;
    let s = stream("kept-3");
    a.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::NO_STREAM,
        vec![event(1)],
    ))
    .await
    .expect("a1");
    let kept = a.read_stream(&s, None).await.expect("kept");
    b.append(AppendRequest::single(
        s.clone(),
        ExpectedVersion::Exact(1),
        vec![event(2)],
    ))
    .await
    .expect("b2");
    // Whatever A still keeps, an append relying on it is refused by the version check...
    match a
        .append(AppendRequest::single(
            s.clone(),
            ExpectedVersion::Exact(kept.len() as u64),
            vec![event(3)],
        ))
        .await
    {
        Err(AppendError::Conflict { actual: 2, .. }) => {}
        other => panic!("a stale expectation must conflict, got {other:?}"),
    }
    // ...and the refusal made A forget the stream: the next read has B's append.
    assert_eq!(
        a.read_stream(&s, None).await.expect("afresh"),
        from_database(&db, &s).await
    );
    assert_eq!(a.read_stream(&s, None).await.expect("again").len(), 2);
}

async fn derived_data_is_not_flushed_commit_by_commit_and_the_log_is(db: TestDatabase) {
    // The projections write through `derived_database`; the log keeps flushing every commit.
    let store = open(&db).await;
    let setting = |db: Database| async move {
        match db {
            Database::Sqlite(pool) => sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                .fetch_one(&pool)
                .await
                .map(|v| v.to_string()),
            Database::Postgres(pool) => {
                sqlx::query_scalar::<_, String>("SHOW synchronous_commit")
                    .fetch_one(&pool)
                    .await
            }
        }
        .expect("read the setting")
    };
    let (log, derived) = (
        setting(store.database().clone()).await,
        setting(store.derived_database().clone()).await,
    );
    match store.database() {
        // SQLite: 2 is FULL, 1 is NORMAL.
        Database::Sqlite(_) => assert_eq!((log.as_str(), derived.as_str()), ("2", "1")),
        Database::Postgres(_) => assert_eq!((log.as_str(), derived.as_str()), ("on", "off")),
    }
}

async fn the_log_tail_reads_exactly_as_the_database_has_it(db: TestDatabase) {
    // A keeps the tail of the log it committed; B's append in between breaks the run.
    let a = open(&db).await;
    let b = open(&db).await;
    for n in 1..=3 {
        a.append(AppendRequest::single(
            stream(&format!("tail-a{n}")),
            ExpectedVersion::NO_STREAM,
            vec![event(n)],
        ))
        .await
        .expect("a");
    }
    b.append(AppendRequest::single(
        stream("tail-b"),
        ExpectedVersion::NO_STREAM,
        vec![event(4)],
    ))
    .await
    .expect("b");
    a.append(AppendRequest::single(
        stream("tail-a4"),
        ExpectedVersion::NO_STREAM,
        vec![event(5), event(6)],
    ))
    .await
    .expect("a after b");
    let fresh = open(&db).await;
    for after in 0..=6 {
        for limit in [1, 2, 100] {
            assert_eq!(
                a.read_all(after, limit).await.expect("a reads"),
                fresh.read_all(after, limit).await.expect("the database"),
                "after {after}, limit {limit}"
            );
        }
    }
    assert_eq!(fresh.read_all(0, 100).await.expect("all").len(), 6);
}
