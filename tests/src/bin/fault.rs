//! `yuekang-fault`: the fault harness. Drives a real `yuekang serve --dev` process with mixed
//! load (quick check-ins, inspector scans with temperature checks, health declarations, feed
//! batches, every command with its own `Idempotency-Key`), kills it with SIGKILL at random
//! moments and restarts it on the same data, retries every command that got no answer (same
//! key, same body) until it is answered, and on PostgreSQL also stops and starts the database
//! under load. A kill during a projection rebuild is part of every run. Afterwards, with the
//! server stopped, it checks that every command answered 2xx is in the log exactly once and
//! that a retry with its key answers the same, that positions are gapless, that
//! `yuekang audit verify` passes and that every projection equals a fresh rebuild of itself.
//!
//! ```text
//! cargo build -p api --bin yuekang && cargo run -p yuekang-tests --bin yuekang-fault
//! YUEKANG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run -p yuekang-tests --bin yuekang-fault -- --backend both [--long]
//! ```
//!
//! Prints a short report per backend and its figures as one JSON object; exits 1 on any
//! violation, 2 on a usage error. See docs/faults.md.

// The report's `json!` literal nests deeper than the default limit allows.
#![recursion_limit = "256"]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crypto::assertion::{self, IdentityClaims};
use crypto::keys::DevProvider;
use event_store::{Database, EventStore, StoreOptions};
use futures_util::StreamExt;
use serde_json::{json, Value};
use sqlx::Row;

/// How long a command is retried before the harness gives up on it (a violation).
const GIVE_UP: Duration = Duration::from_secs(180);
/// One HTTP attempt's time limit: an attempt without an answer by then counts as unanswered.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// While the database is away, every answer must come within this bound (no hanging).
const OUTAGE_ANSWER_BOUND: Duration = Duration::from_secs(10);
/// After the database is back, the load runs this long before the next kill, and commands
/// must be acknowledged again meanwhile (the server recovers by itself).
const AFTER_OUTAGE: Duration = Duration::from_secs(5);
/// The projection rebuilt (and killed mid-way): the largest read model.
const REBUILT: &str = "histories";

// ---------------------------------------------------------------------------------------
// Arguments

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone)]
struct Args {
    backend: Which,
    kills: usize,
    long: bool,
    clients: usize,
    seed: u64,
    server: Option<PathBuf>,
    build: bool,
    json: Option<PathBuf>,
    keep: bool,
    pg_url: Option<String>,
    pg_cluster: Option<String>,
    db_restarts: usize,
    outage: Duration,
    rebuild_kills: usize,
    /// Pause between a server's readiness and the next kill, in milliseconds.
    gap_ms: (u64, u64),
}

const USAGE: &str = "usage: yuekang-fault [--backend sqlite|postgres|both] [--kills N] [--long] \
[--clients N] [--seed N] [--db-restarts N] [--outage-secs N] [--rebuild-kills N] \
[--server PATH] [--no-build] [--json PATH] [--keep] [--pg-url URL] [--pg-cluster VERSION/NAME]";

fn usage(why: &str) -> ! {
    eprintln!("yuekang-fault: {why}\n{USAGE}");
    std::process::exit(2);
}

fn args() -> Args {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let long = raw.iter().any(|a| a == "--long");
    let mut a = Args {
        backend: Which::Sqlite,
        kills: if long { 200 } else { 20 },
        long,
        clients: 6,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        server: None,
        build: true,
        json: None,
        keep: false,
        pg_url: std::env::var(event_store::testing::POSTGRES_URL_VAR).ok(),
        pg_cluster: None,
        db_restarts: if long { 5 } else { 1 },
        outage: Duration::from_secs(12),
        rebuild_kills: if long { 5 } else { 1 },
        gap_ms: if long { (200, 5_000) } else { (200, 1_500) },
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        let number = |v: String| -> u64 {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag} takes a number, not {v:?}")))
        };
        match flag.as_str() {
            "--long" | "--short" => {}
            "--backend" => {
                a.backend = match value().as_str() {
                    "sqlite" => Which::Sqlite,
                    "postgres" => Which::Postgres,
                    "both" => Which::Both,
                    other => usage(&format!("unknown backend {other:?}")),
                }
            }
            "--kills" => a.kills = number(value()) as usize,
            "--clients" => a.clients = (number(value()) as usize).max(1),
            "--seed" => a.seed = number(value()),
            "--db-restarts" => a.db_restarts = number(value()) as usize,
            "--outage-secs" => a.outage = Duration::from_secs(number(value())),
            "--rebuild-kills" => a.rebuild_kills = number(value()) as usize,
            "--server" => a.server = Some(PathBuf::from(value())),
            "--no-build" => a.build = false,
            "--json" => a.json = Some(PathBuf::from(value())),
            "--keep" => a.keep = true,
            "--pg-url" => a.pg_url = Some(value()),
            "--pg-cluster" => a.pg_cluster = Some(value()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if a.backend != Which::Sqlite && a.pg_url.is_none() {
        usage(&format!(
            "PostgreSQL needs --pg-url or {}",
            event_store::testing::POSTGRES_URL_VAR
        ));
    }
    a
}

/// A small deterministic generator (SplitMix64): the run's schedule follows from `--seed`.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn millis(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_millis(lo + self.below(hi.saturating_sub(lo) + 1))
    }
}

// ---------------------------------------------------------------------------------------
// The server process

#[derive(Debug)]
struct Server {
    bin: PathBuf,
    data_dir: PathBuf,
    db_url: String,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    base: String,
}

impl Server {
    fn new(bin: PathBuf, data_dir: PathBuf, db_url: String) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("choosing a port: {e}"))?
            .port();
        Ok(Self {
            log: data_dir.join("server.log"),
            bin,
            data_dir,
            db_url,
            port,
            child: None,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// `yuekang --data-dir … --db …` with no `YUEKANG_*` variable of the caller leaking in.
    fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--db")
            .arg(&self.db_url);
        for var in [
            "YUEKANG_DATA_DIR",
            "YUEKANG_DB",
            "YUEKANG_CONFIG",
            "YUEKANG_LISTEN",
            "YUEKANG_DEV",
            "YUEKANG_LOG_FORMAT",
        ] {
            c.env_remove(var);
        }
        c
    }

    fn start(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("opening {}: {e}", self.log.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = self
            .command()
            .args(["serve", "--dev", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            // Errors logged with their cause, without a backtrace captured for each.
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL, and reap the process.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit (SIGKILL after 30 s): whether it exited by itself.
    fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Whether the process died by itself.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Runs a CLI subcommand on the same data (off the async threads).
    async fn cli(&self, args: &[&str]) -> Result<Output, String> {
        let mut c = self.command();
        c.args(args).env("RUST_LOG", "warn").stdin(Stdio::null());
        let what = args.join(" ");
        tokio::task::spawn_blocking(move || c.output())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("yuekang {what}: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

#[derive(Debug, Clone)]
struct Request {
    method: reqwest::Method,
    path: String,
    token: String,
    key: Option<String>,
    body: Option<String>,
}

impl Request {
    fn post(path: impl Into<String>, token: &str, body: &Value) -> Self {
        Self {
            method: reqwest::Method::POST,
            path: path.into(),
            token: token.to_owned(),
            key: Some(uuid::Uuid::new_v4().to_string()),
            body: Some(body.to_string()),
        }
    }

    fn get(path: impl Into<String>, token: &str) -> Self {
        Self {
            method: reqwest::Method::GET,
            path: path.into(),
            token: token.to_owned(),
            key: None,
            body: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| Value::String(self.body.clone()))
    }

    fn problem_json(&self) -> bool {
        self.content_type.starts_with("application/problem+json")
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    r: &Request,
    timeout: Duration,
) -> Result<Answer, reqwest::Error> {
    let mut builder = client
        .request(r.method.clone(), format!("{base}{}", r.path))
        .timeout(timeout);
    if !r.token.is_empty() {
        builder = builder.bearer_auth(&r.token);
    }
    if let Some(key) = &r.key {
        builder = builder.header("Idempotency-Key", key);
    }
    if let Some(body) = &r.body {
        builder = builder
            .header("content-type", "application/json")
            .body(body.clone());
    }
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await?;
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

// ---------------------------------------------------------------------------------------
// Shared run state

/// One command and what became of it.
#[derive(Debug, Clone)]
struct Record {
    kind: &'static str,
    request: Request,
    attempts: u32,
    /// Attempts that got no HTTP answer at all (connection refused or reset, timeout).
    unanswered: u32,
    /// Attempts answered 503.
    unavailable: u32,
    /// The final answer (2xx or 4xx); `None` when the harness gave up.
    answer: Option<Answer>,
    /// Each attempt: its status (0: no answer) and how long it took, in milliseconds.
    tries: Vec<(u16, u64)>,
}

/// One attempt's answer and how long it took.
#[derive(Debug, Clone)]
struct Attempt {
    sent: Instant,
    took: Duration,
    /// `None`: no answer (transport error or timeout).
    status: Option<u16>,
    problem_json: bool,
    code: String,
}

#[derive(Debug)]
struct Fixture {
    venue_id: String,
    poster: String,
    admin: String,
    inspectors: Vec<String>,
    /// Citizens' session tokens.
    citizens: Vec<String>,
    /// Their code tokens as first fetched (refreshed in [`Shared::codes`]).
    codes: Vec<String>,
    feed: String,
    analyst: String,
}

#[derive(Debug)]
struct Shared {
    base: String,
    client: reqwest::Client,
    fixture: Fixture,
    records: Mutex<Vec<Record>>,
    /// Every HTTP attempt of every command.
    attempts: Mutex<Vec<Attempt>>,
    /// The citizens' code tokens, fetched again every minute (a check needs a fresh one).
    codes: Mutex<Vec<String>>,
    violations: Mutex<Vec<String>>,
    stop: AtomicBool,
    pause: AtomicBool,
    busy: AtomicUsize,
    /// Probe `/readyz` (while the database is away).
    probing: AtomicBool,
    next_doc: AtomicU64,
    timeouts: AtomicU64,
    answered_5xx: AtomicU64,
}

impl Shared {
    fn violation(&self, what: String) {
        eprintln!("VIOLATION: {what}");
        self.violations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    /// Sends `request` until it gets a final answer (2xx or 4xx), retrying with the same key
    /// and body after no answer, a 503 or another 5xx (the last a violation).
    async fn execute(&self, kind: &'static str, request: Request) -> Option<Answer> {
        let started = Instant::now();
        let mut record = Record {
            kind,
            request,
            attempts: 0,
            unanswered: 0,
            unavailable: 0,
            answer: None,
            tries: Vec::new(),
        };
        loop {
            record.attempts += 1;
            let sent = Instant::now();
            let result = send(&self.client, &self.base, &record.request, ATTEMPT_TIMEOUT).await;
            self.keep_attempt(sent, &result);
            record.tries.push((
                result.as_ref().map_or(0, |a| a.status),
                sent.elapsed().as_millis() as u64,
            ));
            match result {
                Err(e) => {
                    record.unanswered += 1;
                    if e.is_timeout() {
                        self.timeouts.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(a) if a.status == 503 => {
                    record.unavailable += 1;
                    if !a.problem_json() {
                        self.violation(format!(
                            "{kind} {}: 503 without problem+json ({})",
                            record.request.path, a.content_type
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Ok(a) if a.status >= 500 => {
                    self.answered_5xx.fetch_add(1, Ordering::Relaxed);
                    self.violation(format!(
                        "{kind} {}: answered {} {}",
                        record.request.path, a.status, a.body
                    ));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Ok(a) => {
                    record.answer = Some(a);
                    break;
                }
            }
            if started.elapsed() > GIVE_UP {
                self.violation(format!(
                    "{kind} {}: no final answer after {} attempts in {:?}",
                    record.request.path,
                    record.attempts,
                    started.elapsed()
                ));
                break;
            }
        }
        let answer = record.answer.clone();
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
        answer
    }

    fn keep_attempt(&self, sent: Instant, result: &Result<Answer, reqwest::Error>) {
        let attempt = Attempt {
            sent,
            took: sent.elapsed(),
            status: result.as_ref().ok().map(|a| a.status),
            problem_json: result.as_ref().is_ok_and(Answer::problem_json),
            code: result.as_ref().map(Answer::code).unwrap_or_default(),
        };
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(attempt);
    }
}

// ---------------------------------------------------------------------------------------
// The load

fn cst_now_minus(seconds: i64) -> String {
    let at = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8))
        - time::Duration::seconds(seconds);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn check_in(s: &Shared, rng: &mut Rng) {
    let token = &s.fixture.citizens[rng.below(s.fixture.citizens.len() as u64) as usize];
    let body = json!({ "poster_token": s.fixture.poster });
    s.execute("check_in", Request::post("/v1/checkins", token, &body))
        .await;
}

async fn scan_and_check(s: &Shared, rng: &mut Rng) {
    let inspector = &s.fixture.inspectors[rng.below(s.fixture.inspectors.len() as u64) as usize];
    let code = {
        let codes = s.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes[rng.below(codes.len() as u64) as usize].clone()
    };
    let venue = &s.fixture.venue_id;
    let body = json!({ "token": code, "context": { "venue_id": venue } });
    let Some(answer) = s
        .execute("scan", Request::post("/v1/scans", inspector, &body))
        .await
    else {
        return;
    };
    let Some(scan_id) = answer.json()["scan_id"].as_str().map(str::to_owned) else {
        return;
    };
    let band = if rng.below(10) == 0 {
        "fever"
    } else {
        "normal"
    };
    let body = json!({ "scan_id": scan_id, "band": band });
    s.execute(
        "check",
        Request::post(format!("/v1/venues/{venue}/checks"), inspector, &body),
    )
    .await;
}

async fn declaration(s: &Shared, rng: &mut Rng) {
    let token = &s.fixture.citizens[rng.below(s.fixture.citizens.len() as u64) as usize];
    let tenths = 360 + rng.below(15) as i64;
    let body = json!({
        "temperature_c": tenths as f64 / 10.0,
        "symptoms": [],
        "contact_14d": false,
        "visited": [],
        "region": "440106001",
    });
    s.execute(
        "declaration",
        Request::post("/v1/declarations", token, &body),
    )
    .await;
}

async fn feed_batch(s: &Shared, rng: &mut Rng) {
    let n = 1 + rng.below(3);
    let records: Vec<Value> = (0..n)
        .map(|_| {
            let doc = s.next_doc.fetch_add(1, Ordering::Relaxed) as u32;
            json!({
                "record_id": format!("fault-{}", uuid::Uuid::new_v4().simple()),
                "document": { "type": "resident_id", "number": yuekang_tests::resident_id("440106197001", doc) },
                "name": "王小五",
                "reason": "close_contact",
                "action": "hit",
                "effective_at": cst_now_minus(60),
                "region": "440106",
            })
        })
        .collect();
    let body = json!({ "records": records });
    s.execute(
        "feed_batch",
        Request::post("/v1/feed/batches", &s.fixture.feed, &body),
    )
    .await;
}

async fn client_loop(s: Arc<Shared>, mut rng: Rng) {
    while !s.stop.load(Ordering::SeqCst) {
        s.busy.fetch_add(1, Ordering::SeqCst);
        if s.pause.load(Ordering::SeqCst) {
            s.busy.fetch_sub(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        match rng.below(100) {
            0..=34 => check_in(&s, &mut rng).await,
            35..=64 => scan_and_check(&s, &mut rng).await,
            65..=89 => declaration(&s, &mut rng).await,
            _ => feed_batch(&s, &mut rng).await,
        }
        s.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Fetches the citizens' codes again every minute, as their phones do: a temperature check
/// needs a code issued within the last few minutes (`code_fresh_minutes`).
async fn refresh_codes(s: Arc<Shared>) {
    let mut last = Instant::now();
    while !s.stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if last.elapsed() < Duration::from_secs(60) {
            continue;
        }
        last = Instant::now();
        for (i, citizen) in s.fixture.citizens.iter().enumerate() {
            let r = Request::get("/v1/me/code", citizen);
            let Ok(a) = send(&s.client, &s.base, &r, ATTEMPT_TIMEOUT).await else {
                continue; // the server is down this moment; the next round catches up
            };
            if let (200, Some(code)) = (a.status, a.json()["token"].as_str()) {
                s.codes.lock().unwrap_or_else(|p| p.into_inner())[i] = code.to_owned();
            }
        }
    }
}

/// Pauses the clients and waits until none is inside a command.
async fn pause(s: &Shared) {
    s.pause.store(true, Ordering::SeqCst);
    while s.busy.load(Ordering::SeqCst) > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Readiness and the fixture

/// `/readyz` once, with a short time limit.
async fn readyz(client: &reqwest::Client, base: &str, timeout: Duration) -> Option<Answer> {
    send(client, base, &Request::get("/readyz", ""), timeout)
        .await
        .ok()
}

/// Polls `/readyz` until it answers 200: the time since `since`.
async fn wait_ready(
    client: &reqwest::Client,
    server: &mut Server,
    since: Instant,
    limit: Duration,
) -> Result<Duration, String> {
    loop {
        if let Some(a) = readyz(client, &server.base, Duration::from_millis(1_000)).await {
            if a.status == 200 {
                return Ok(since.elapsed());
            }
        }
        if let Some(status) = server.exited() {
            return Err(format!(
                "the server exited ({status}); its log ends:\n{}",
                server.log_tail()
            ));
        }
        if since.elapsed() > limit {
            return Err(format!(
                "/readyz did not answer 200 within {limit:?}; the server log ends:\n{}",
                server.log_tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every projection has applied the whole log.
async fn wait_caught_up(client: &reqwest::Client, base: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(a) = readyz(client, base, Duration::from_secs(5)).await {
            let body = a.json();
            let lagging = body["projections"]
                .as_array()
                .map(|ps| ps.iter().any(|p| p["lag"].as_u64() != Some(0)));
            if a.status == 200 && lagging == Some(false) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err("the projections did not catch up with the log within 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn expect(
    client: &reqwest::Client,
    base: &str,
    r: &Request,
    status: u16,
) -> Result<Value, String> {
    let a = send(client, base, r, ATTEMPT_TIMEOUT)
        .await
        .map_err(|e| format!("{} {}: {e}", r.method, r.path))?;
    if a.status != status {
        return Err(format!(
            "{} {}: expected {status}, got {} {}",
            r.method, r.path, a.status, a.body
        ));
    }
    Ok(a.json())
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    provider: &DevProvider,
    doc: &str,
    name: &str,
) -> Result<String, String> {
    let iat = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = IdentityClaims {
        iss: provider.issuer.clone(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat,
        exp: iat + assertion::DEFAULT_LIFETIME_SECS,
        doc_type: "resident_id".into(),
        doc_number: doc.into(),
        name: name.into(),
        phone: Some("13912345678".into()),
        method: "face".into(),
        aud: None,
        sub: None,
    };
    let mut r = Request::post(
        "/v1/sessions",
        "",
        &json!({ "assertion": assertion::mint(provider, &claims) }),
    );
    r.key = None;
    let body = expect(client, base, &r, 201).await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no token in {body}"))
}

async fn service_account(server: &Server, role: &str) -> Result<String, String> {
    let out = server
        .cli(&[
            "service-account",
            "create",
            "--role",
            role,
            "--name",
            &format!("fault harness {role}"),
        ])
        .await?;
    if !out.status.success() {
        return Err(format!(
            "service-account create --role {role}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Waits until `token` is accepted on `path` (the server's read model learns the account).
async fn wait_accepted(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = send(client, base, &Request::get(path, token), ATTEMPT_TIMEOUT).await;
        if a.as_ref().is_ok_and(|a| a.status == 200) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{path} kept refusing a new service account: {a:?}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn fixture(client: &reqwest::Client, server: &Server) -> Result<Fixture, String> {
    let base = &server.base;
    let provider = DevProvider::load(&server.data_dir).map_err(|e| e.to_string())?;
    let admin = login(
        client,
        base,
        &provider,
        &yuekang_tests::resident_id("440106197501", 1),
        "管理员",
    )
    .await?;
    let venue = expect(
        client,
        base,
        &Request::post(
            "/v1/venues",
            &admin,
            &json!({"region": "440106001", "address": "天河路208号", "type": "retail", "name": "天河城", "phone": "13912345678"}),
        ),
        201,
    )
    .await?;
    let venue_id = venue["venue_id"].as_str().unwrap_or_default().to_owned();
    let code = venue["code"].as_str().unwrap_or_default().to_owned();
    let mut inspectors = Vec::new();
    for i in 0..4 {
        let token = login(
            client,
            base,
            &provider,
            &yuekang_tests::resident_id("440106198801", i),
            "检测员",
        )
        .await?;
        expect(
            client,
            base,
            &Request::post("/v1/venue-bindings", &token, &json!({ "code": code })),
            201,
        )
        .await?;
        inspectors.push(token);
    }
    let (mut citizens, mut codes) = (Vec::new(), Vec::new());
    for i in 0..30 {
        let token = login(
            client,
            base,
            &provider,
            &yuekang_tests::resident_id("440106198501", i),
            "市民甲",
        )
        .await?;
        let code = expect(client, base, &Request::get("/v1/me/code", &token), 200).await?["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        citizens.push(token);
        codes.push(code);
    }
    let poster = expect(
        client,
        base,
        &Request::get(format!("/v1/venues/{venue_id}/poster"), &admin),
        200,
    )
    .await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let feed = service_account(server, "feed").await?;
    let analyst = service_account(server, "analyst").await?;
    wait_accepted(client, base, &feed, "/v1/feed/appeals").await?;
    wait_accepted(client, base, &analyst, "/v1/projections").await?;
    Ok(Fixture {
        venue_id,
        poster,
        admin,
        inspectors,
        citizens,
        codes,
        feed,
        analyst,
    })
}

// ---------------------------------------------------------------------------------------
// The database restart (PostgreSQL)

fn pg_cluster(args: &Args) -> Result<(String, String), String> {
    let spec = match &args.pg_cluster {
        Some(spec) => spec.clone(),
        None => {
            let version = std::fs::read_dir("/etc/postgresql")
                .map_err(|e| format!("/etc/postgresql: {e} (pass --pg-cluster VERSION/NAME)"))?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .min()
                .ok_or("no cluster under /etc/postgresql (pass --pg-cluster VERSION/NAME)")?;
            format!("{version}/main")
        }
    };
    let (version, name) = spec
        .split_once('/')
        .ok_or_else(|| format!("--pg-cluster is VERSION/NAME, not {spec:?}"))?;
    Ok((version.to_owned(), name.to_owned()))
}

async fn pg_ctl(cluster: &(String, String), action: &str) -> Result<(), String> {
    let mut c = Command::new("pg_ctlcluster");
    c.args(["--skip-systemctl-redirect", &cluster.0, &cluster.1, action]);
    if action == "stop" {
        c.args(["-m", "fast"]);
    }
    let out = tokio::task::spawn_blocking(move || c.output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("pg_ctlcluster {action}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "pg_ctlcluster {action}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// When the database was stopped and started, and what `/readyz` answered meanwhile.
#[derive(Debug)]
struct OutageWindow {
    /// `pg_ctlcluster stop` issued.
    stop_at: Instant,
    /// It returned: the database is down.
    down_since: Instant,
    /// `pg_ctlcluster start` issued.
    up_at: Instant,
    /// Database start → first `/readyz` 200.
    recovery: Duration,
    readyz: Vec<(Instant, Duration, Option<Answer>)>,
    /// Commands sent after `/readyz` was 200 again and acknowledged within [`AFTER_OUTAGE`].
    resumed: usize,
}

#[derive(Debug, Default)]
struct Outage {
    /// Answers to commands sent while the database was down (answered before it came back).
    answers: usize,
    answers_503: usize,
    codes: BTreeMap<String, usize>,
    /// Commands in flight when the database stopped, and what they got.
    in_flight: BTreeMap<String, usize>,
    /// The slowest answer to any request sent or in flight while the database was away.
    max_answer_ms: u64,
    readyz_503: usize,
    /// Database start → first `/readyz` 200.
    recovery_ms: u64,
    /// Database stop → first `/readyz` 200.
    total_ms: u64,
    /// Commands acknowledged in the 5 s after.
    resumed: usize,
}

/// Stops the database under load, probes `/readyz` while it is away, starts it again and
/// waits for `/readyz` 200. The commands' answers meanwhile are judged after the run.
async fn db_restart(
    s: &Arc<Shared>,
    server: &mut Server,
    cluster: &(String, String),
    outage: Duration,
) -> Result<OutageWindow, String> {
    let stop_at = Instant::now();
    pg_ctl(cluster, "stop").await?;
    let down_since = Instant::now();
    s.probing.store(true, Ordering::SeqCst);
    let probes = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while s.probing.load(Ordering::SeqCst) {
                let sent = Instant::now();
                let a = readyz(
                    &s.client,
                    &s.base,
                    OUTAGE_ANSWER_BOUND + Duration::from_secs(10),
                )
                .await;
                seen.push((sent, sent.elapsed(), a));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            seen
        })
    };
    tokio::time::sleep(outage).await;
    let up_at = Instant::now();
    let started = pg_ctl(cluster, "start").await;
    s.probing.store(false, Ordering::SeqCst);
    started?;
    let recovery = wait_ready(&s.client, server, up_at, Duration::from_secs(120)).await?;
    let ready_at = Instant::now();
    tokio::time::sleep(AFTER_OUTAGE).await;
    let resumed = s
        .attempts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|a| a.sent >= ready_at && a.status.is_some_and(|c| (200..300).contains(&c)))
        .count();
    if resumed == 0 {
        s.violation(format!(
            "database back: no command was acknowledged in the {AFTER_OUTAGE:?} after /readyz said 200"
        ));
    }
    Ok(OutageWindow {
        stop_at,
        down_since,
        up_at,
        recovery,
        readyz: probes.await.unwrap_or_default(),
        resumed,
    })
}

/// Judges the answers around a database outage: none may take longer than
/// [`OUTAGE_ANSWER_BOUND`]; every command sent while the database was down and answered
/// before it came back is 503 problem+json; `/readyz` answered 503 problem+json.
fn judge_outage(s: &Shared, w: &OutageWindow, attempts: &[Attempt]) -> Outage {
    let mut o = Outage {
        recovery_ms: w.recovery.as_millis() as u64,
        total_ms: (w.up_at.duration_since(w.stop_at) + w.recovery).as_millis() as u64,
        resumed: w.resumed,
        ..Outage::default()
    };
    let label = |a: &Attempt| match a.status {
        Some(status) if a.code.is_empty() => status.to_string(),
        Some(status) => format!("{status} {}", a.code),
        None => "no answer".to_owned(),
    };
    for a in attempts {
        let end = a.sent + a.took;
        if end < w.stop_at || a.sent > w.up_at {
            continue;
        }
        o.max_answer_ms = o.max_answer_ms.max(a.took.as_millis() as u64);
        if a.took > OUTAGE_ANSWER_BOUND {
            s.violation(format!(
                "database away: a command took {:?} to answer",
                a.took
            ));
        }
        if a.sent < w.down_since {
            *o.in_flight.entry(label(a)).or_default() += 1;
            continue;
        }
        if end > w.up_at {
            continue;
        }
        o.answers += 1;
        *o.codes.entry(label(a)).or_default() += 1;
        if a.status == Some(503) && a.problem_json {
            o.answers_503 += 1;
        } else {
            s.violation(format!(
                "database away: a command was answered {} (problem+json: {})",
                label(a),
                a.problem_json
            ));
        }
    }
    for (sent, took, a) in &w.readyz {
        if *sent < w.down_since || *sent + *took > w.up_at {
            continue;
        }
        o.max_answer_ms = o.max_answer_ms.max(took.as_millis() as u64);
        match a {
            Some(a) if a.status == 503 && a.problem_json() => o.readyz_503 += 1,
            Some(a) => s.violation(format!(
                "database away: /readyz answered {} {}",
                a.status, a.body
            )),
            None => s.violation(format!("database away: /readyz gave no answer in {took:?}")),
        }
    }
    if o.readyz_503 == 0 {
        s.violation("database away: /readyz never answered 503".into());
    }
    if o.answers_503 == 0 {
        s.violation("database away: no command was answered 503".into());
    }
    o
}

// ---------------------------------------------------------------------------------------
// A kill during a projection rebuild

#[derive(Debug, Default)]
struct RebuildKill {
    /// The rebuild's progress when the server was killed: (rebuild position, log head).
    killed_at: Option<(u64, u64)>,
    /// The rebuilds that finished before the kill could catch them.
    finished_first: usize,
    generation_before: u64,
    /// `status` and `rebuild_position` of the projection after the restart.
    after_restart: String,
    /// How long after the restart the killed rebuild was seen ended (abandoned or swapped).
    ended_after_ms: Option<u64>,
    /// The projection's status and generation then.
    ended_as: String,
    generation_after_new_rebuild: u64,
    queries_equal: bool,
    recovery_ms: u64,
}

async fn queries(s: &Shared) -> Vec<(String, u16, String)> {
    let f = &s.fixture;
    let citizen = &f.citizens[0];
    let list = [
        Request::get("/v1/me/checks?limit=500", citizen),
        Request::get("/v1/me/declarations?limit=500", citizen),
        Request::get(format!("/v1/venues/{}/stats", f.venue_id), &f.admin),
        Request::get(
            format!("/v1/me/venues/{}/stats", f.venue_id),
            &f.inspectors[0],
        ),
    ];
    let mut out = Vec::new();
    for r in list {
        let a = send(&s.client, &s.base, &r, ATTEMPT_TIMEOUT).await;
        let (status, body) = a.map_or((0, String::new()), |a| (a.status, a.body));
        out.push((r.path, status, body));
    }
    out
}

async fn projection(s: &Shared, name: &str) -> Option<Value> {
    let a = send(
        &s.client,
        &s.base,
        &Request::get("/v1/projections", &s.fixture.analyst),
        ATTEMPT_TIMEOUT,
    )
    .await
    .ok()?;
    a.json()
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
}

async fn start_rebuild(s: &Shared) -> Result<(), String> {
    let mut r = Request::post(
        format!("/v1/projections/{REBUILT}/rebuild"),
        &s.fixture.analyst,
        &json!({}),
    );
    r.body = None;
    r.key = None;
    expect(&s.client, &s.base, &r, 202).await.map(drop)
}

async fn rebuild_kill(s: &Arc<Shared>, server: &mut Server) -> Result<RebuildKill, String> {
    pause(s).await;
    wait_caught_up(&s.client, &s.base).await?;
    let snapshot = queries(s).await;
    let mut figures = RebuildKill {
        generation_before: projection(s, REBUILT)
            .await
            .and_then(|p| p["generation"].as_u64())
            .unwrap_or(0),
        ..RebuildKill::default()
    };
    let mut equal = true;
    let mut compare = |when: &str, now: &[(String, u16, String)]| {
        if now != snapshot.as_slice() {
            equal = false;
            s.violation(format!(
                "rebuild kill: the queries answered otherwise {when}: {now:?} instead of {snapshot:?}"
            ));
        }
    };
    // Catch the rebuild mid-way: kill when it has applied a batch and not yet swapped in.
    for _ in 0..5 {
        let generation = projection(s, REBUILT)
            .await
            .and_then(|p| p["generation"].as_u64())
            .unwrap_or(0);
        start_rebuild(s).await?;
        let mut caught = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let Some(p) = projection(s, REBUILT).await else {
                continue;
            };
            let position = p["rebuild_position"].as_u64().unwrap_or(0);
            if position > 0 {
                caught = Some((position, p["position"].as_u64().unwrap_or(0)));
                break;
            }
            if p["generation"].as_u64().unwrap_or(0) > generation {
                break; // finished before we saw it half-way
            }
        }
        if let Some(progress) = caught {
            compare("during the rebuild", &queries(s).await);
            let t0 = Instant::now();
            server.kill();
            figures.killed_at = Some(progress);
            server.start()?;
            figures.recovery_ms = wait_ready(&s.client, server, t0, Duration::from_secs(120))
                .await?
                .as_millis() as u64;
            break;
        }
        figures.finished_first += 1;
    }
    if figures.killed_at.is_none() {
        s.violation(format!(
            "rebuild kill: every one of {} rebuilds finished before the kill could catch it",
            figures.finished_first
        ));
    }
    compare("after the restart", &queries(s).await);
    let after = projection(s, REBUILT).await.unwrap_or_default();
    figures.after_restart = format!(
        "status {}, generation {}, rebuild_position {}",
        plain(&after["status"]),
        after["generation"],
        after["rebuild_position"]
    );
    // The killed rebuild must come to an end by itself: swapped in before the kill, or
    // abandoned by the restarted server (which drops its tables).
    let restarted = Instant::now();
    let after = loop {
        let p = projection(s, REBUILT).await.unwrap_or_default();
        if p["rebuild_position"].is_null() && p["status"] != "rebuilding" {
            figures.ended_after_ms = Some(restarted.elapsed().as_millis() as u64);
            break p;
        }
        if restarted.elapsed() > Duration::from_secs(60) {
            s.violation(format!(
                "rebuild kill: the killed rebuild was neither finished nor abandoned 60 s after the restart: {p}"
            ));
            break p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    figures.ended_as = format!(
        "status {}, generation {}",
        plain(&after["status"]),
        after["generation"]
    );
    compare("after the killed rebuild ended", &queries(s).await);
    // A new rebuild must succeed (and clear whatever the killed one left).
    let generation = after["generation"].as_u64().unwrap_or(0);
    start_rebuild(s).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let p = projection(s, REBUILT).await.unwrap_or_default();
        if p["generation"].as_u64().unwrap_or(0) > generation && p["status"] != "rebuilding" {
            figures.generation_after_new_rebuild = p["generation"].as_u64().unwrap_or(0);
            break;
        }
        if Instant::now() > deadline {
            s.violation(format!(
                "rebuild kill: the new rebuild did not finish within 120 s: {p}"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    compare("after a new rebuild", &queries(s).await);
    figures.queries_equal = equal;
    s.pause.store(false, Ordering::SeqCst);
    Ok(figures)
}

// ---------------------------------------------------------------------------------------
// After the run: the log and the read models

#[derive(Debug, Default)]
struct LogCheck {
    events: u64,
    gaps: Vec<u64>,
    acknowledged: usize,
    missing: Vec<String>,
    applied_twice: Vec<String>,
    position_mismatch: Vec<String>,
}

/// Reads the whole log: positions gapless, and every acknowledged command's key on the events
/// of exactly one command whose last position is the one it was answered with.
async fn check_log(db: &Database, records: &[Record]) -> Result<LogCheck, String> {
    let store = EventStore::open(db.clone(), StoreOptions::default())
        .await
        .map_err(|e| format!("opening the store: {e}"))?;
    let mut by_key: HashMap<String, (HashSet<String>, u64)> = HashMap::new();
    let mut check = LogCheck::default();
    let mut expected = 1u64;
    {
        let mut events = store.read_all_stream(0, 5_000);
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| format!("reading the log: {e}"))?;
            if event.position != expected {
                check.gaps.push(expected);
            }
            expected = event.position + 1;
            check.events += 1;
            let metadata = event
                .metadata()
                .map_err(|e| format!("metadata at {}: {e}", event.position))?;
            if let Some(key) = metadata.idempotency_key {
                let entry = by_key.entry(key).or_default();
                entry.0.insert(
                    metadata
                        .command_id
                        .map_or_else(|| format!("event {}", event.position), |c| c.to_string()),
                );
                entry.1 = entry.1.max(event.position);
            }
        }
    }
    store.shutdown().await;
    for (key, (commands, _)) in &by_key {
        if commands.len() > 1 {
            check
                .applied_twice
                .push(format!("{key}: {} commands", commands.len()));
        }
    }
    for r in records {
        let Some(answer) = r.answer.as_ref().filter(|a| (200..300).contains(&a.status)) else {
            continue;
        };
        check.acknowledged += 1;
        let key = r.request.key.clone().unwrap_or_default();
        let position = answer.json()["position"].as_u64();
        match by_key.get(&key) {
            None => check
                .missing
                .push(format!("{} {} key {key}", r.kind, r.request.path)),
            Some((_, last)) if Some(*last) != position => check.position_mismatch.push(format!(
                "{} key {key}: answered position {position:?}, its last event is at {last}",
                r.kind
            )),
            Some(_) => {}
        }
    }
    Ok(check)
}

/// Every row of every read model, by projection and table, as sorted JSON texts.
type Models = BTreeMap<String, BTreeMap<String, Vec<String>>>;

async fn rows(db: &Database, view: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut rows: Vec<String> = match db {
        Database::Sqlite(pool) => {
            let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?1)")
                .bind(view)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
            let list = columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            sqlx::query(&format!("SELECT json_array({list}) FROM \"{view}\""))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?
        }
        Database::Postgres(pool) => {
            sqlx::query(&format!("SELECT row_to_json(r)::text FROM \"{view}\" r"))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?
        }
    };
    rows.sort_unstable();
    Ok(rows)
}

async fn models(db: &Database) -> Result<Models, String> {
    let mut out = Models::new();
    for p in projections::registry() {
        let mut tables = BTreeMap::new();
        for table in p.tables() {
            tables.insert(
                (*table).to_owned(),
                rows(db, table)
                    .await
                    .map_err(|e| format!("reading {table}: {e}"))?,
            );
        }
        out.insert(p.name().to_owned(), tables);
    }
    Ok(out)
}

/// Each projection's checkpoint: (generation, position, rebuilding generation).
async fn checkpoints(db: &Database) -> Result<BTreeMap<String, (i64, i64, Option<i64>)>, String> {
    let sql = "SELECT name, generation, position, rebuilding_generation FROM projections";
    let mut out = BTreeMap::new();
    macro_rules! read {
        ($pool:expr) => {
            for r in sqlx::query(sql)
                .fetch_all($pool)
                .await
                .map_err(|e| e.to_string())?
            {
                out.insert(
                    r.try_get::<String, _>(0).map_err(|e| e.to_string())?,
                    (
                        r.try_get::<i64, _>(1).map_err(|e| e.to_string())?,
                        r.try_get::<i64, _>(2).map_err(|e| e.to_string())?,
                        r.try_get::<Option<i64>, _>(3).map_err(|e| e.to_string())?,
                    ),
                );
            }
        };
    }
    match db {
        Database::Sqlite(pool) => read!(pool),
        Database::Postgres(pool) => read!(pool),
    }
    Ok(out)
}

/// Physical generation tables (`{table}_g{n}`) other than each projection's serving one.
async fn stray_generations(db: &Database) -> Result<Vec<String>, String> {
    let names: Vec<String> = match db {
        Database::Sqlite(pool) => {
            sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(pool)
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .filter_map(|r| r.try_get::<String, _>(0).ok())
                .collect()
        }
        Database::Postgres(pool) => {
            sqlx::query("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()")
                .fetch_all(pool)
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .filter_map(|r| r.try_get::<String, _>(0).ok())
                .collect()
        }
    };
    let serving = checkpoints(db).await?;
    let mut stray = Vec::new();
    for p in projections::registry() {
        let generation = serving.get(p.name()).map_or(0, |c| c.0);
        for table in p.tables() {
            let prefix = format!("{table}_g");
            for name in &names {
                let Some(n) = name.strip_prefix(&prefix) else {
                    continue;
                };
                if n.parse::<i64>().is_ok_and(|n| n != generation) {
                    stray.push(name.clone());
                }
            }
        }
    }
    Ok(stray)
}

// ---------------------------------------------------------------------------------------
// One backend

#[derive(Debug)]
struct Target {
    name: &'static str,
    /// The PostgreSQL database made for the run: (URL, admin URL, name); SQLite otherwise.
    pg: Option<(String, String, String)>,
}

fn stats_ms(values: &[u64]) -> Value {
    let mut v = values.to_vec();
    v.sort_unstable();
    if v.is_empty() {
        return json!(null);
    }
    json!({
        "min": v[0],
        "median": v[v.len() / 2],
        "max": v[v.len() - 1],
    })
}

fn write_records(path: &Path, records: &[Record]) {
    let mut out = String::new();
    for r in records {
        let line = json!({
            "kind": r.kind,
            "method": r.request.method.as_str(),
            "path": r.request.path,
            "idempotency_key": r.request.key,
            "body": r.request.body,
            "attempts": r.attempts,
            "attempts_without_answer": r.unanswered,
            "attempts_answered_503": r.unavailable,
            "tries": r.tries,
            "status": r.answer.as_ref().map(|a| a.status),
            "answer": r.answer.as_ref().map(|a| a.body.as_str()),
        });
        let _ = writeln!(out, "{line}");
    }
    if let Err(e) = std::fs::write(path, out) {
        eprintln!("yuekang-fault: writing {}: {e}", path.display());
    }
}

/// Sends every acknowledged command again (same key, same body): each must answer as the
/// first time, status and body. Answers (replayed, mismatches).
async fn replay_acknowledged(s: &Arc<Shared>, records: &[Record], name: &str) -> (usize, usize) {
    eprintln!("[{name}] replaying the acknowledged commands");
    let mismatches = Arc::new(AtomicUsize::new(0));
    let replayed = futures_util::stream::iter(
        records
            .iter()
            .filter(|r| {
                r.answer
                    .as_ref()
                    .is_some_and(|a| (200..300).contains(&a.status))
            })
            .map(|r| {
                let (s, mismatches) = (s.clone(), mismatches.clone());
                async move {
                    let first = r.answer.as_ref().map(|a| (a.status, a.json()));
                    let again = send(&s.client, &s.base, &r.request, ATTEMPT_TIMEOUT).await;
                    let again = again.as_ref().map(|a| (a.status, a.json())).ok();
                    if first != again {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                        s.violation(format!(
                            "{} key {:?}: first answer {first:?}, retry {again:?}",
                            r.kind, r.request.key
                        ));
                    }
                }
            }),
    )
    .buffer_unordered(8)
    .count()
    .await;
    (replayed, mismatches.load(Ordering::Relaxed))
}

/// What the checks with the server stopped found.
#[derive(Debug)]
struct AfterRun {
    log: LogCheck,
    verify: Output,
    verify_text: String,
    projections: usize,
    /// The projections that differ from their fresh rebuild.
    unequal: Vec<String>,
}

/// With the server stopped: the log read through the store, `yuekang audit verify`, every
/// read model (caught up with the log, no stray generation) against a fresh rebuild of it by
/// `yuekang projections rebuild`.
async fn check_stopped(
    s: &Shared,
    server: &Server,
    db_url: &str,
    records: &[Record],
) -> Result<AfterRun, String> {
    let db = Database::connect(db_url)
        .await
        .map_err(|e| format!("connecting to the database: {e}"))?;
    let log = check_log(&db, records).await?;
    let verify = server.cli(&["audit", "verify"]).await?;
    let verify_text = String::from_utf8_lossy(if verify.status.success() {
        &verify.stdout
    } else {
        &verify.stderr
    })
    .trim()
    .to_owned();
    let before = models(&db).await?;
    let head = log.events as i64;
    for (name, (_, position, _)) in &checkpoints(&db).await? {
        if *position != head {
            s.violation(format!(
                "projection {name} stopped at {position}, the log at {head}"
            ));
        }
    }
    let stray_before = stray_generations(&db).await?;
    let rebuild = server.cli(&["projections", "rebuild"]).await?;
    if !rebuild.status.success() {
        s.violation(format!(
            "yuekang projections rebuild failed: {}",
            String::from_utf8_lossy(&rebuild.stderr)
        ));
    }
    let after = models(&db).await?;
    let stray_after = stray_generations(&db).await?;
    db.close().await;
    if !stray_before.is_empty() || !stray_after.is_empty() {
        s.violation(format!(
            "generation tables left behind: {stray_before:?} before the final rebuild, {stray_after:?} after"
        ));
    }
    let rows = |m: &Models, name: &str| {
        m.get(name)
            .map_or(0, |t| t.values().map(Vec::len).sum::<usize>())
    };
    let unequal = before
        .iter()
        .filter(|(name, tables)| after.get(*name) != Some(*tables))
        .map(|(name, _)| {
            format!(
                "{name} ({} rows served, {} rebuilt)",
                rows(&before, name),
                rows(&after, name)
            )
        })
        .collect();
    Ok(AfterRun {
        log,
        verify,
        verify_text,
        projections: before.len(),
        unequal,
    })
}

async fn run_backend(args: &Args, bin: &Path, target: &Target) -> Result<Value, String> {
    let started = Instant::now();
    let mut rng = Rng(args.seed ^ target.name.len() as u64);
    let data_dir = std::env::temp_dir().join(format!("yuekang-fault-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    // Relaxed limits: the harness signs everyone in from one address and scans fast.
    let free = "{ burst = 1000000, per_minute = 1000000.0 }";
    std::fs::write(
        data_dir.join("yuekang.toml"),
        format!(
            "[limits]\nsign_in = {free}\nbinding_miss = {free}\nbinding_miss_address = {free}\n\
             check_in = {free}\nscan = {free}\nservice = {free}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let db_url = match &target.pg {
        Some((url, _, _)) => url.clone(),
        None => format!("sqlite://{}", data_dir.join("yuekang.db").display()),
    };
    let mut server = Server::new(bin.to_owned(), data_dir.clone(), db_url.clone())?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    eprintln!(
        "[{}] data in {}, server log {}",
        target.name,
        data_dir.display(),
        server.log.display()
    );
    server.start()?;
    let first = wait_ready(
        &client,
        &mut server,
        Instant::now(),
        Duration::from_secs(120),
    )
    .await?;
    eprintln!("[{}] server ready in {first:?}; fixture", target.name);
    let fixture = fixture(&client, &server).await?;
    let shared = Arc::new(Shared {
        base: server.base.clone(),
        client: client.clone(),
        codes: Mutex::new(fixture.codes.clone()),
        fixture,
        records: Mutex::new(Vec::new()),
        attempts: Mutex::new(Vec::new()),
        violations: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        pause: AtomicBool::new(false),
        busy: AtomicUsize::new(0),
        probing: AtomicBool::new(false),
        next_doc: AtomicU64::new(0),
        timeouts: AtomicU64::new(0),
        answered_5xx: AtomicU64::new(0),
    });
    let mut clients: Vec<_> = (0..args.clients)
        .map(|i| tokio::spawn(client_loop(shared.clone(), Rng(rng.next() ^ i as u64))))
        .collect();
    clients.push(tokio::spawn(refresh_codes(shared.clone())));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Kills at random moments (and, on PostgreSQL, database restarts spread among them).
    let cluster = match target.pg {
        Some(_) if args.db_restarts > 0 => Some(pg_cluster(args)?),
        _ => None,
    };
    let restart_after: HashSet<usize> = match &cluster {
        Some(_) => (1..=args.db_restarts)
            .map(|i| i * args.kills / (args.db_restarts + 1))
            .collect(),
        None => HashSet::new(),
    };
    let mut recoveries = Vec::new();
    let mut windows = Vec::new();
    for k in 0..args.kills {
        tokio::time::sleep(rng.millis(args.gap_ms)).await;
        let t0 = Instant::now();
        server.kill();
        server.start()?;
        let recovery = wait_ready(&client, &mut server, t0, Duration::from_secs(120)).await?;
        recoveries.push(recovery.as_millis() as u64);
        eprintln!(
            "[{}] kill {}/{}: ready again after {} ms ({} commands so far)",
            target.name,
            k + 1,
            args.kills,
            recovery.as_millis(),
            shared.records.lock().map(|r| r.len()).unwrap_or(0)
        );
        if let (Some(cluster), true) = (&cluster, restart_after.contains(&(k + 1))) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            eprintln!(
                "[{}] stopping the database for {:?}",
                target.name, args.outage
            );
            let w = db_restart(&shared, &mut server, cluster, args.outage).await?;
            eprintln!(
                "[{}] database back; /readyz 200 {} ms after its start",
                target.name,
                w.recovery.as_millis()
            );
            windows.push(w);
        }
    }

    let mut rebuilds = Vec::new();
    for _ in 0..args.rebuild_kills {
        tokio::time::sleep(Duration::from_secs(1)).await;
        eprintln!("[{}] killing during a rebuild of {REBUILT}", target.name);
        rebuilds.push(rebuild_kill(&shared, &mut server).await?);
    }

    // Stop the load; every command has its final answer when its client returns.
    shared.stop.store(true, Ordering::SeqCst);
    for c in clients {
        let _ = c.await;
    }
    wait_caught_up(&client, &server.base).await?;
    let records: Vec<Record> = shared
        .records
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();

    let attempts: Vec<Attempt> = shared
        .attempts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let outages: Vec<Outage> = windows
        .iter()
        .map(|w| judge_outage(&shared, w, &attempts))
        .collect();
    let slowest_ms = attempts
        .iter()
        .map(|a| a.took.as_millis() as u64)
        .max()
        .unwrap_or(0);

    // Every command as sent and answered, kept with the data (removed after a clean run).
    write_records(&data_dir.join("commands.ndjson"), &records);

    let (replayed, replay_mismatches) = replay_acknowledged(&shared, &records, target.name).await;
    let clean_stop = server.terminate();
    if !clean_stop {
        shared.violation("the server did not stop cleanly on SIGTERM".into());
    }
    let AfterRun {
        log,
        verify,
        verify_text,
        projections,
        unequal,
    } = check_stopped(&shared, &server, &db_url, &records).await?;

    // Violations from the figures.
    for m in &log.missing {
        shared.violation(format!("acknowledged but not in the log: {m}"));
    }
    for m in &log.applied_twice {
        shared.violation(format!("applied twice: {m}"));
    }
    for m in &log.position_mismatch {
        shared.violation(format!("answer and log disagree: {m}"));
    }
    if !log.gaps.is_empty() {
        shared.violation(format!("gaps in the log at {:?}", log.gaps));
    }
    if !verify.status.success() {
        shared.violation(format!("yuekang audit verify failed: {verify_text}"));
    }
    for u in &unequal {
        shared.violation(format!("projection differs from its rebuild: {u}"));
    }
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        match &r.answer {
            Some(a) if a.status >= 400 => {
                let what = format!("{} {} {}", r.kind, a.status, a.code());
                if !(a.status == 409 && a.code() == "concurrency.conflict") {
                    shared.violation(format!("unexpected refusal: {what}: {}", a.body));
                }
                *refused.entry(what).or_default() += 1;
            }
            _ => {}
        }
    }
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &records {
        if r.answer
            .as_ref()
            .is_some_and(|a| (200..300).contains(&a.status))
        {
            *by_kind.entry(r.kind).or_default() += 1;
        }
    }

    let violations = shared
        .violations
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let figures = json!({
        "backend": target.name,
        "run": if args.long { "long" } else { "short" },
        "seed": args.seed,
        "clients": args.clients,
        "seconds": started.elapsed().as_secs(),
        "kills_survived": recoveries.len() + rebuilds.iter().filter(|r| r.killed_at.is_some()).count(),
        "random_kills": recoveries.len(),
        "commands": records.len(),
        "acknowledged": log.acknowledged,
        "acknowledged_by_kind": by_kind,
        "refused": refused,
        "retried_after_no_answer": records.iter().filter(|r| r.unanswered > 0).count(),
        "attempts_without_answer": records.iter().map(|r| u64::from(r.unanswered)).sum::<u64>(),
        "attempts_answered_503": records.iter().map(|r| u64::from(r.unavailable)).sum::<u64>(),
        "attempts_answered_other_5xx": shared.answered_5xx.load(Ordering::Relaxed),
        "attempt_timeouts": shared.timeouts.load(Ordering::Relaxed),
        "slowest_attempt_ms": slowest_ms,
        "acknowledged_missing": log.missing.len(),
        "applied_twice": log.applied_twice.len(),
        "answer_position_mismatches": log.position_mismatch.len(),
        "replayed": replayed,
        "replay_mismatches": replay_mismatches,
        "log_events": log.events,
        "positions_gapless": log.gaps.is_empty(),
        "audit_verify": { "exit": verify.status.code(), "output": verify_text },
        "projections": projections,
        "projections_equal_to_rebuild": projections - unequal.len(),
        "projections_unequal": unequal,
        "recovery_after_kill_ms": stats_ms(&recoveries),
        "recovery_after_kill_each_ms": recoveries,
        "db_restarts": outages.iter().map(|o| json!({
            "outage_s": args.outage.as_secs(),
            "answers_while_away": o.answers,
            "answered_503_problem_json": o.answers_503,
            "codes_while_away": o.codes,
            "in_flight_when_it_stopped": o.in_flight,
            "readyz_503": o.readyz_503,
            "slowest_answer_ms": o.max_answer_ms,
            "recovery_after_db_start_ms": o.recovery_ms,
            "stop_to_ready_ms": o.total_ms,
            "acknowledged_in_the_5_s_after": o.resumed,
        })).collect::<Vec<_>>(),
        "rebuild_kills": rebuilds.iter().map(|r| json!({
            "projection": REBUILT,
            "killed_at_rebuild_position": r.killed_at.map(|k| k.0),
            "log_head_then": r.killed_at.map(|k| k.1),
            "rebuilds_finished_before_the_kill": r.finished_first,
            "generation_before": r.generation_before,
            "after_restart": r.after_restart,
            "killed_rebuild_ended_after_ms": r.ended_after_ms,
            "killed_rebuild_ended_as": r.ended_as,
            "generation_after_new_rebuild": r.generation_after_new_rebuild,
            "queries_unchanged": r.queries_equal,
            "recovery_ms": r.recovery_ms,
        })).collect::<Vec<_>>(),
        "clean_shutdown": clean_stop,
        "violations": violations.len(),
    });
    if violations.is_empty() && !args.keep {
        let _ = std::fs::remove_dir_all(&data_dir);
    } else {
        eprintln!(
            "[{}] data kept in {} (and the database {})",
            target.name,
            data_dir.display(),
            event_store::redact_url(&db_url)
        );
    }
    Ok(figures)
}

// ---------------------------------------------------------------------------------------
// The server binary, the databases, the report

/// The `yuekang` binary beside this one (same profile), built first unless `--no-build`.
fn server_binary(args: &Args) -> Result<PathBuf, String> {
    if let Some(path) = &args.server {
        return Ok(path.clone());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .ok_or("the harness binary has no directory")?
        .to_owned();
    let bin = dir.join("yuekang");
    if args.build {
        let release = dir.file_name().is_some_and(|n| n == "release");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.current_dir(&root)
            .args(["build", "--quiet", "-p", "api", "--bin", "yuekang"]);
        if release {
            c.arg("--release");
        }
        eprintln!(
            "building the server: cargo build -p api --bin yuekang{}",
            if release { " --release" } else { "" }
        );
        match c.status() {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(format!("cargo build -p api --bin yuekang failed ({s})")),
            Err(e) => eprintln!("cannot run cargo ({e}); using {} as it is", bin.display()),
        }
    }
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} does not exist: build it with `cargo build -p api --bin yuekang` (or pass --server PATH)",
            bin.display()
        ))
    }
}

async fn create_pg_database(admin_url: &str) -> Result<(String, String), String> {
    let name = format!("yk_fault_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(admin_url)
        .await
        .map_err(|e| format!("connecting to {}: {e}", event_store::redact_url(admin_url)))?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
    pool.close().await;
    Ok((event_store::testing::with_database(admin_url, &name), name))
}

async fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(pool) = sqlx::PgPool::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

/// A figure for the report: strings without their quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn report(f: &Value) -> String {
    let p = |key: &str| plain(&f[key]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== {} fault run on {} (seed {}, {} clients, {} s)",
        p("run"),
        p("backend"),
        p("seed"),
        p("clients"),
        p("seconds")
    );
    let lines = [
        (
            "kills survived",
            format!(
                "{} ({} at random moments under load, the rest during a projection rebuild)",
                p("kills_survived"),
                p("random_kills")
            ),
        ),
        (
            "commands acknowledged",
            format!(
                "{} of {} sent {}",
                p("acknowledged"),
                p("commands"),
                p("acknowledged_by_kind")
            ),
        ),
        (
            "retried after no answer",
            format!(
                "{} commands ({} attempts without answer, {} answered 503)",
                p("retried_after_no_answer"),
                p("attempts_without_answer"),
                p("attempts_answered_503")
            ),
        ),
        ("acknowledged missing", p("acknowledged_missing")),
        ("applied twice", p("applied_twice")),
        (
            "retry answered otherwise",
            format!("{} of {} replayed", p("replay_mismatches"), p("replayed")),
        ),
        (
            "log",
            format!(
                "{} events, gapless {}; audit verify exit {} ({})",
                p("log_events"),
                p("positions_gapless"),
                plain(&f["audit_verify"]["exit"]),
                plain(&f["audit_verify"]["output"])
            ),
        ),
        (
            "projections = rebuild",
            format!(
                "{} of {}",
                p("projections_equal_to_rebuild"),
                p("projections")
            ),
        ),
        (
            "recovery after kill",
            format!("{} ms", p("recovery_after_kill_ms")),
        ),
    ];
    for (label, value) in lines {
        let _ = writeln!(out, "{label:<26}{value}");
    }
    for o in f["db_restarts"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:<26}{} s away: {} commands answered meanwhile ({} of them 503 problem+json), \
             in flight at the stop {}, slowest answer {} ms, /readyz 503 x{}; \
             /readyz 200 {} ms after the database started, then {} commands acknowledged in 5 s",
            "database restart",
            plain(&o["outage_s"]),
            plain(&o["answers_while_away"]),
            plain(&o["answered_503_problem_json"]),
            plain(&o["in_flight_when_it_stopped"]),
            plain(&o["slowest_answer_ms"]),
            plain(&o["readyz_503"]),
            plain(&o["recovery_after_db_start_ms"]),
            plain(&o["acknowledged_in_the_5_s_after"])
        );
    }
    for r in f["rebuild_kills"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:<26}{} killed at rebuild position {} of {}; after the restart {}; \
             ended {} ms later ({}); a new rebuild reached generation {}; queries unchanged {}",
            "rebuild kill",
            plain(&r["projection"]),
            plain(&r["killed_at_rebuild_position"]),
            plain(&r["log_head_then"]),
            plain(&r["after_restart"]),
            plain(&r["killed_rebuild_ended_after_ms"]),
            plain(&r["killed_rebuild_ended_as"]),
            plain(&r["generation_after_new_rebuild"]),
            plain(&r["queries_unchanged"])
        );
    }
    let _ = writeln!(out, "{:<26}{}", "violations", p("violations"));
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let bin = match server_binary(&args) {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("yuekang-fault: {e}");
            std::process::exit(1);
        }
    };
    let mut targets = Vec::new();
    if matches!(args.backend, Which::Sqlite | Which::Both) {
        targets.push("sqlite");
    }
    if matches!(args.backend, Which::Postgres | Which::Both) {
        targets.push("postgres");
    }
    let mut all = Vec::new();
    let mut failed = false;
    for name in targets {
        let target = if name == "sqlite" {
            Target { name, pg: None }
        } else {
            let admin = args.pg_url.clone().unwrap_or_default();
            match create_pg_database(&admin).await {
                Ok((url, db)) => Target {
                    name,
                    pg: Some((url, admin, db)),
                },
                Err(e) => {
                    eprintln!("yuekang-fault: {e}");
                    failed = true;
                    continue;
                }
            }
        };
        let result = run_backend(&args, &bin, &target).await;
        match result {
            Ok(figures) => {
                failed |= figures["violations"].as_u64() != Some(0);
                if figures["violations"].as_u64() == Some(0) && !args.keep {
                    if let Some((_, admin, db)) = &target.pg {
                        drop_pg_database(admin, db).await;
                    }
                }
                print!("{}", report(&figures));
                println!("{figures}");
                all.push(figures);
            }
            Err(e) => {
                eprintln!("yuekang-fault [{name}]: {e}");
                failed = true;
            }
        }
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&all).unwrap_or_default();
        if let Err(e) = std::fs::File::create(path).and_then(|mut f| f.write_all(text.as_bytes())) {
            eprintln!("yuekang-fault: writing {}: {e}", path.display());
            failed = true;
        }
    }
    let _ = std::io::stdout().flush();
    std::process::exit(i32::from(failed));
}
