//! The command pipeline against the real store, on each backend.

use std::sync::atomic::{AtomicU32, Ordering};

use commands::{CommandBus, CommandContext, CommandError, Decision, IdempotencyKey, Outcome};
use domain::{Decider, DomainEvent};
use event_store::testing::TestDatabase;
use event_store::{
    AppendRequest, EventAppender, EventReader, EventStore, ExpectedVersion, NewEvent, StoreOptions,
    StreamId,
};
use serde::{Deserialize, Serialize};

/// A tally that must be opened before it counts, and counts at most to its limit.
struct Tally;

#[derive(Debug)]
enum Command {
    Open { limit: u32 },
    Add,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
enum Event {
    TallyOpened { limit: u32 },
    TallyAdded,
}

impl DomainEvent for Event {}

#[derive(Debug)]
enum State {
    Unopened,
    Open { limit: u32, count: u32 },
}

#[derive(Debug, PartialEq)]
enum Rule {
    AlreadyOpen,
    NotOpen,
    Full,
}

impl Decider for Tally {
    type Command = Command;
    type Event = Event;
    type State = State;
    type Error = Rule;

    fn initial() -> State {
        State::Unopened
    }

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Rule> {
        match (command, state) {
            (Command::Open { limit }, State::Unopened) => {
                Ok(vec![Event::TallyOpened { limit: *limit }])
            }
            (Command::Open { .. }, State::Open { .. }) => Err(Rule::AlreadyOpen),
            (Command::Add, State::Unopened) => Err(Rule::NotOpen),
            (Command::Add, State::Open { limit, count }) if count >= limit => Err(Rule::Full),
            (Command::Add, State::Open { .. }) => Ok(vec![Event::TallyAdded]),
        }
    }

    fn evolve(state: State, event: &Event) -> State {
        match (state, event) {
            (State::Unopened, Event::TallyOpened { limit }) => State::Open {
                limit: *limit,
                count: 0,
            },
            (State::Open { limit, count }, Event::TallyAdded) => State::Open {
                limit,
                count: count + 1,
            },
            (state @ State::Open { .. }, Event::TallyOpened { .. }) => state,
            (State::Unopened, Event::TallyAdded) => State::Unopened,
        }
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Answer {
    events: usize,
}

fn tally() -> StreamId {
    StreamId::parse("tally-1").expect("id")
}

async fn bus(db: &TestDatabase) -> CommandBus {
    CommandBus::new(
        EventStore::open(db.db.clone(), StoreOptions::default())
            .await
            .expect("open"),
    )
}

async fn run(
    bus: &CommandBus,
    ctx: &CommandContext,
    command: Command,
) -> Result<Outcome<Answer>, CommandError<Rule>> {
    bus.decide::<Tally, _>(ctx, tally(), &command, |events| Answer {
        events: events.len(),
    })
    .await
}

event_store::backend_tests!(
    commits_with_metadata_and_answers_with_the_position,
    a_refused_command_appends_nothing,
    same_key_same_body_replays_the_first_answer,
    same_key_other_body_is_refused,
    a_retry_that_would_now_be_refused_gets_the_first_answer,
    conflict_is_decided_again_on_fresh_state,
    conflict_without_retries_is_reported,
    concurrent_commands_keep_the_rule,
    commands_of_one_process_take_turns_instead_of_conflicting,
    unchanged_answers_the_recording_position,
    a_checked_stream_that_moved_is_decided_again,
    a_preloaded_stream_is_read_once_and_still_checked_at_commit,
);

async fn commits_with_metadata_and_answers_with_the_position(db: TestDatabase) {
    let bus = bus(&db).await;
    let ctx =
        CommandContext::new("person-7").with_idempotency(Some(IdempotencyKey::new("k1", b"open")));
    let outcome = run(&bus, &ctx, Command::Open { limit: 2 })
        .await
        .expect("open");
    assert_eq!(
        outcome,
        Outcome::Committed {
            response: Answer { events: 1 },
            position: 1
        }
    );
    let events = bus.store().read_stream(&tally(), None).await.expect("read");
    assert_eq!(events[0].event_type, "TallyOpened");
    let metadata = events[0].metadata().expect("metadata");
    assert_eq!(metadata.actor.as_deref(), Some("person-7"));
    assert_eq!(metadata.command_id, Some(ctx.command_id));
    assert_eq!(metadata.correlation_id, Some(ctx.command_id));
    assert_eq!(metadata.idempotency_key.as_deref(), Some("k1"));
}

async fn a_refused_command_appends_nothing(db: TestDatabase) {
    let bus = bus(&db).await;
    let ctx = CommandContext::new("person-1");
    assert!(matches!(
        run(&bus, &ctx, Command::Add).await,
        Err(CommandError::Rejected(Rule::NotOpen))
    ));
    run(&bus, &ctx, Command::Open { limit: 1 })
        .await
        .expect("open");
    run(&bus, &ctx, Command::Add).await.expect("add");
    assert!(matches!(
        run(&bus, &ctx, Command::Add).await,
        Err(CommandError::Rejected(Rule::Full))
    ));
    assert!(matches!(
        run(&bus, &ctx, Command::Open { limit: 3 }).await,
        Err(CommandError::Rejected(Rule::AlreadyOpen))
    ));
    assert_eq!(bus.store().last_position().await.expect("head"), 2);
}

async fn same_key_same_body_replays_the_first_answer(db: TestDatabase) {
    let bus = bus(&db).await;
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 5 })
        .await
        .expect("open");
    let key = || Some(IdempotencyKey::new("retry-me", b"POST /add {}"));
    let first = run(
        &bus,
        &CommandContext::new("a").with_idempotency(key()),
        Command::Add,
    )
    .await
    .expect("add");
    let again = run(
        &bus,
        &CommandContext::new("a").with_idempotency(key()),
        Command::Add,
    )
    .await
    .expect("retry");
    assert_eq!(
        first,
        Outcome::Committed {
            response: Answer { events: 1 },
            position: 2
        }
    );
    assert_eq!(
        again,
        Outcome::Replayed {
            response: Answer { events: 1 },
            position: 2
        }
    );
    assert_eq!(
        bus.store().last_position().await.expect("head"),
        2,
        "the retry appended nothing"
    );
    // The key is the actor's own: another actor may use the same string.
    let other = run(
        &bus,
        &CommandContext::new("b").with_idempotency(key()),
        Command::Add,
    )
    .await
    .expect("add");
    assert!(matches!(other, Outcome::Committed { position: 3, .. }));
}

async fn a_retry_that_would_now_be_refused_gets_the_first_answer(db: TestDatabase) {
    // The key is not looked up before deciding; a retry decided again (Open on an open
    // tally: refused) must still get the first answer, and append nothing.
    let bus = bus(&db).await;
    let ctx = || {
        CommandContext::new("a").with_idempotency(Some(IdempotencyKey::new("open-once", b"open")))
    };
    let first = run(&bus, &ctx(), Command::Open { limit: 1 })
        .await
        .expect("open");
    let again = run(&bus, &ctx(), Command::Open { limit: 1 })
        .await
        .expect("the retry is answered, not refused");
    assert_eq!(
        again,
        Outcome::Replayed {
            response: first.into_response(),
            position: 1
        }
    );
    // A different request under the key is still told so, refused or not.
    let other =
        CommandContext::new("a").with_idempotency(Some(IdempotencyKey::new("open-once", b"x")));
    assert!(matches!(
        run(&bus, &other, Command::Open { limit: 2 }).await,
        Err(CommandError::IdempotencyKeyReused)
    ));
    assert_eq!(bus.store().last_position().await.expect("head"), 1);
}

async fn same_key_other_body_is_refused(db: TestDatabase) {
    let bus = bus(&db).await;
    let ctx = |body: &[u8]| {
        CommandContext::new("a").with_idempotency(Some(IdempotencyKey::new("k", body)))
    };
    run(&bus, &ctx(b"open 5"), Command::Open { limit: 5 })
        .await
        .expect("open");
    assert!(matches!(
        run(&bus, &ctx(b"add"), Command::Add).await,
        Err(CommandError::IdempotencyKeyReused)
    ));
    assert_eq!(bus.store().last_position().await.expect("head"), 1);
}

/// A decide closure that, on its first call only, lets another writer slip in an event.
async fn interfered(bus: &CommandBus) -> (Result<Outcome<Answer>, CommandError<Rule>>, u32) {
    let calls = AtomicU32::new(0);
    let store = bus.store().clone();
    let result = bus
        .execute(&CommandContext::new("a"), &[tally()], |loaded| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                let intruder =
                    NewEvent::new("TallyAdded", 1, &serde_json::Value::Null).expect("json");
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(store.append(AppendRequest::single(
                        tally(),
                        ExpectedVersion::Any,
                        vec![intruder],
                    )))
                })
                .expect("intruding append");
            }
            let state = loaded.fold::<Tally>(&tally()).expect("fold");
            let events = Tally::decide(&Command::Add, &state)?;
            Ok(Decision::unchanged(Answer {
                events: loaded.stream(&tally()).events.len(),
            })
            .append(tally(), &events)
            .expect("encode"))
        })
        .await;
    (result, calls.load(Ordering::SeqCst))
}

async fn conflict_is_decided_again_on_fresh_state(db: TestDatabase) {
    let bus = bus(&db).await;
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 5 })
        .await
        .expect("open");
    let (result, calls) = interfered(&bus).await;
    assert_eq!(calls, 2);
    // The second decision saw the intruder's event: two events loaded, not one.
    assert_eq!(
        result.expect("retried"),
        Outcome::Committed {
            response: Answer { events: 2 },
            position: 3
        }
    );
}

async fn conflict_without_retries_is_reported(db: TestDatabase) {
    let bus = bus(&db).await.with_retries(0);
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 5 })
        .await
        .expect("open");
    let (result, calls) = interfered(&bus).await;
    assert_eq!(calls, 1);
    match result {
        Err(CommandError::Conflict {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream, expected, actual),
                (tally(), ExpectedVersion::Exact(1), 2)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn concurrent_commands_keep_the_rule(db: TestDatabase) {
    let bus = bus(&db).await.with_retries(64);
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 10 })
        .await
        .expect("open");
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let bus = bus.clone();
            tokio::spawn(async move { run(&bus, &CommandContext::new("a"), Command::Add).await })
        })
        .collect();
    let mut added = 0;
    let mut full = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => added += 1,
            Err(CommandError::Rejected(Rule::Full)) => full += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((added, full), (10, 14));
    assert_eq!(
        bus.store()
            .read_stream(&tally(), None)
            .await
            .expect("read")
            .len(),
        11
    );
}

async fn unchanged_answers_the_recording_position(db: TestDatabase) {
    let bus = bus(&db).await;
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 5 })
        .await
        .expect("open");
    let outcome: Outcome<Answer> = bus
        .execute::<_, Rule, _>(&CommandContext::new("a"), &[tally()], |_| {
            Ok(Decision::unchanged(Answer { events: 0 }))
        })
        .await
        .expect("no-op");
    assert_eq!(
        outcome,
        Outcome::Unchanged {
            response: Answer { events: 0 },
            position: 1
        }
    );
}

/// A decision that reads `tally-1` (checked) and appends to `log-1`; the first time, someone
/// else appends to the tally in between.
async fn a_checked_stream_that_moved_is_decided_again(db: TestDatabase) {
    let bus = bus(&db).await.with_retries(0);
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 5 })
        .await
        .expect("open");
    let log = StreamId::parse("log-1").expect("id");
    let calls = AtomicU32::new(0);
    let store = bus.store().clone();
    let decide = |loaded: &commands::Loaded| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let intruder = NewEvent::new("TallyAdded", 1, &serde_json::Value::Null).expect("json");
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(store.append(AppendRequest::single(
                    tally(),
                    ExpectedVersion::Any,
                    vec![intruder],
                )))
            })
            .expect("intruding append");
        }
        let seen = loaded.stream(&tally()).events.len();
        Ok::<_, Rule>(
            Decision::unchanged(Answer { events: seen })
                .append(log.clone(), &[Event::TallyAdded])
                .expect("encode")
                .check(tally()),
        )
    };
    let first = bus
        .execute(&CommandContext::new("a"), &[tally()], decide)
        .await;
    assert!(
        matches!(first, Err(CommandError::Conflict { ref stream, .. }) if *stream == tally()),
        "the checked stream moved: {first:?}"
    );
    assert!(
        bus.store()
            .read_stream(&log, None)
            .await
            .expect("read")
            .is_empty(),
        "nothing was appended"
    );
    // Unchanged since the load: the check passes and only the log is appended to.
    let second = bus
        .execute(&CommandContext::new("a"), &[tally()], decide)
        .await
        .expect("committed");
    assert_eq!(second.response(), &Answer { events: 2 });
    assert_eq!(
        bus.store()
            .read_stream(&tally(), None)
            .await
            .expect("read")
            .len(),
        2
    );
}

/// A use case that loads first (to authorise, or to learn which streams it needs) decides on
/// that same load, and the versions it saw are still what the append checks: a stream that
/// moved in between is reloaded and decided again.
async fn a_preloaded_stream_is_read_once_and_still_checked_at_commit(db: TestDatabase) {
    let bus = bus(&db).await;
    run(&bus, &CommandContext::new("a"), Command::Open { limit: 5 })
        .await
        .expect("open");
    let loaded = bus.load(&[tally()]).await.expect("load");
    assert_eq!(loaded.stream(&tally()).version, 1);
    // Another writer appends after the load.
    let intruder = NewEvent::new("TallyAdded", 1, &serde_json::Value::Null).expect("json");
    bus.store()
        .append(AppendRequest::single(
            tally(),
            ExpectedVersion::Any,
            vec![intruder],
        ))
        .await
        .expect("intruding append");
    let calls = AtomicU32::new(0);
    let result: Result<Outcome<Answer>, CommandError<Rule>> = bus
        .execute_loaded(&CommandContext::new("a"), loaded, |loaded| {
            calls.fetch_add(1, Ordering::SeqCst);
            let state = loaded.fold::<Tally>(&tally()).expect("fold");
            let events = Tally::decide(&Command::Add, &state)?;
            Ok(Decision::unchanged(Answer {
                events: loaded.stream(&tally()).events.len(),
            })
            .append(tally(), &events)
            .expect("encode"))
        })
        .await;
    // The first decision (on the preloaded single event) conflicted; the second saw both.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        result.expect("retried"),
        Outcome::Committed {
            response: Answer { events: 2 },
            position: 3
        }
    );
}

/// 24 concurrent additions on one stream, each allowed `retries`: (committed, decisions).
async fn race(bus: &CommandBus) -> (usize, u32) {
    let decisions = std::sync::Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let (bus, decisions) = (bus.clone(), decisions.clone());
            tokio::spawn(async move {
                bus.execute(&CommandContext::new("a"), &[tally()], |loaded| {
                    decisions.fetch_add(1, Ordering::SeqCst);
                    let state = loaded.fold::<Tally>(&tally()).expect("fold");
                    let events = Tally::decide(&Command::Add, &state)?;
                    Ok::<_, Rule>(
                        Decision::unchanged(Answer { events: 1 })
                            .append(tally(), &events)
                            .expect("encode"),
                    )
                })
                .await
            })
        })
        .collect();
    let mut committed = 0;
    for t in tasks {
        if t.await.expect("task").is_ok() {
            committed += 1;
        }
    }
    (committed, decisions.load(Ordering::SeqCst))
}

/// One bus (one process): once a stream has lost a race, commands on it take turns instead
/// of racing. The first 24 concurrent additions race; the next 24, with no retry allowed,
/// all commit, each decided once.
async fn commands_of_one_process_take_turns_instead_of_conflicting(db: TestDatabase) {
    let bus = bus(&db).await.with_retries(64);
    run(
        &bus,
        &CommandContext::new("a"),
        Command::Open { limit: 100 },
    )
    .await
    .expect("open");
    let (committed, decisions) = race(&bus).await;
    assert_eq!(committed, 24);
    assert!(decisions > 24, "the first race loses some: {decisions}");
    let (committed, decisions) = race(&bus.clone().with_retries(0)).await;
    assert_eq!(
        (committed, decisions),
        (24, 24),
        "the hot stream is queued on"
    );
    assert_eq!(
        bus.store()
            .read_stream(&tally(), None)
            .await
            .expect("read")
            .len(),
        49
    );
    // Without turns, the same race loses commands.
    let (committed, _) = race(&bus.clone().with_retries(0).without_turns()).await;
    assert!(committed < 24, "{committed}");
}
