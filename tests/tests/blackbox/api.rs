//! Black-box HTTP tests: every route against the real server, on SQLite and PostgreSQL.

use std::time::Duration;

use event_store::testing::TestDatabase;
use event_store::{AppendRequest, EventAppender, EventReader, ExpectedVersion, NewEvent, StreamId};
use yuekang_tests::TestApp;

event_store::backend_tests!(
    healthz_answers_ok,
    readyz_reports_projections_and_refuses_when_lagging,
    metrics_count_events_by_type_from_the_projection,
    metrics_need_a_token_or_their_own_address,
    unknown_routes_are_problem_documents,
    openapi_documents_every_route_and_docs_are_served_offline,
    every_answer_carries_a_request_id,
    shutdown_commits_every_acknowledged_append,
    events_are_stamped_by_the_controlled_clock,
    analysis_routes_need_a_token_and_the_right_role,
    projections_answer_after_min_position_or_503,
    analysts_rebuild_projections_while_they_serve,
    auditors_verify_the_chain_and_find_tampering,
    analysts_export_pseudonymised_ndjson,
    auditors_page_through_the_log_with_filters,
    auditors_read_a_stream_as_of_an_instant,
    oversized_bodies_and_bad_queries_are_problem_documents,
    an_unreachable_database_answers_503_store_unavailable,
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
    assert_eq!(body["dev"], true, "the test server runs as --dev would");
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
    let app = TestApp::spawn_with(db, |s| {
        s.metrics_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await;
    append(&app, "VenueCreated", 5).await;
    append(&app, "CheckRecorded", 6).await;
    let position = append(&app, "RedReasonHit", 2).await;
    app.state.wait_for(Some(position)).await.expect("caught up");
    app.get("/healthz").await;
    let metrics = app.metrics_address.clone().expect("a metrics address");
    let response = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let text = response.text().await.expect("text");
    for line in [
        "yuekang_up 1",
        "yuekang_log_position 13",
        "yuekang_events_total{type=\"VenueCreated\"} 5",
        "yuekang_events_total{type=\"CheckRecorded\"} 6",
        // Fewer than k (5) events of a type show as none.
        "yuekang_events_total{type=\"RedReasonHit\"} 0",
        "yuekang_projection_position{projection=\"event_counts\"} 13",
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

/// Live counts are for operators: on the main address `/metrics` needs an auditor or analyst
/// token; the metrics address serves it alone, without one, and nothing else.
async fn metrics_need_a_token_or_their_own_address(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |s| {
        s.metrics_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await;
    let (status, problem) = yuekang_tests::body(app.get("/metrics").await).await;
    assert_eq!(status, 401, "{problem}");
    let (citizen, _) = app.login("44010619900307001X", "张三强").await;
    let (status, problem) = yuekang_tests::body(app.get_as(&citizen, "/metrics").await).await;
    assert_eq!(status, 403, "{problem}");
    for role in ["auditor", "analyst"] {
        let token = app.service_token(role).await;
        let response = app.get_as(&token, "/metrics").await;
        assert_eq!(response.status().as_u16(), 200, "{role}");
        assert!(response
            .text()
            .await
            .expect("text")
            .contains("yuekang_events_total"));
    }
    let feed = app.service_token("feed").await;
    assert_eq!(app.get_as(&feed, "/metrics").await.status().as_u16(), 403);
    let metrics = app.metrics_address.clone().expect("a metrics address");
    let scrape = |path: &str| app.client.get(format!("{metrics}{path}")).send();
    let response = scrape("/metrics").await.expect("scrape");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response
        .text()
        .await
        .expect("text")
        .contains("yuekang_up 1"));
    for path in ["/v1/me", "/healthz", "/", "/openapi.json"] {
        let response = scrape(path).await.expect("request");
        assert_eq!(
            response.status().as_u16(),
            404,
            "{path} on the metrics address"
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
    // A known path with another method is 405 with `Allow`, not 404.
    let wrong = app
        .client
        .delete(app.url("/healthz"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(
        wrong.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET")
    );
    let body = problem(wrong, 405, "request.method_not_allowed").await;
    assert!(body["detail"].as_str().expect("detail").contains("DELETE"));
    let wrong = app.get("/v1/audit/verification").await;
    assert_eq!(
        wrong.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    problem(wrong, 405, "request.method_not_allowed").await;
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
    let served = [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/v1/projections"),
        ("post", "/v1/projections/{name}/rebuild"),
        ("post", "/v1/audit/verification"),
        ("get", "/v1/exports/events.ndjson"),
        ("get", "/v1/audit/events"),
        ("get", "/v1/audit/streams/{stream}"),
        ("post", "/v1/sessions"),
        ("get", "/v1/me"),
        ("get", "/v1/me/code"),
        ("get", "/v1/me/code.svg"),
        ("post", "/v1/me/code/reset"),
        ("get", "/v1/me/family"),
        ("post", "/v1/me/family"),
        ("delete", "/v1/me/family/{person_id}"),
        ("get", "/v1/me/family/{person_id}/code"),
        ("post", "/v1/declarations"),
        ("post", "/v1/entries"),
        ("get", "/v1/me/declarations"),
        ("get", "/v1/me/entries"),
        ("get", "/v1/me/checks"),
        ("get", "/v1/me/notices"),
        ("get", "/v1/me/access-log"),
        ("post", "/v1/appeals"),
        ("post", "/v1/feed/batches"),
        ("get", "/v1/feed/appeals"),
        ("post", "/v1/feed/appeals/{appeal_id}/decision"),
        ("post", "/v1/orgs"),
        ("get", "/v1/orgs/{org_id}"),
        ("patch", "/v1/orgs/{org_id}"),
        ("post", "/v1/org-bindings"),
        ("get", "/v1/me/orgs"),
        ("delete", "/v1/me/orgs/{org_id}"),
        ("get", "/v1/orgs/{org_id}/stats"),
        ("get", "/v1/orgs/{org_id}/stats.csv"),
        ("post", "/v1/venues"),
        ("get", "/v1/venues/{venue_id}"),
        ("patch", "/v1/venues/{venue_id}"),
        ("get", "/v1/venues/{venue_id}/inspectors"),
        ("post", "/v1/venues/{venue_id}/handover"),
        ("post", "/v1/venue-bindings"),
        ("get", "/v1/me/venues"),
        ("delete", "/v1/me/venues/{venue_id}"),
        ("delete", "/v1/venues/{venue_id}/inspectors/{person_id}"),
        ("post", "/v1/regions/{region}/admins"),
        ("post", "/v1/grids"),
        ("patch", "/v1/grids/{grid_id}"),
        ("post", "/v1/grids/{grid_id}/confirmation"),
        ("post", "/v1/grids/{grid_id}/visits"),
        ("post", "/v1/grids/{grid_id}/dissolution"),
        ("post", "/v1/grids/{grid_id}/handovers"),
        ("get", "/v1/grids/{grid_id}/stats"),
        ("get", "/v1/grids/{grid_id}/key-persons"),
        ("get", "/v1/regions/{region}/grids"),
        ("get", "/v1/regions/{region}/grids.csv"),
        ("get", "/v1/medical-staff"),
        ("post", "/v1/medical-staff"),
        ("delete", "/v1/medical-staff/{person_id}"),
        ("post", "/v1/notices"),
        ("get", "/v1/notices/{notice_id}"),
        ("get", "/v1/notices/{notice_id}/printable"),
        ("post", "/v1/notices/{notice_id}/withdrawal"),
        ("get", "/v1/me/issued-notices"),
        ("post", "/v1/role-grants"),
        ("delete", "/v1/role-grants/{person_id}/{role}"),
        ("delete", "/v1/sessions/current"),
        ("delete", "/v1/service-accounts/{account_id}"),
        ("get", "/v1/me/grids/{grid_id}/stats"),
        ("post", "/v1/grid-handovers/acceptance"),
        ("post", "/v1/venue-handovers/acceptance"),
        (
            "get",
            "/v1/grids/{grid_id}/persons/{person_id}/declarations",
        ),
        (
            "put",
            "/v1/grids/{grid_id}/workers/{person_id}/authorisation",
        ),
        (
            "delete",
            "/v1/grids/{grid_id}/workers/{person_id}/authorisation",
        ),
        ("delete", "/v1/grids/{grid_id}/workers/{person_id}"),
        ("post", "/v1/grid-bindings"),
        ("get", "/v1/me/grids"),
        ("put", "/v1/me/grids/current"),
        ("delete", "/v1/me/grids/{grid_id}"),
        ("delete", "/v1/regions/{region}/admins/{person_id}"),
        ("post", "/v1/scans"),
        ("get", "/v1/scans/{scan_id}/declaration"),
        ("post", "/v1/venues/{venue_id}/checks"),
        ("get", "/v1/venues/{venue_id}/poster"),
        ("get", "/v1/venues/{venue_id}/poster.svg"),
        ("post", "/v1/checkins"),
        ("get", "/v1/venues/{venue_id}/stats"),
        ("get", "/v1/me/venues/{venue_id}/stats"),
    ];
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    // Exactly what runs is documented: every served route, and nothing else.
    let mut expected: Vec<(String, String)> = served
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let mut documented_sorted = documented.clone();
    expected.sort();
    documented_sorted.sort();
    assert_eq!(documented_sorted, expected);
    for (method, path) in &documented {
        let url = app.url(
            &path
                .replace("{name}", "event_counts")
                .replace("{stream}", "s-1"),
        );
        let status = app
            .client
            .request(method.to_uppercase().parse().expect("method"), url)
            .send()
            .await
            .expect("send")
            .status();
        assert_ne!(status.as_u16(), 404, "{method} {path} is served");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
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
    let chain_key = event_store::ChainKey::new(app.state.services.keys.chain_key);
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
    let options = event_store::StoreOptions {
        chain_key,
        ..Default::default()
    };
    let store = event_store::EventStore::open(reopened.clone(), options)
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

async fn analysis_routes_need_a_token_and_the_right_role(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let analyst = app.service_token("analyst").await;
    let feed = app.service_token("feed").await;
    problem(
        app.get("/v1/projections").await,
        401,
        "auth.unauthenticated",
    )
    .await;
    problem(
        app.get_as("yk_sa_forged", "/v1/projections").await,
        401,
        "auth.unauthenticated",
    )
    .await;
    problem(
        app.get_as("not-even-a-service-token", "/v1/projections")
            .await,
        401,
        "auth.unauthenticated",
    )
    .await;
    let body = problem(
        app.get_as(&feed, "/v1/projections").await,
        403,
        "auth.forbidden",
    )
    .await;
    assert!(body["detail"]
        .as_str()
        .expect("detail")
        .contains("auditor or analyst"));
    problem(
        app.post_as(&analyst, "/v1/audit/verification").await,
        403,
        "auth.forbidden",
    )
    .await;
    problem(
        app.post_as(&feed, "/v1/projections/event_counts/rebuild")
            .await,
        403,
        "auth.forbidden",
    )
    .await;
    problem(
        app.get_as(&feed, "/v1/exports/events.ndjson").await,
        403,
        "auth.forbidden",
    )
    .await;
    assert_eq!(
        app.get_as(&analyst, "/v1/projections")
            .await
            .status()
            .as_u16(),
        200
    );
    // The token itself is stored nowhere: only its hash.
    let log = app.state.store.read_all(0, 100).await.expect("read");
    assert!(log
        .iter()
        .all(|e| !e.payload.contains(&analyst) && !e.payload.contains(&feed)));
    app.stop().await;
}

async fn projections_answer_after_min_position_or_503(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |s| s.min_position_wait = Duration::from_millis(300)).await;
    let auditor = app.service_token("auditor").await;
    let position = append(&app, "Seen", 3).await;
    let response = app
        .get_as(
            &auditor,
            &format!("/v1/projections?min_position={position}"),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let list: Vec<serde_json::Value> = response.json().await.expect("json");
    let names: Vec<&str> = list
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "event_counts",
            "service_accounts",
            "people",
            "health_codes",
            "histories",
            "appeals",
            "orgs",
            "venues",
            "venue_stats",
            "grids",
            "red_regions",
            "medical"
        ]
    );
    for p in &list {
        assert!(p["position"].as_u64().expect("position") >= position);
        assert_eq!(p["lag"], 0);
        assert_eq!(p["status"], "live");
    }
    // A position the log has not reached: the read model cannot be that fresh.
    problem(
        app.get_as(
            &auditor,
            &format!("/v1/projections?min_position={}", position + 100),
        )
        .await,
        503,
        "projection.lagging",
    )
    .await;
    problem(
        app.get_as(&auditor, "/v1/projections?min_position=minus-one")
            .await,
        400,
        "request.malformed_query",
    )
    .await;
    app.stop().await;
}

async fn analysts_rebuild_projections_while_they_serve(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let analyst = app.service_token("analyst").await;
    let mut position = 0;
    for _ in 0..10 {
        position = append(&app, "Rebuilt", 500).await;
    }
    app.state.wait_for(Some(position)).await.expect("caught up");
    let response = app
        .post_as(&analyst, "/v1/projections/event_counts/rebuild")
        .await;
    assert_eq!(response.status().as_u16(), 202);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"name": "event_counts", "status": "rebuilding"})
    );
    // The claim is taken before the 202: a second request meanwhile is refused.
    problem(
        app.post_as(&analyst, "/v1/projections/event_counts/rebuild")
            .await,
        409,
        "projection.rebuilding",
    )
    .await;
    // Progress is visible; when done, the new generation serves the same counts.
    let mut done = false;
    for _ in 0..200 {
        let list: Vec<serde_json::Value> = app
            .get_as(&analyst, "/v1/projections")
            .await
            .json()
            .await
            .expect("json");
        let counts = list
            .iter()
            .find(|p| p["name"] == "event_counts")
            .expect("event_counts");
        if counts["generation"] == 2 && counts["status"] == "live" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(done, "rebuild finished");
    let counts = projections::event_counts::counts(&app.state.services.db)
        .await
        .expect("counts");
    assert!(counts.contains(&("Rebuilt".to_owned(), 5_000)));
    problem(
        app.post_as(&analyst, "/v1/projections/nope/rebuild").await,
        404,
        "projection.unknown",
    )
    .await;
    app.stop().await;
}

async fn auditors_verify_the_chain_and_find_tampering(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let auditor = app.service_token("auditor").await;
    append(&app, "Kept", 4).await;
    let ok: serde_json::Value = app
        .post_as(&auditor, "/v1/audit/verification")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["checked"], 5);
    assert_eq!(ok["first_bad_position"], serde_json::Value::Null);

    let tamper = match &app.state.services.db {
        event_store::Database::Sqlite(_) => "DROP TRIGGER events_refuse_update; UPDATE events SET payload = '99' WHERE position = 3",
        event_store::Database::Postgres(_) => "DROP TRIGGER events_refuse_update_delete ON events; UPDATE events SET payload = '99' WHERE position = 3",
    };
    match &app.state.services.db {
        event_store::Database::Sqlite(pool) => sqlx::raw_sql(tamper).execute(pool).await.map(drop),
        event_store::Database::Postgres(pool) => {
            sqlx::raw_sql(tamper).execute(pool).await.map(drop)
        }
    }
    .expect("test-only tampering");
    let bad: serde_json::Value = app
        .post_as(&auditor, "/v1/audit/verification")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["first_bad_position"], 3);
    assert_eq!(bad["problem"], "hash mismatch");
    app.stop().await;
}

async fn analysts_export_pseudonymised_ndjson(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let analyst = app.service_token("analyst").await;
    let events = (0..3)
        .map(|i| NewEvent::new("Visited", 1, &serde_json::json!({ "n": i })).expect("json"))
        .collect();
    app.state
        .store
        .append(AppendRequest::single(
            StreamId::parse("person-0192f0c4-7e57").expect("id"),
            ExpectedVersion::Any,
            events,
        ))
        .await
        .expect("append");
    let response = app
        .get_as(&analyst, "/v1/exports/events.ndjson?after=1")
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-ndjson")
    );
    let text = response.text().await.expect("text");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["position"], 2);
    assert_eq!(lines[0]["type"], "Visited");
    assert_eq!(lines[2]["data"], serde_json::json!({ "n": 2 }));
    assert!(!text.contains("0192f0c4"), "ids are pseudonymised");
    assert!(lines[0]["stream"]
        .as_str()
        .expect("stream")
        .starts_with("person-p"));
    app.stop().await;
}

async fn auditors_page_through_the_log_with_filters(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let auditor = app.service_token("auditor").await;
    let analyst = app.service_token("analyst").await;
    append(&app, "Paged", 5).await; // positions 3..=7 after the two accounts
    problem(
        app.get_as(&analyst, "/v1/audit/events").await,
        403,
        "auth.forbidden",
    )
    .await;

    let first: serde_json::Value = app
        .get_as(&auditor, "/v1/audit/events?limit=4")
        .await
        .json()
        .await
        .expect("json");
    let positions = |page: &serde_json::Value| {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["position"].as_u64().expect("position"))
            .collect::<Vec<_>>()
    };
    assert_eq!(positions(&first), [1, 2, 3, 4]);
    assert_eq!(first["next"], "4");
    let item = &first["items"][0];
    assert_eq!(item["type"], "ServiceAccountCreated");
    assert_eq!(item["actor"], "operator");
    assert_eq!(item["version"], 1);
    assert_eq!(item["data"]["role"], "auditor");
    assert!(item["data"]["token_hash"].is_string());
    assert!(item["recorded_at"].as_str().expect("time").ends_with('Z'));

    let second: serde_json::Value = app
        .get_as(&auditor, "/v1/audit/events?after=4&limit=4")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(positions(&second), [5, 6, 7]);
    assert_eq!(second["next"], serde_json::Value::Null);

    let typed: serde_json::Value = app
        .get_as(&auditor, "/v1/audit/events?type=Paged&limit=500")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(positions(&typed), [3, 4, 5, 6, 7]);
    let streamed: serde_json::Value = app
        .get_as(&auditor, "/v1/audit/events?stream=test-1&after=5")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(positions(&streamed), [6, 7]);

    let body = problem(
        app.get_as(&auditor, "/v1/audit/events?limit=0").await,
        422,
        "validation.failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "limit");
    assert_eq!(body["errors"][0]["code"], "page.limit");
    problem(
        app.get_as(&auditor, "/v1/audit/events?limit=501").await,
        422,
        "validation.failed",
    )
    .await;
    let body = problem(
        app.get_as(&auditor, "/v1/audit/events?after=abc").await,
        422,
        "validation.failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "after");
    app.stop().await;
}

async fn auditors_read_a_stream_as_of_an_instant(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let auditor = app.service_token("auditor").await; // recorded at 2026-03-02 09:00 CST
    let page: serde_json::Value = app
        .get_as(&auditor, "/v1/audit/events?limit=1")
        .await
        .json()
        .await
        .expect("json");
    let stream = page["items"][0]["stream"]
        .as_str()
        .expect("stream")
        .to_owned();
    assert!(stream.starts_with("service-account-"));

    let now: serde_json::Value = app
        .get_as(&auditor, &format!("/v1/audit/streams/{stream}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(now["version"], 1);
    assert_eq!(now["events"].as_array().expect("events").len(), 1);
    assert_eq!(
        now["state"],
        serde_json::json!({"stage": "active", "role": "auditor"})
    );

    let at = app
        .get_as(
            &auditor,
            &format!("/v1/audit/streams/{stream}?as_of=2026-03-02T01:00:00Z"),
        )
        .await;
    assert_eq!(
        at.status().as_u16(),
        200,
        "recorded at exactly that instant"
    );
    let before = app
        .get_as(
            &auditor,
            &format!("/v1/audit/streams/{stream}?as_of=2026-03-02T08:59:59%2B08:00"),
        )
        .await;
    problem(before, 404, "stream.unknown").await;
    let body = problem(
        app.get_as(
            &auditor,
            &format!("/v1/audit/streams/{stream}?as_of=yesterday"),
        )
        .await,
        422,
        "validation.failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "as_of");
    app.stop().await;
}

/// A body larger than the server reads is `413 request.too_large`; a malformed query is
/// `400 request.malformed_query` before anyone is authenticated (as before the extractors).
async fn oversized_bodies_and_bad_queries_are_problem_documents(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let huge = serde_json::json!({ "assertion": "x".repeat(300 * 1024) });
    problem(
        app.post_json("/v1/sessions", &huge).await,
        413,
        "request.too_large",
    )
    .await;
    problem(
        app.get("/v1/me?min_position=abc").await,
        400,
        "request.malformed_query",
    )
    .await;
    problem(app.get("/v1/me").await, 401, "auth.unauthenticated").await;
    app.stop().await;
}

async fn an_unreachable_database_answers_503_store_unavailable(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (token, _) = app
        .login(&yuekang_tests::resident_id("440106199003", 1), "张三强")
        .await;
    // The pool closed stands for a database out of reach: every connection attempt fails.
    app.state.services.db.close().await;
    let response = app
        .client
        .post(app.url("/v1/declarations"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "declaration-1")
        .json(&serde_json::json!({"symptoms": [], "contact_14d": false, "visited": [], "region": "440106", "band": "normal"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body = problem(response, 503, "store.unavailable").await;
    assert!(
        !body.to_string().contains("pool"),
        "no detail of the cause: {body}"
    );
    problem(
        app.get("/v1/me/declarations").await,
        401,
        "auth.unauthenticated",
    )
    .await;
    problem(
        app.get_as(&token, "/v1/me/declarations").await,
        503,
        "store.unavailable",
    )
    .await;
    problem(app.get("/readyz").await, 503, "service.not_ready").await;
}
