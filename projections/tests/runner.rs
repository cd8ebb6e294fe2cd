//! The projection runner against the real store, on each backend.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use event_store::testing::TestDatabase;
use event_store::{
    AppendRequest, Backend, Database, EventAppender, EventReader, EventStore, ExpectedVersion,
    NewEvent, RecordedEvent, StoreOptions, StreamId,
};
use projections::{Projection, ProjectionError, RebuildProgress, Runner, Tables, Tx};

/// Test projection: one row per event, keyed by position, so applying an event twice fails.
#[derive(Debug)]
struct Ledger;

#[async_trait]
impl Projection for Ledger {
    fn name(&self) -> &'static str {
        "ledger"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["ledger"]
    }
    fn schema(&self, _: Backend) -> &'static str {
        "CREATE TABLE {ledger} (position BIGINT PRIMARY KEY, stream TEXT NOT NULL);
         CREATE INDEX {ledger}_stream ON {ledger} (stream);"
    }
    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for e in events {
            match tx {
                Tx::Sqlite(tx) => {
                    sqlx::query(
                        &tables.sql("INSERT INTO {ledger} (position, stream) VALUES (?1, ?2)"),
                    )
                    .bind(e.position as i64)
                    .bind(&e.stream)
                    .execute(&mut **tx)
                    .await?;
                }
                Tx::Postgres(tx) => {
                    sqlx::query(
                        &tables.sql("INSERT INTO {ledger} (position, stream) VALUES ($1, $2)"),
                    )
                    .bind(e.position as i64)
                    .bind(&e.stream)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

async fn scalar(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .expect("query"),
        Database::Postgres(pool) => sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .expect("query"),
    }
}

async fn ledger_rows(db: &Database) -> (i64, i64) {
    (
        scalar(db, "SELECT COUNT(*) FROM ledger").await,
        scalar(db, "SELECT COALESCE(MAX(position), 0) FROM ledger").await,
    )
}

async fn append(store: &EventStore, n: usize) -> u64 {
    let mut last = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let events = chunk
            .iter()
            .map(|i| {
                NewEvent::new(if i % 3 == 0 { "Fizzed" } else { "Buzzed" }, 1, i).expect("json")
            })
            .collect();
        last = store
            .append(AppendRequest::single(
                StreamId::parse("s-1").expect("id"),
                ExpectedVersion::Any,
                events,
            ))
            .await
            .expect("append")
            .last_position;
    }
    last
}

fn projections() -> Vec<Arc<dyn Projection>> {
    let mut all = projections::registry();
    all.push(Arc::new(Ledger));
    all
}

async fn open(db: &TestDatabase) -> EventStore {
    EventStore::open(db.db.clone(), StoreOptions::default())
        .await
        .expect("open")
}

const WAIT: Duration = Duration::from_secs(20);

event_store::backend_tests!(
    catches_up_then_follows_live,
    checkpoint_survives_a_restart,
    rebuild_swaps_in_a_complete_model_while_serving,
    two_runners_apply_each_event_once,
    status_reports_lag_and_waiting_times_out,
    event_counts_counts_by_type,
    a_failed_rebuild_is_abandoned_cleanly,
    a_rebuild_left_by_a_killed_process_is_abandoned,
);

/// Counts events, but fails while `broken` is set (to make a rebuild fail part-way).
#[derive(Debug)]
struct Flaky {
    broken: Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait]
impl Projection for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    fn tables(&self) -> &'static [&'static str] {
        &["flaky"]
    }
    fn schema(&self, _: Backend) -> &'static str {
        "CREATE TABLE {flaky} (position BIGINT PRIMARY KEY);"
    }
    async fn apply(
        &self,
        tx: &mut Tx,
        tables: &Tables,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ProjectionError::Decode {
                position: events[0].position,
                detail: "broken on purpose".into(),
            });
        }
        for e in events {
            match tx {
                Tx::Sqlite(tx) => sqlx::query(&tables.sql("INSERT INTO {flaky} VALUES (?1)"))
                    .bind(e.position as i64)
                    .execute(&mut **tx)
                    .await
                    .map(drop)?,
                Tx::Postgres(tx) => sqlx::query(&tables.sql("INSERT INTO {flaky} VALUES ($1)"))
                    .bind(e.position as i64)
                    .execute(&mut **tx)
                    .await
                    .map(drop)?,
            };
        }
        Ok(())
    }
}

async fn catches_up_then_follows_live(db: TestDatabase) {
    let store = open(&db).await;
    let head = append(&store, 2_500).await;
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    runner.start();
    runner.wait_for(head, WAIT).await.expect("caught up");
    assert_eq!(ledger_rows(&db.db).await, (2_500, 2_500));

    let head = append(&store, 10).await;
    runner.wait_for(head, WAIT).await.expect("live");
    assert_eq!(ledger_rows(&db.db).await, (2_510, 2_510));
    runner.stop().await;
}

async fn checkpoint_survives_a_restart(db: TestDatabase) {
    let store = open(&db).await;
    let head = append(&store, 1_200).await;
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    runner.start();
    runner.wait_for(head, WAIT).await.expect("caught up");
    runner.stop().await;

    let head = append(&store, 300).await;
    let again = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    let before = again.status().await.expect("status");
    let ledger = before.iter().find(|s| s.name == "ledger").expect("ledger");
    assert_eq!(
        (ledger.position, ledger.lag, ledger.status.as_str()),
        (1_200, 300, "idle")
    );
    again.start();
    again.wait_for(head, WAIT).await.expect("resumed");
    // Primary key on position: had any event been applied twice, the runner would have failed.
    assert_eq!(ledger_rows(&db.db).await, (1_500, 1_500));
    again.stop().await;
}

async fn rebuild_swaps_in_a_complete_model_while_serving(db: TestDatabase) {
    let store = open(&db).await;
    append(&store, 3_000).await;
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    runner.start();
    runner.wait_for(3_000, WAIT).await.expect("caught up");

    // Keep appending while the rebuild runs; readers keep seeing a full model.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { append(&store, 1_000).await })
    };
    let seen = Arc::new(Mutex::new(Vec::<RebuildProgress>::new()));
    let record = seen.clone();
    let swapped_at = runner
        .rebuild("ledger", move |p| record.lock().expect("lock").push(p))
        .await
        .expect("rebuild");
    let head = writer.await.expect("writer");
    runner.wait_for(head, WAIT).await.expect("live after swap");

    let progress = seen.lock().expect("lock").clone();
    assert!(!progress.is_empty());
    assert!(
        progress.windows(2).all(|w| w[0].position <= w[1].position),
        "progress only moves forward"
    );
    assert_eq!(progress.last().map(|p| p.position), Some(swapped_at));
    assert_eq!(ledger_rows(&db.db).await, (4_000, 4_000));
    let status = runner.status().await.expect("status");
    let ledger = status.iter().find(|s| s.name == "ledger").expect("ledger");
    assert_eq!(
        (ledger.generation, ledger.rebuild_position, ledger.lag),
        (2, None, 0)
    );
    // The old generation is gone.
    let old = match &db.db {
        Database::Sqlite(_) => "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ledger_g1'",
        Database::Postgres(_) => "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'ledger_g1'",
    };
    assert_eq!(scalar(&db.db, old).await, 0);
    // And it can be done again.
    runner
        .rebuild("ledger", |_| {})
        .await
        .expect("second rebuild");
    assert_eq!(ledger_rows(&db.db).await, (4_000, 4_000));
    runner.stop().await;
}

async fn two_runners_apply_each_event_once(db: TestDatabase) {
    // Two stores and two runners on one database stand for two server processes.
    let store_a = open(&db).await;
    let store_b = open(&db).await;
    let a = Runner::new(store_a.clone(), projections())
        .await
        .expect("runner a");
    let b = Runner::new(store_b.clone(), projections())
        .await
        .expect("runner b");
    a.start();
    b.start();
    let writers: Vec<_> = [store_a.clone(), store_b.clone()]
        .into_iter()
        .map(|s| tokio::spawn(async move { append(&s, 1_000).await }))
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    let head = store_a.last_position().await.expect("head");
    a.wait_for(head, WAIT).await.expect("a caught up");
    b.wait_for(head, WAIT).await.expect("b caught up");
    assert_eq!(ledger_rows(&db.db).await, (2_000, 2_000));
    a.stop().await;
    b.stop().await;
}

async fn status_reports_lag_and_waiting_times_out(db: TestDatabase) {
    let store = open(&db).await;
    append(&store, 5).await;
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    let status = runner.status().await.expect("status");
    assert_eq!(status.len(), projections::registry().len() + 1);
    assert!(status.iter().all(|s| s.lag == 5 && s.position == 0));
    assert!(
        runner
            .wait_for(5, Duration::from_millis(200))
            .await
            .is_err(),
        "not started: lagging"
    );
    assert!(matches!(
        runner.rebuild("nope", |_| {}).await,
        Err(projections::RunnerError::Unknown(_))
    ));
    runner.start();
    runner.wait_for(5, WAIT).await.expect("caught up");
    assert!(
        runner
            .wait_for(6, Duration::from_millis(200))
            .await
            .is_err(),
        "position not in the log yet"
    );
    let status = runner.status().await.expect("status");
    assert!(status
        .iter()
        .all(|s| s.lag == 0 && s.position == 5 && s.status == "live"));
    runner.stop().await;
}

async fn event_counts_counts_by_type(db: TestDatabase) {
    let store = open(&db).await;
    let head = append(&store, 30).await;
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    runner.start();
    runner.wait_for(head, WAIT).await.expect("caught up");
    let counts = projections::event_counts::counts(&db.db)
        .await
        .expect("counts");
    assert_eq!(
        counts,
        vec![("Buzzed".to_owned(), 20), ("Fizzed".to_owned(), 10)]
    );
    runner
        .rebuild("event_counts", |_| {})
        .await
        .expect("rebuild");
    assert_eq!(
        projections::event_counts::counts(&db.db)
            .await
            .expect("counts"),
        counts
    );
    runner.stop().await;
}

async fn a_failed_rebuild_is_abandoned_cleanly(db: TestDatabase) {
    let store = open(&db).await;
    let head = append(&store, 50).await;
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runner = Runner::new(
        store.clone(),
        vec![Arc::new(Flaky {
            broken: broken.clone(),
        }) as Arc<dyn Projection>],
    )
    .await
    .expect("runner");
    runner.start();
    runner.wait_for(head, WAIT).await.expect("caught up");
    runner.stop().await;

    broken.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(runner.rebuild("flaky", |_| {}).await.is_err());
    let status = runner.status().await.expect("status");
    assert_eq!(
        (
            status[0].generation,
            status[0].rebuild_position,
            status[0].position
        ),
        (1, None, 50)
    );
    assert!(!runner.is_rebuilding("flaky"));
    let leftover = match &db.db {
        Database::Sqlite(_) => "SELECT COUNT(*) FROM sqlite_master WHERE name = 'flaky_g2'",
        Database::Postgres(_) => "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'flaky_g2'",
    };
    assert_eq!(
        scalar(&db.db, leftover).await,
        0,
        "the failed generation's tables are dropped"
    );
    assert_eq!(
        scalar(&db.db, "SELECT COUNT(*) FROM flaky").await,
        50,
        "the serving model is untouched"
    );

    broken.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(runner.rebuild("flaky", |_| {}).await.expect("rebuild"), 50);
    assert_eq!(runner.status().await.expect("status")[0].generation, 2);
}

async fn exec(db: &Database, sql: &str) {
    match db {
        Database::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
    }
    .expect("statement");
}

async fn ledger_rebuild(runner: &Runner) -> (u64, Option<u64>) {
    let status = runner.status().await.expect("status");
    let ledger = status.iter().find(|s| s.name == "ledger").expect("ledger");
    (ledger.generation, ledger.rebuild_position)
}

async fn a_rebuild_left_by_a_killed_process_is_abandoned(db: TestDatabase) {
    let store = open(&db).await;
    let head = append(&store, 100).await;
    let first = Runner::new(store.clone(), projections())
        .await
        .expect("runner");
    first.start();
    first.wait_for(head, WAIT).await.expect("caught up");
    first.stop().await;
    // What a process killed mid-rebuild leaves: the next generation half filled, and the
    // checkpoint row saying it is being rebuilt.
    let killed = "CREATE TABLE ledger_g2 (position BIGINT PRIMARY KEY, stream TEXT NOT NULL);
         INSERT INTO ledger_g2 (position, stream) VALUES (1, 's-1');
         UPDATE projections SET rebuilding_generation = 2, rebuild_position = 1 WHERE name = 'ledger';";
    exec(&db.db, killed).await;
    let table_g2 = match &db.db {
        Database::Sqlite(_) => "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ledger_g2'",
        Database::Postgres(_) => "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'ledger_g2'",
    };

    // A rebuild that advances meanwhile is alive (another process): left alone.
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner")
        .abandon_stale_rebuilds_after(Duration::from_millis(600));
    runner.start();
    tokio::time::sleep(Duration::from_millis(200)).await;
    exec(
        &db.db,
        "UPDATE projections SET rebuild_position = 2 WHERE name = 'ledger'",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        ledger_rebuild(&runner).await,
        (1, Some(2)),
        "still rebuilding"
    );
    assert_eq!(scalar(&db.db, table_g2).await, 1);
    runner.stop().await;

    // One that stands still is abandoned by the next runner to start: its tables dropped,
    // the serving model untouched, and a new rebuild goes through.
    let runner = Runner::new(store.clone(), projections())
        .await
        .expect("runner")
        .abandon_stale_rebuilds_after(Duration::from_millis(300));
    runner.start();
    let deadline = std::time::Instant::now() + WAIT;
    while ledger_rebuild(&runner).await != (1, None) {
        assert!(std::time::Instant::now() < deadline, "never abandoned");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(scalar(&db.db, table_g2).await, 0, "its tables are dropped");
    assert_eq!(ledger_rows(&db.db).await, (100, 100));
    assert_eq!(
        runner.rebuild("ledger", |_| {}).await.expect("rebuild"),
        head
    );
    assert_eq!(ledger_rebuild(&runner).await, (2, None));
    assert_eq!(ledger_rows(&db.db).await, (100, 100));
    runner.stop().await;
}
