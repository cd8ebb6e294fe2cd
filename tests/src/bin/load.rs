//! `yuekang-load`: the venue hot paths under load — quick check-ins and code scans — against
//! the real server (port 0, in this process) on SQLite and, when `YUEKANG_TEST_POSTGRES_URL`
//! is set, PostgreSQL. The load generator runs on the same machine (it shares the cores).
//! Prints one JSON line per figure.
//!
//! ```text
//! YUEKANG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p yuekang-tests --bin yuekang-load -- --seconds 10 --clients 64
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use yuekang_tests::{body, TestApp};

struct Args {
    seconds: u64,
    clients: usize,
    citizens: usize,
    inspectors: usize,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 10,
        clients: 64,
        citizens: 500,
        inspectors: 16,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--seconds", Some(v)) => a.seconds = v,
            ("--clients", Some(v)) => a.clients = v as usize,
            ("--citizens", Some(v)) => a.citizens = v as usize,
            ("--inspectors", Some(v)) => a.inspectors = v as usize,
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

#[derive(Clone, Copy)]
enum Load {
    CheckIns,
    Scans,
}

async fn run(app: Arc<TestApp>, fixture: Arc<Fixture>, a: &Args, load: Load) -> Value {
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..a.clients {
        let (app, fixture, next) = (app.clone(), fixture.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let (session, code) = &fixture.citizens[i % fixture.citizens.len()];
                let started = Instant::now();
                let response = match load {
                    Load::CheckIns => {
                        app.post_json_as(
                            session,
                            "/v1/checkins",
                            &json!({"poster_token": fixture.poster}),
                        )
                        .await
                    }
                    Load::Scans => {
                        let inspector = &fixture.inspectors[i % fixture.inspectors.len()];
                        app.post_json_as(
                            inspector,
                            "/v1/scans",
                            &json!({"token": code, "context": {"venue_id": fixture.venue_id}}),
                        )
                        .await
                    }
                };
                let ok = response.status().is_success();
                let _ = response.bytes().await;
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

async fn backend(name: &str, db: TestDatabase, a: &Args) {
    let app = Arc::new(TestApp::spawn(db).await);
    let fixture = Arc::new(fixture(&app, a).await);
    for (label, load) in [("quick_check_ins", Load::CheckIns), ("scans", Load::Scans)] {
        let mut figures = run(app.clone(), fixture.clone(), a, load).await;
        figures["bench"] = json!(label);
        figures["backend"] = json!(name);
        figures["clients"] = json!(a.clients);
        println!("{figures}");
    }
    let head = app.state.store.last_position().await.unwrap_or(0);
    eprintln!("{name}: log at position {head}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    backend("sqlite", TestDatabase::sqlite().await, &a).await;
    if let Some(db) = TestDatabase::postgres().await {
        backend("postgres", db, &a).await;
    }
}
