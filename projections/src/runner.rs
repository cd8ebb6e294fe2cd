//! The projection runner: checkpointed catch-up, live tail, status, wait-for-position and
//! rebuild beside the serving generation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_store::{Backend, EventReader, EventStore, StoreError};
use futures_util::future::BoxFuture;
use serde::Serialize;
use sqlx::Row;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::tx::Tx;
use crate::{Projection, ProjectionError, Tables};

const BATCH: u32 = 1_000;
/// After a live batch that caught up, how long a projection lets new events gather before
/// its next batch (the first event after a quiet spell is applied at once).
const LIVE_LINGER: Duration = Duration::from_millis(10);
/// How often an idle runner looks at the log even without a notification.
const POLL: Duration = Duration::from_secs(1);
/// A rebuild recorded in a checkpoint row whose position has not moved for this long, while
/// no process is seen working on it, is taken to be dead (its process was killed): a runner
/// that starts abandons it (its half-built tables dropped). A live rebuild moves its position
/// with every batch of [`BATCH`] events, far more often.
const STALE_REBUILD: Duration = Duration::from_secs(10);

/// What went wrong running or rebuilding a projection.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("no projection is named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("database error in the projection runner")]
    Database(#[from] sqlx::Error),
    #[error("another process took over the rebuild of {0}")]
    RebuildTakenOver(String),
    #[error("projection {0} is already being rebuilt")]
    AlreadyRebuilding(String),
    #[error("projection {0} has not applied position {1} in time")]
    Lagging(String, u64),
}

/// What a projection is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Not started in this process (the CLI reads status without running projections).
    Idle,
    CatchingUp,
    Live,
    Failed,
}

/// One projection's progress, for the CLI and `GET /v1/projections`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectionStatus {
    pub name: String,
    /// The log position the serving read model has applied.
    pub position: u64,
    /// Events in the log not yet applied.
    pub lag: u64,
    /// `live`, `catching_up`, `rebuilding`, `failed` or `idle`.
    pub status: String,
    pub generation: u64,
    /// A rebuild in progress: how far it has got.
    pub rebuild_position: Option<u64>,
    /// The last error, while failing.
    pub error: Option<String>,
}

/// Progress of a rebuild, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    pub position: u64,
    pub target: u64,
}

#[derive(Debug, Clone, Copy)]
struct Serving {
    generation: u64,
    position: u64,
}

#[derive(Debug)]
struct Managed {
    projection: Arc<dyn Projection>,
    serving: tokio::sync::Mutex<Serving>,
    applied: watch::Sender<u64>,
    phase: Mutex<(Phase, Option<String>)>,
    rebuilding: Mutex<Option<u64>>,
    /// Set by [`Runner::stop`]: the live task applies no further batch.
    stopped: std::sync::atomic::AtomicBool,
}

impl Managed {
    fn set_phase(&self, phase: Phase, error: Option<String>) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = (phase, error);
    }
}

#[derive(Debug, Clone, Copy)]
struct Row_ {
    generation: u64,
    position: u64,
    rebuilding_generation: Option<u64>,
    rebuild_position: Option<u64>,
}

/// Runs the registered projections against one store.
#[derive(Debug, Clone)]
pub struct Runner {
    store: EventStore,
    managed: Arc<Vec<Arc<Managed>>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// How long a recorded rebuild may stand still before [`Runner::start`] abandons it.
    stale_rebuild: Duration,
}

enum Arg<'a> {
    Int(i64),
    Text(&'a str),
}

/// The runner's bookkeeping statements, one `.sql` file per backend each. A statement
/// without its files does not compile.
#[derive(Debug, Clone, Copy)]
enum Statement {
    GetForUpdate,
    All,
    Insert,
    Advance,
    BeginRebuild,
    AdvanceRebuild,
    Swap,
    AbandonRebuild,
}

impl Statement {
    fn sql(self, backend: Backend) -> &'static str {
        macro_rules! pick {
            ($file:literal) => {
                match backend {
                    Backend::Sqlite => include_str!(concat!("sql/sqlite/", $file, ".sql")),
                    Backend::Postgres => include_str!(concat!("sql/postgres/", $file, ".sql")),
                }
            };
        }
        match self {
            Statement::GetForUpdate => pick!("get_for_update"),
            Statement::All => pick!("all"),
            Statement::Insert => pick!("insert"),
            Statement::Advance => pick!("advance"),
            Statement::BeginRebuild => pick!("begin_rebuild"),
            Statement::AdvanceRebuild => pick!("advance_rebuild"),
            Statement::Swap => pick!("swap"),
            Statement::AbandonRebuild => pick!("abandon_rebuild"),
        }
    }
}

// Boxed (and so provably `Send`): spelled as plain `async fn`s, the borrows of sqlx
// executors inside make the callers' futures fail the `Send` check of `tokio::spawn`.
fn execute<'a>(
    tx: &'a mut Tx,
    statement: Statement,
    args: &'a [Arg<'a>],
) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
    Box::pin(execute_inner(tx, statement, args))
}

async fn execute_inner(
    tx: &mut Tx,
    statement: Statement,
    args: &[Arg<'_>],
) -> Result<u64, sqlx::Error> {
    macro_rules! run {
        ($tx:expr, $backend:expr) => {{
            let mut q = sqlx::query(statement.sql($backend));
            for a in args {
                q = match a {
                    Arg::Int(i) => q.bind(*i),
                    Arg::Text(s) => q.bind(*s),
                };
            }
            q.execute(&mut **$tx).await?.rows_affected()
        }};
    }
    Ok(match tx {
        Tx::Sqlite(tx) => run!(tx, Backend::Sqlite),
        Tx::Postgres(tx) => run!(tx, Backend::Postgres),
    })
}

fn fetch_row<'a>(
    tx: &'a mut Tx,
    statement: Statement,
    name: &'a str,
) -> BoxFuture<'a, Result<Option<Row_>, sqlx::Error>> {
    Box::pin(fetch_row_inner(tx, statement, name))
}

async fn fetch_row_inner(
    tx: &mut Tx,
    statement: Statement,
    name: &str,
) -> Result<Option<Row_>, sqlx::Error> {
    macro_rules! get {
        ($tx:expr, $backend:expr) => {{
            match sqlx::query(statement.sql($backend))
                .bind(name)
                .fetch_optional(&mut **$tx)
                .await?
            {
                None => None,
                Some(r) => Some(Row_ {
                    generation: r.try_get::<i64, _>(0)? as u64,
                    position: r.try_get::<i64, _>(1)? as u64,
                    rebuilding_generation: r.try_get::<Option<i64>, _>(2)?.map(|g| g as u64),
                    rebuild_position: r.try_get::<Option<i64>, _>(3)?.map(|p| p as u64),
                }),
            }
        }};
    }
    Ok(match tx {
        Tx::Sqlite(tx) => get!(tx, Backend::Sqlite),
        Tx::Postgres(tx) => get!(tx, Backend::Postgres),
    })
}

fn now_micros() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}

fn views_script(tables: &Tables) -> String {
    tables
        .physical()
        .map(|(view, table)| {
            format!("DROP VIEW IF EXISTS {view}; CREATE VIEW {view} AS SELECT * FROM {table};\n")
        })
        .collect()
}

fn drop_script(projection: &dyn Projection, generations: impl Iterator<Item = u64>) -> String {
    generations
        .flat_map(|g| {
            Tables::new(projection.tables(), g)
                .physical()
                .map(|(_, t)| format!("DROP TABLE IF EXISTS {t};\n"))
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Runner {
    /// Prepares `projections` over `store`: installs each one's first generation if new and
    /// loads its checkpoint. Nothing runs until [`Runner::start`].
    pub async fn new(
        store: EventStore,
        projections: Vec<Arc<dyn Projection>>,
    ) -> Result<Self, RunnerError> {
        let mut managed = Vec::with_capacity(projections.len());
        for projection in projections {
            let row = Self::install(&store, projection.as_ref()).await?;
            let (applied, _) = watch::channel(row.position);
            managed.push(Arc::new(Managed {
                projection,
                serving: tokio::sync::Mutex::new(Serving {
                    generation: row.generation,
                    position: row.position,
                }),
                applied,
                phase: Mutex::new((Phase::Idle, None)),
                rebuilding: Mutex::new(None),
                stopped: std::sync::atomic::AtomicBool::new(false),
            }));
        }
        Ok(Self {
            store,
            managed: Arc::new(managed),
            tasks: Arc::new(Mutex::new(Vec::new())),
            stale_rebuild: STALE_REBUILD,
        })
    }

    /// The same runner abandoning, when started, the rebuilds recorded in the checkpoints
    /// that stand still for `after` (default 10 s) while no process of its own runs them.
    pub fn abandon_stale_rebuilds_after(mut self, after: Duration) -> Self {
        self.stale_rebuild = after;
        self
    }

    async fn install(store: &EventStore, projection: &dyn Projection) -> Result<Row_, RunnerError> {
        let db = store.derived_database();
        let mut tx = Tx::begin(db).await?;
        let row = match fetch_row(&mut tx, Statement::GetForUpdate, projection.name()).await? {
            Some(row) => row,
            None => {
                let tables = Tables::new(projection.tables(), 1);
                tx.run_script(&tables.sql(projection.schema(db.backend())))
                    .await?;
                tx.run_script(&views_script(&tables)).await?;
                execute(
                    &mut tx,
                    Statement::Insert,
                    &[Arg::Text(projection.name()), Arg::Int(now_micros())],
                )
                .await?;
                tracing::info!(projection = projection.name(), "installed projection");
                Row_ {
                    generation: 1,
                    position: 0,
                    rebuilding_generation: None,
                    rebuild_position: None,
                }
            }
        };
        tx.commit().await?;
        Ok(row)
    }

    /// Starts one task per projection: catch up from the checkpoint, then follow the log.
    /// Also sweeps away rebuilds a killed process left behind: recorded in a checkpoint row,
    /// run by no process of its own, and not advancing for 10 s (see
    /// [`Runner::abandon_stale_rebuilds_after`]).
    pub fn start(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        for m in self.managed.iter() {
            m.stopped.store(false, std::sync::atomic::Ordering::SeqCst);
            m.set_phase(Phase::CatchingUp, None);
            tasks.push(tokio::spawn(follow(self.store.clone(), m.clone())));
        }
        tasks.push(tokio::spawn(sweep_stale_rebuilds(
            self.clone(),
            self.stale_rebuild,
        )));
    }

    /// Abandons projection `m`'s rebuild of `generation` if it is still recorded at
    /// `position` and this process is not running it: whether it was abandoned. The row is
    /// locked while deciding, so a rebuild still advancing (or swapping in) is left alone.
    async fn abandon_if_stuck(
        &self,
        m: &Managed,
        generation: u64,
        position: Option<u64>,
    ) -> Result<bool, RunnerError> {
        if m.rebuilding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return Ok(false);
        }
        let name = m.projection.name();
        let mut tx = Tx::begin(self.store.derived_database()).await?;
        let row = fetch_row(&mut tx, Statement::GetForUpdate, name).await?;
        if !row.is_some_and(|r| {
            r.rebuilding_generation == Some(generation) && r.rebuild_position == position
        }) {
            tx.rollback().await?;
            return Ok(false);
        }
        execute(
            &mut tx,
            Statement::AbandonRebuild,
            &[
                Arg::Text(name),
                Arg::Int(generation as i64),
                Arg::Int(now_micros()),
            ],
        )
        .await?;
        tx.run_script(&drop_script(
            m.projection.as_ref(),
            std::iter::once(generation),
        ))
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stops the projection tasks (each stops between batches; a batch is one transaction).
    pub async fn stop(&self) {
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for m in self.managed.iter() {
            m.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
            // Wait for any batch in flight to finish; no new one starts after this.
            let _serving = m.serving.lock().await;
        }
        for t in tasks {
            t.abort();
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.managed.iter().map(|m| m.projection.name()).collect()
    }

    fn find(&self, name: &str) -> Result<&Arc<Managed>, RunnerError> {
        self.managed
            .iter()
            .find(|m| m.projection.name() == name)
            .ok_or_else(|| RunnerError::Unknown(name.to_owned()))
    }

    /// The lowest position every projection has applied (what "caught up" is measured by).
    pub fn min_applied(&self) -> u64 {
        self.managed
            .iter()
            .map(|m| *m.applied.borrow())
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Waits until every projection has applied `position`, at most `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), RunnerError> {
        let deadline = tokio::time::Instant::now() + timeout;
        for m in self.managed.iter() {
            let mut applied = m.applied.subscribe();
            let reached = tokio::time::timeout_at(deadline, applied.wait_for(|p| *p >= position))
                .await
                .is_ok_and(|r| r.is_ok());
            if !reached {
                return Err(RunnerError::Lagging(
                    m.projection.name().to_owned(),
                    position,
                ));
            }
        }
        Ok(())
    }

    /// Waits until projection `name` has applied `position`, at most `timeout`.
    pub async fn wait_for_projection(
        &self,
        name: &str,
        position: u64,
        timeout: Duration,
    ) -> Result<(), RunnerError> {
        let m = self.find(name)?;
        let mut applied = m.applied.subscribe();
        let reached = tokio::time::timeout(timeout, applied.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok());
        if reached {
            Ok(())
        } else {
            Err(RunnerError::Lagging(name.to_owned(), position))
        }
    }

    /// Every projection's checkpoint, lag and phase, read from the database (so a CLI sees
    /// what a running server has done).
    pub async fn status(&self) -> Result<Vec<ProjectionStatus>, RunnerError> {
        let head = self.store.last_position().await?;
        let rows = self.rows().await?;
        Ok(self
            .managed
            .iter()
            .map(|m| {
                let name = m.projection.name();
                let row = rows.get(name).copied();
                let (phase, error) = m.phase.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let position = row.map_or(0, |r| r.position).max(*m.applied.borrow());
                let rebuild_position = row
                    .and_then(|r| r.rebuild_position)
                    .or(*m.rebuilding.lock().unwrap_or_else(|p| p.into_inner()));
                let status = if rebuild_position.is_some() {
                    "rebuilding".to_owned()
                } else {
                    serde_json::to_value(&phase)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                };
                ProjectionStatus {
                    name: name.to_owned(),
                    position,
                    lag: head.saturating_sub(position),
                    status,
                    generation: row.map_or(0, |r| r.generation),
                    rebuild_position,
                    error,
                }
            })
            .collect())
    }

    async fn rows(&self) -> Result<HashMap<String, Row_>, RunnerError> {
        let backend = self.store.database().backend();
        let mut rows = HashMap::new();
        macro_rules! all {
            ($pool:expr) => {
                for r in sqlx::query(Statement::All.sql(backend))
                    .fetch_all($pool)
                    .await?
                {
                    rows.insert(
                        r.try_get::<String, _>(0)?,
                        Row_ {
                            generation: r.try_get::<i64, _>(1)? as u64,
                            position: r.try_get::<i64, _>(2)? as u64,
                            rebuilding_generation: r
                                .try_get::<Option<i64>, _>(3)?
                                .map(|g| g as u64),
                            rebuild_position: r.try_get::<Option<i64>, _>(4)?.map(|p| p as u64),
                        },
                    );
                }
            };
        }
        match self.store.database() {
            event_store::Database::Sqlite(pool) => all!(pool),
            event_store::Database::Postgres(pool) => all!(pool),
        }
        Ok(rows)
    }

    /// Rebuilds projection `name` from the start of the log into a new generation beside the
    /// serving one, then swaps it in. Readers keep the serving model until the swap.
    pub async fn rebuild(
        &self,
        name: &str,
        progress: impl Fn(RebuildProgress) + Send + Sync,
    ) -> Result<u64, RunnerError> {
        let m = self.claim(name)?;
        self.run_claimed(m, name, progress).await
    }

    /// Starts a rebuild in the background (the claim is taken before this returns, so a
    /// second call answers [`RunnerError::AlreadyRebuilding`] at once).
    pub fn spawn_rebuild(&self, name: &str) -> Result<(), RunnerError> {
        let m = self.claim(name)?;
        let runner = self.clone();
        let name = name.to_owned();
        tokio::spawn(async move {
            match runner.run_claimed(m, &name, |_| {}).await {
                Ok(position) => tracing::info!(projection = name, position, "rebuild finished"),
                Err(error) => tracing::error!(projection = name, %error, "rebuild failed"),
            }
        });
        Ok(())
    }

    /// Marks projection `name` as being rebuilt by this process.
    fn claim(&self, name: &str) -> Result<Arc<Managed>, RunnerError> {
        let m = self.find(name)?.clone();
        let mut rebuilding = m.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        if rebuilding.is_some() {
            return Err(RunnerError::AlreadyRebuilding(name.to_owned()));
        }
        *rebuilding = Some(0);
        drop(rebuilding);
        Ok(m)
    }

    async fn run_claimed(
        &self,
        m: Arc<Managed>,
        name: &str,
        progress: impl Fn(RebuildProgress) + Send + Sync,
    ) -> Result<u64, RunnerError> {
        let mut claimed = None;
        let result = self.rebuild_claimed(&m, name, progress, &mut claimed).await;
        if let (Err(error), Some(generation)) = (&result, claimed) {
            if !matches!(error, RunnerError::RebuildTakenOver(_)) {
                tracing::error!(projection = name, generation, %error, "rebuild failed; abandoning its generation");
                if let Err(cleanup) = self.abandon(&m, generation).await {
                    tracing::error!(projection = name, error = %cleanup, "could not abandon the failed rebuild");
                }
            }
        }
        *m.rebuilding.lock().unwrap_or_else(|p| p.into_inner()) = None;
        result
    }

    /// Whether this process is rebuilding projection `name` right now.
    pub fn is_rebuilding(&self, name: &str) -> bool {
        self.find(name)
            .map(|m| {
                m.rebuilding
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some()
            })
            .unwrap_or(false)
    }

    /// Drops a failed rebuild's tables and clears its bookkeeping (if it is still ours).
    async fn abandon(&self, m: &Managed, generation: u64) -> Result<(), RunnerError> {
        let name = m.projection.name();
        let mut tx = Tx::begin(self.store.derived_database()).await?;
        let cleared = execute(
            &mut tx,
            Statement::AbandonRebuild,
            &[
                Arg::Text(name),
                Arg::Int(generation as i64),
                Arg::Int(now_micros()),
            ],
        )
        .await?;
        if cleared == 1 {
            tx.run_script(&drop_script(
                m.projection.as_ref(),
                std::iter::once(generation),
            ))
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rebuild_claimed(
        &self,
        m: &Arc<Managed>,
        name: &str,
        progress: impl Fn(RebuildProgress) + Send + Sync,
        claimed: &mut Option<u64>,
    ) -> Result<u64, RunnerError> {
        let projection = m.projection.clone();
        let db = self.store.derived_database();

        // Claim a new generation and create its tables.
        let mut tx = Tx::begin(db).await?;
        let row = fetch_row(&mut tx, Statement::GetForUpdate, name)
            .await?
            .ok_or_else(|| RunnerError::Unknown(name.to_owned()))?;
        let generation = row.generation.max(row.rebuilding_generation.unwrap_or(0)) + 1;
        let tables = Tables::new(projection.tables(), generation);
        if let Some(stale) = row.rebuilding_generation {
            // An earlier rebuild that never finished.
            tx.run_script(&drop_script(projection.as_ref(), std::iter::once(stale)))
                .await?;
        }
        tx.run_script(&tables.sql(projection.schema(db.backend())))
            .await?;
        execute(
            &mut tx,
            Statement::BeginRebuild,
            &[
                Arg::Text(name),
                Arg::Int(generation as i64),
                Arg::Int(now_micros()),
            ],
        )
        .await?;
        tx.commit().await?;
        *claimed = Some(generation);
        tracing::info!(projection = name, generation, "rebuild started");

        // Fill it, batch by batch, each batch with its checkpoint.
        let mut position = 0u64;
        loop {
            let target = self.store.last_position().await?;
            let events = self.store.read_all(position, BATCH).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                break;
            };
            let mut tx = Tx::begin(db).await?;
            projection.apply(&mut tx, &tables, &events).await?;
            let moved = execute(
                &mut tx,
                Statement::AdvanceRebuild,
                &[
                    Arg::Text(name),
                    Arg::Int(generation as i64),
                    Arg::Int(position as i64),
                    Arg::Int(last as i64),
                    Arg::Int(now_micros()),
                ],
            )
            .await?;
            if moved != 1 {
                tx.rollback().await?;
                return Err(RunnerError::RebuildTakenOver(name.to_owned()));
            }
            tx.commit().await?;
            position = last;
            *m.rebuilding.lock().unwrap_or_else(|p| p.into_inner()) = Some(position);
            progress(RebuildProgress {
                position,
                target: target.max(position),
            });
        }

        // Swap: pause this process's live task, apply what arrived meanwhile, move the
        // views and the checkpoint, drop the old generation, all in one transaction.
        let mut serving = m.serving.lock().await;
        let mut tx = Tx::begin(db).await?;
        let row = fetch_row(&mut tx, Statement::GetForUpdate, name)
            .await?
            .ok_or_else(|| RunnerError::Unknown(name.to_owned()))?;
        if row.rebuilding_generation != Some(generation) {
            tx.rollback().await?;
            return Err(RunnerError::RebuildTakenOver(name.to_owned()));
        }
        loop {
            let events = self.store.read_all(position, BATCH).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                break;
            };
            projection.apply(&mut tx, &tables, &events).await?;
            position = last;
        }
        tx.run_script(&views_script(&tables)).await?;
        execute(
            &mut tx,
            Statement::Swap,
            &[
                Arg::Text(name),
                Arg::Int(generation as i64),
                Arg::Int(position as i64),
                Arg::Int(now_micros()),
            ],
        )
        .await?;
        tx.run_script(&drop_script(projection.as_ref(), 1..generation))
            .await?;
        tx.commit().await?;
        *serving = Serving {
            generation,
            position,
        };
        drop(serving);
        m.applied.send_replace(position);
        progress(RebuildProgress {
            position,
            target: position,
        });
        tracing::info!(
            projection = name,
            generation,
            position,
            "rebuild swapped in"
        );
        Ok(position)
    }
}

/// Abandons the rebuilds recorded in the checkpoint rows that make no progress for `grace`
/// and that this process is not running: what a process killed mid-rebuild leaves behind.
async fn sweep_stale_rebuilds(runner: Runner, grace: Duration) {
    let mut backoff = Duration::from_millis(500);
    let recorded = loop {
        match runner.rows().await {
            Ok(rows) => break rows,
            Err(error) => {
                tracing::warn!(%error, "cannot read the projections' rebuilds yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    };
    let suspects: Vec<(Arc<Managed>, u64, Option<u64>)> = runner
        .managed
        .iter()
        .filter_map(|m| {
            let row = recorded.get(m.projection.name())?;
            Some((m.clone(), row.rebuilding_generation?, row.rebuild_position))
        })
        .collect();
    if suspects.is_empty() {
        return;
    }
    tokio::time::sleep(grace).await;
    for (m, generation, position) in suspects {
        let name = m.projection.name();
        match runner.abandon_if_stuck(&m, generation, position).await {
            Ok(true) => tracing::warn!(
                projection = name,
                generation,
                "abandoned a rebuild that made no progress (its process died); its tables are dropped"
            ),
            Ok(false) => {}
            Err(error) => {
                tracing::error!(projection = name, generation, %error, "could not abandon a stale rebuild")
            }
        }
    }
}

/// One projection's live loop: apply batches until caught up, then wait for news.
async fn follow(store: EventStore, m: Arc<Managed>) {
    let mut head = store.subscribe();
    let mut backoff = Duration::from_millis(200);
    let mut force = true;
    loop {
        head.borrow_and_update();
        match step(&store, &m, force).await {
            Ok(Some(applied)) => {
                backoff = Duration::from_millis(200);
                force = false;
                if applied > 0 && applied < BATCH as usize {
                    // A batch short of BATCH reached the head: live.
                    m.set_phase(Phase::Live, None);
                    // Caught up while events keep coming: let the next ones gather, so a
                    // projection commits a batch every LIVE_LINGER at most instead of one
                    // transaction (and, on SQLite, one turn on the write lock) per append.
                    tokio::time::sleep(LIVE_LINGER).await;
                }
            }
            Ok(None) => {
                m.set_phase(Phase::Live, None);
                backoff = Duration::from_millis(200);
                force = tokio::time::timeout(POLL, head.changed()).await.is_err();
            }
            Err(error) => {
                tracing::error!(projection = m.projection.name(), error = %error, cause = ?std::error::Error::source(&error), "projection failed; retrying");
                m.set_phase(Phase::Failed, Some(error.to_string()));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                force = true;
            }
        }
    }
}

/// Applies one batch; answers how many events it applied (`None`: nothing to apply).
async fn step(store: &EventStore, m: &Managed, force: bool) -> Result<Option<usize>, RunnerError> {
    let mut serving = m.serving.lock().await;
    if m.stopped.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(None);
    }
    if !force && serving.position >= store.known_head() {
        return Ok(None);
    }
    let events = store.read_all(serving.position, BATCH).await?;
    let Some(last) = events.last().map(|e| e.position) else {
        return Ok(None);
    };
    let mut applied = 0;
    let name = m.projection.name();
    let mut tx = Tx::begin(store.derived_database()).await?;
    // The checkpoint row, locked: another process may have moved it (or swapped a rebuild
    // in) since we last looked. If so, take its word and read again from there.
    let row = fetch_row(&mut tx, Statement::GetForUpdate, name)
        .await?
        .ok_or_else(|| RunnerError::Unknown(name.to_owned()))?;
    if (row.generation, row.position) != (serving.generation, serving.position) {
        tx.rollback().await?;
        *serving = Serving {
            generation: row.generation,
            position: row.position,
        };
    } else {
        let tables = Tables::new(m.projection.tables(), serving.generation);
        m.projection.apply(&mut tx, &tables, &events).await?;
        execute(
            &mut tx,
            Statement::Advance,
            &[
                Arg::Text(name),
                Arg::Int(serving.generation as i64),
                Arg::Int(serving.position as i64),
                Arg::Int(last as i64),
                Arg::Int(now_micros()),
            ],
        )
        .await?;
        tx.commit().await?;
        serving.position = last;
        applied = events.len();
    }
    m.applied.send_if_modified(|p| {
        let changed = serving.position != *p;
        *p = serving.position;
        changed
    });
    Ok(Some(applied))
}
