//! `yuekang-load`: the venue hot paths under load — quick check-ins and code scans — against
//! the real server on SQLite and, when `YUEKANG_TEST_POSTGRES_URL` is set, PostgreSQL, each
//! beside two baselines measured in the same run with the same load generator: (a) a bare
//! actix-web handler inserting one row per request with sqlx into the same backend (same
//! connection settings: WAL and `synchronous=FULL` on SQLite), and (b) the same handler without
//! a database. Every figure carries its ratio to (a) and (b).
//!
//! The servers run in child processes of this one (`--serve yuekang|baseline --backend …`,
//! which print their address and fixture on stdout and stop when stdin closes); this process is
//! only the load generator, pinned to CPU 0 with `taskset` when the machine has it. Prints one
//! JSON line per figure.
//!
//! ```text
//! YUEKANG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p yuekang-tests --bin yuekang-load -- --seconds 10 --clients 64
//! ```

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use event_store::testing::TestDatabase;
use event_store::{Database, EventReader};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use yuekang_tests::{body, TestApp};

struct Args {
    seconds: u64,
    clients: usize,
    citizens: usize,
    inspectors: usize,
    /// In a child process: the server to run (`yuekang` or `baseline`).
    serve: Option<String>,
    /// `sqlite`, `postgres` or (`baseline` only) `none`.
    backend: String,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 10,
        clients: 64,
        citizens: 500,
        inspectors: 16,
        serve: None,
        backend: "sqlite".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next();
        let number = value.as_deref().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), number, value) {
            ("--seconds", Some(v), _) => a.seconds = v,
            ("--clients", Some(v), _) => a.clients = v as usize,
            ("--citizens", Some(v), _) => a.citizens = v as usize,
            ("--inspectors", Some(v), _) => a.inspectors = v as usize,
            ("--serve", _, Some(v)) => a.serve = Some(v),
            ("--backend", _, Some(v)) => a.backend = v,
            _ => {
                eprintln!("usage: yuekang-load [--seconds N] [--clients N] [--citizens N] [--inspectors N]");
                std::process::exit(2);
            }
        }
    }
    a
}

/// A valid resident ID for serial `n` (Guangzhou Tianhe, born 1950 + n % 60).
fn resident_id(n: usize) -> String {
    let year = 1950 + (n % 60);
    let body = format!("440106{year}0101{:03}", n % 1000);
    let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    let check = domain::document::resident_id_check_char(&digits.try_into().unwrap_or([0; 17]));
    format!("{body}{check}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Fixture {
    citizens: Vec<(String, String)>, // (session, code token)
    inspectors: Vec<String>,
    venue_id: String,
    poster: String,
}

async fn fixture(app: &TestApp, a: &Args) -> Fixture {
    let (admin, _) = app.login(&resident_id(100_000), "管理员").await;
    let (status, venue) = body(
        app.post_json_as(
            &admin,
            "/v1/venues",
            &json!({"region": "440106001", "address": "天河路208号", "type": "retail", "name": "天河城", "phone": "13912345678"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{venue}");
    let venue_id = venue["venue_id"].as_str().unwrap_or_default().to_owned();
    let code = venue["code"].as_str().unwrap_or_default().to_owned();
    let mut inspectors = Vec::new();
    for i in 0..a.inspectors {
        let (token, _) = app.login(&resident_id(200_000 + i), "检测员").await;
        let (status, _) = body(
            app.post_json_as(&token, "/v1/venue-bindings", &json!({ "code": code }))
                .await,
        )
        .await;
        assert_eq!(status, 201);
        inspectors.push(token);
    }
    let mut citizens = Vec::new();
    for i in 0..a.citizens {
        let (token, _) = app.login(&resident_id(i), "市民甲").await;
        let code = app.get_json(&token, "/v1/me/code").await["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        citizens.push((token, code));
    }
    let poster = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}/poster"))
        .await["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Fixture {
        citizens,
        inspectors,
        venue_id,
        poster,
    }
}

/// A child's stdin closing (the generator is done): the child stops.
fn stdin_closed() -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = tx.send(());
    });
    rx
}

async fn database(backend: &str) -> TestDatabase {
    match backend {
        "postgres" => TestDatabase::postgres()
            .await
            .expect("YUEKANG_TEST_POSTGRES_URL is set"),
        _ => TestDatabase::sqlite().await,
    }
}

/// Child: Yuekang on `backend` with the fixture made; prints `{"base","fixture"}`.
async fn serve_yuekang(a: &Args) {
    let app = TestApp::spawn(database(&a.backend).await).await;
    let fixture = fixture(&app, a).await;
    println!("{}", json!({"base": app.address, "fixture": fixture}));
    let _ = std::io::stdout().flush();
    let _ = stdin_closed().await;
    let head = app.state.store.last_position().await.unwrap_or(0);
    eprintln!("{}: log at position {head}", a.backend);
    app.stop().await;
}

/// Baseline (a)/(b): one row per request into `baseline`, or (`db` none) nothing.
async fn insert(db: web::Data<Option<Database>>, request: web::Bytes) -> HttpResponse {
    let id = uuid::Uuid::now_v7().to_string();
    let body = String::from_utf8_lossy(&request).into_owned();
    let done = match db.as_ref() {
        None => Ok(()),
        Some(Database::Sqlite(pool)) => {
            sqlx::query("INSERT INTO baseline (id, body) VALUES (?1, ?2)")
                .bind(&id)
                .bind(&body)
                .execute(pool)
                .await
                .map(drop)
        }
        Some(Database::Postgres(pool)) => {
            sqlx::query("INSERT INTO baseline (id, body) VALUES ($1, $2)")
                .bind(&id)
                .bind(&body)
                .execute(pool)
                .await
                .map(drop)
        }
    };
    match done {
        Ok(()) => HttpResponse::Created().json(json!({ "id": id })),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// Child: the bare actix-web handler on `backend` (or none); prints `{"base"}`.
async fn serve_baseline(a: &Args) {
    let test_db = match a.backend.as_str() {
        "none" => None,
        backend => Some(database(backend).await),
    };
    let db = test_db.as_ref().map(|t| t.db.clone());
    if let Some(db) = &db {
        let create = "CREATE TABLE baseline (id TEXT PRIMARY KEY, body TEXT NOT NULL)";
        match db {
            Database::Sqlite(pool) => sqlx::query(create).execute(pool).await.map(drop),
            Database::Postgres(pool) => sqlx::query(create).execute(pool).await.map(drop),
        }
        .expect("create the baseline table");
    }
    let data = web::Data::new(db);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/insert", web::post().to(insert))
    })
    .disable_signals()
    .workers(2)
    .bind("127.0.0.1:0")
    .expect("bind");
    let address = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let running = tokio::spawn(server);
    println!("{}", json!({ "base": format!("http://{address}") }));
    let _ = std::io::stdout().flush();
    let _ = stdin_closed().await;
    handle.stop(true).await;
    let _ = running.await;
    drop(test_db);
}

/// A server in a child process: its address and (Yuekang) fixture; stops when dropped.
struct Server {
    child: std::process::Child,
    base: String,
    fixture: Option<Arc<Fixture>>,
}

impl Server {
    fn start(kind: &str, backend: &str, a: &Args, cpus: usize) -> Self {
        let exe = std::env::current_exe().expect("own path");
        let args = [
            "--serve".to_owned(),
            kind.to_owned(),
            "--backend".to_owned(),
            backend.to_owned(),
            "--citizens".to_owned(),
            a.citizens.to_string(),
            "--inspectors".to_owned(),
            a.inspectors.to_string(),
        ];
        // Children get every CPU back (affinity is inherited from the pinned generator).
        let mut command = if taskset_exists() {
            let mut c = Command::new("taskset");
            c.arg("-c")
                .arg(format!("0-{}", cpus.saturating_sub(1)))
                .arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's first line");
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{kind} on {backend}: {e}: {line:?}"));
        Server {
            child,
            base: started["base"].as_str().expect("base").to_owned(),
            fixture: serde_json::from_value(started["fixture"].clone())
                .ok()
                .map(Arc::new),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn taskset_exists() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[derive(Clone, Copy)]
enum Load {
    CheckIns,
    Scans,
    Insert,
}

async fn run(client: reqwest::Client, server: &Server, a: &Args, load: Load) -> Value {
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let fixture = server.fixture.clone();
    let base = Arc::new(server.base.clone());
    let mut tasks = Vec::new();
    for _ in 0..a.clients {
        let (client, fixture, next, base) =
            (client.clone(), fixture.clone(), next.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                let request = match (load, fixture.as_deref()) {
                    (Load::CheckIns, Some(f)) => {
                        let (session, _) = &f.citizens[i % f.citizens.len()];
                        client
                            .post(format!("{base}/v1/checkins"))
                            .bearer_auth(session)
                            .json(&json!({"poster_token": f.poster}))
                    }
                    (Load::Scans, Some(f)) => {
                        let (_, code) = &f.citizens[i % f.citizens.len()];
                        let inspector = &f.inspectors[i % f.inspectors.len()];
                        client
                            .post(format!("{base}/v1/scans"))
                            .bearer_auth(inspector)
                            .json(&json!({"token": code, "context": {"venue_id": f.venue_id}}))
                    }
                    _ => client.post(format!("{base}/insert")).json(
                        &json!({"poster_token": "a-poster-token-of-about-the-same-size", "n": i}),
                    ),
                };
                let ok = match request.send().await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let _ = response.bytes().await;
                        ok
                    }
                    Err(_) => false,
                };
                latencies.push(started.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    latencies.sort_unstable();
    let pct = |p: f64| {
        let idx = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(idx).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    json!({
        "requests": latencies.len(),
        "errors": errors,
        "seconds": (elapsed * 100.0).round() / 100.0,
        "per_sec": (latencies.len() as f64 / elapsed).round(),
        "p50_ms": (pct(0.50) * 100.0).round() / 100.0,
        "p90_ms": (pct(0.90) * 100.0).round() / 100.0,
        "p99_ms": (pct(0.99) * 100.0).round() / 100.0,
    })
}

fn ratio(figure: &Value, baseline: &Value) -> Value {
    match (figure["per_sec"].as_f64(), baseline["per_sec"].as_f64()) {
        (Some(f), Some(b)) if b > 0.0 => json!((f / b * 100.0).round() / 100.0),
        _ => Value::Null,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    match a.serve.as_deref() {
        Some("yuekang") => return serve_yuekang(&a).await,
        Some("baseline") => return serve_baseline(&a).await,
        Some(other) => {
            eprintln!("--serve yuekang|baseline, not {other}");
            std::process::exit(2);
        }
        None => {}
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let pinned = cpus > 1
        && taskset_exists()
        && Command::new("taskset")
            .args(["-pc", "0", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    let generator = if pinned {
        format!("own process, pinned to CPU 0 of {cpus}; servers unpinned")
    } else {
        format!("own process, not pinned ({cpus} CPUs)")
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.clients)
        .build()
        .expect("client");
    let bare = {
        let server = Server::start("baseline", "none", &a, cpus);
        run(client.clone(), &server, &a, Load::Insert).await
    };
    let mut backends = vec!["sqlite"];
    if std::env::var_os(event_store::testing::POSTGRES_URL_VAR).is_some() {
        backends.push("postgres");
    }
    let print = |bench: &str, backend: &str, mut figures: Value, insert: &Value| {
        figures["bench"] = json!(bench);
        figures["backend"] = json!(backend);
        figures["clients"] = json!(a.clients);
        figures["generator"] = json!(generator);
        figures["ratio_to_bare_insert"] = ratio(&figures, insert);
        figures["ratio_to_bare_handler"] = ratio(&figures, &bare);
        println!("{figures}");
    };
    print("bare_handler", "none", bare.clone(), &Value::Null);
    for backend in backends {
        let insert = {
            let server = Server::start("baseline", backend, &a, cpus);
            run(client.clone(), &server, &a, Load::Insert).await
        };
        print("bare_insert", backend, insert.clone(), &insert);
        let server = Server::start("yuekang", backend, &a, cpus);
        for (label, load) in [("quick_check_ins", Load::CheckIns), ("scans", Load::Scans)] {
            let figures = run(client.clone(), &server, &a, load).await;
            print(label, backend, figures, &insert);
        }
    }
}
