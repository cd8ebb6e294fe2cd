//! Black-box HTTP tests: every route against the real server, on SQLite and PostgreSQL.

use std::time::Duration;

use event_store::testing::TestDatabase;
use event_store::{AppendRequest, EventAppender, EventReader, ExpectedVersion, NewEvent, StreamId};
use yuekang_tests::TestApp;

event_store::backend_tests!(
    healthz_answers_ok,
    readyz_reports_projections_and_refuses_when_lagging,
    metrics_count_events_by_type_from_the_projection,
    unknown_routes_are_problem_documents,
    openapi_documents_every_route_and_docs_are_served_offline,
    every_answer_carries_a_request_id,
    shutdown_commits_every_acknowledged_append,
    events_are_stamped_by_the_controlled_clock,
);

async fn append(app: &TestApp, event_type: &str, n: usize) -> u64 {
    let events = (0..n)
        .map(|i| NewEvent::new(event_type, 1, &i).expect("json"))
        .collect();
    app.state
        .store
        .append(AppendRequest::single(
            StreamId::parse("test-1").expect("id"),
            ExpectedVersion::Any,
            events,
        ))
        .await
        .expect("append")
        .last_position
}

async fn problem(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: serde_json::Value = response.json().await.expect("problem json");
    assert_eq!(body["code"], code);
    assert_eq!(body["status"], status);
    for member in ["type", "title", "detail"] {
        assert!(body[member].is_string(), "problem has {member}");
    }
    body
}

async fn healthz_answers_ok(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"status": "ok"})
    );
    app.stop().await;
}

async fn readyz_reports_projections_and_refuses_when_lagging(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |s| s.readiness_max_lag = 3).await;
    let position = append(&app, "Seen", 2).await;
    app.state
        .wait_for(Some(position))
        .await
        .expect("projections caught up");
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["position"], 2);
    assert_eq!(body["projections"][0]["name"], "event_counts");
    assert_eq!(body["projections"][0]["lag"], 0);

    // Stop the projections and let the log run ahead past the bound.
    app.state.runner.stop().await;
    append(&app, "Seen", 4).await;
    let body = problem(app.get("/readyz").await, 503, "service.not_ready").await;
    assert!(body["detail"]
        .as_str()
        .expect("detail")
        .contains("event_counts"));
    app.stop().await;
}

async fn metrics_count_events_by_type_from_the_projection(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    append(&app, "VenueCreated", 3).await;
    let position = append(&app, "CheckRecorded", 2).await;
    app.state.wait_for(Some(position)).await.expect("caught up");
    app.get("/healthz").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let text = response.text().await.expect("text");
    for line in [
        "yuekang_up 1",
        "yuekang_log_position 5",
        "yuekang_events_total{type=\"VenueCreated\"} 3",
        "yuekang_events_total{type=\"CheckRecorded\"} 2",
        "yuekang_projection_position{projection=\"event_counts\"} 5",
        "yuekang_projection_lag{projection=\"event_counts\"} 0",
        "yuekang_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "metrics has {line:?}:\n{text}"
        );
    }
    app.stop().await;
}

async fn unknown_routes_are_problem_documents(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let body = problem(app.get("/v1/nowhere").await, 404, "route.not_found").await;
    assert!(body["detail"]
        .as_str()
        .expect("detail")
        .contains("/v1/nowhere"));
    app.stop().await;
}

async fn openapi_documents_every_route_and_docs_are_served_offline(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let doc: serde_json::Value = app
        .get("/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    for route in ["/healthz", "/readyz", "/metrics"] {
        assert!(paths.contains_key(route), "{route} documented");
    }
    // Everything documented is served (no documented route answers 404).
    for (path, ops) in paths {
        for method in ops.as_object().expect("operations").keys() {
            assert_eq!(method, "get", "only GET routes so far");
            assert_ne!(app.get(path).await.status().as_u16(), 404, "{path} served");
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status().as_u16(), 308);
    let page = app.get("/docs/").await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"));
    assert!(!html.contains("cdn"), "no CDN: the UI is vendored");
    assert_eq!(app.get("/docs/swagger-ui.css").await.status().as_u16(), 200);
    app.stop().await;
}

async fn every_answer_carries_a_request_id(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    for path in ["/healthz", "/nowhere"] {
        let response = app.get(path).await;
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("request id");
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }
    app.stop().await;
}

async fn shutdown_commits_every_acknowledged_append(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let store = app.state.store.clone();
    let appenders: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0..10u64 {
                    let stream = StreamId::parse(format!("s-{i}")).expect("id");
                    let event = NewEvent::new("Counted", 1, &n).expect("json");
                    match store
                        .append(AppendRequest::single(
                            stream,
                            ExpectedVersion::Exact(n),
                            vec![event],
                        ))
                        .await
                    {
                        Ok(outcome) => acknowledged.push(outcome.last_position),
                        Err(_) => break, // refused after shutdown: never acknowledged
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let db_url = app.db.url.clone();
    let handle = app.handle.clone();
    let stopping = tokio::spawn(async move { handle.stop(true).await });
    let mut acknowledged = Vec::new();
    for a in appenders {
        acknowledged.extend(a.await.expect("appender"));
    }
    stopping.await.expect("stop");
    // Read back through a fresh connection: everything acknowledged is there.
    let reopened = event_store::Database::connect(&db_url)
        .await
        .expect("reconnect");
    let store = event_store::EventStore::open(reopened.clone(), Default::default())
        .await
        .expect("reopen");
    let all = store.read_all(0, 10_000).await.expect("read");
    for position in &acknowledged {
        assert!(
            all.iter().any(|e| e.position == *position),
            "acknowledged position {position} present"
        );
    }
    assert_eq!(
        all.len(),
        acknowledged.len(),
        "nothing unacknowledged was committed half-way"
    );
    assert!(store.verify().await.expect("verify").ok);
    store.shutdown().await;
    reopened.close().await;
}

async fn events_are_stamped_by_the_controlled_clock(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    app.clock
        .set(time::macros::datetime!(2026-03-08 23:59:59 +08:00));
    append(&app, "Stamped", 1).await;
    let events = app.state.store.read_all(0, 10).await.expect("read");
    assert_eq!(
        events[0].recorded_at,
        time::macros::datetime!(2026-03-08 15:59:59 UTC)
    );
    app.stop().await;
}
