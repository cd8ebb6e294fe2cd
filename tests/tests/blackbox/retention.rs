//! Black-box tests of retention, on SQLite and PostgreSQL, with the test clock: check-ins,
//! scans, checks and grid visits name their person by a per-day pseudonym whose key is
//! shredded `retention_days` after its day; from then on those events resolve to nobody
//! (the person's check list, a grid's key persons and its view of their declarations no
//! longer reach them), while the log is unchanged and verifies, and the statistics (also
//! rebuilt from the log) stay as they were.

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use time::Duration;
use yuekang_tests::{body, TestApp};

use super::grids::{authorise, grid_with_worker, resident, scan_in, visit};
use super::venues::{check, code_token, scan, venue_with_inspector, ADMIN, CITIZEN};

event_store::backend_tests!(links_to_people_expire_after_the_retention_period_and_statistics_stay,);

/// A quick check-in of `token`'s person at `venue_id` (poster read by the venue's admin).
async fn quick_check_in(app: &TestApp, admin: &str, token: &str, venue_id: &str) -> Value {
    let poster = app
        .get_json(admin, &format!("/v1/venues/{venue_id}/poster"))
        .await;
    let (status, checked) = body(
        app.post_json_as(
            token,
            "/v1/checkins",
            &json!({"poster_token": poster["token"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{checked}");
    checked
}

async fn venue_stats(app: &TestApp, admin: &str, venue_id: &str, date: &str) -> Value {
    app.get_json(admin, &format!("/v1/venues/{venue_id}/stats?date={date}"))
        .await
}

async fn links_to_people_expire_after_the_retention_period_and_statistics_stay(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    // Day 1 (2026-03-02): a scan with a fever check and a quick check-in at a venue, and a
    // feverish grid visit, all of one citizen.
    let (venue_admin, inspector, _, venue_id) = venue_with_inspector(&app).await;
    let (citizen, citizen_id) = app.login(CITIZEN, "李四强").await;
    let (status, scanned) = scan(
        &app,
        &inspector,
        &venue_id,
        &code_token(&app, &citizen).await,
    )
    .await;
    assert_eq!(status, 200, "{scanned}");
    let scan_id = scanned["scan_id"].as_str().expect("scan id");
    let (status, checked) = check(&app, &inspector, &venue_id, scan_id, "fever").await;
    assert_eq!(status, 201, "{checked}");
    quick_check_in(&app, &venue_admin, &citizen, &venue_id).await;
    let (grid, grid_admin, worker, _) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid id").to_owned();
    authorise(&app, &grid_admin, &grid_id, &worker).await;
    let (status, seen) = scan_in(&app, &worker, &grid, &code_token(&app, &citizen).await).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["person_id"], citizen_id.as_str(), "{seen}");
    let (status, visited) = visit(
        &app,
        &worker,
        &grid,
        json!({"scan_id": seen["scan_id"], "band": "fever"}),
    )
    .await;
    assert_eq!(status, 201, "{visited}");
    let head = app.state.store.last_position().await.expect("head");
    app.state.wait_for(Some(head)).await.expect("caught up");

    // No event of those names the citizen in clear.
    let events = app.state.store.read_all(0, 10_000).await.expect("log");
    for e in &events {
        let payload = &e.payload;
        if [
            "CheckedIn",
            "CodeScanned",
            "TemperatureChecked",
            "GridCodeScanned",
            "GridVisitRecorded",
        ]
        .contains(&e.event_type.as_str())
        {
            assert!(
                !payload.contains(&citizen_id),
                "{} names the person: {payload}",
                e.event_type
            );
        }
    }

    // Nor does the citizen's access log name the venue or grid in clear …
    for e in events
        .iter()
        .filter(|e| e.stream == format!("access-{citizen_id}"))
    {
        assert!(
            !e.payload.contains(&venue_id) && !e.payload.contains(&grid_id),
            "{}",
            e.payload
        );
    }
    // … though the citizen sees both while the day is kept.
    let log = app.get_json(&citizen, "/v1/me/access-log").await;
    let accessors: Vec<Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["accessor"].clone())
        .collect();
    assert!(
        accessors.iter().any(|a| a["venue_id"] == venue_id.as_str())
            && accessors.iter().any(|a| a["grid_id"] == grid_id.as_str()),
        "{log}"
    );

    let checks_path = "/v1/me/checks";
    let key_path = format!("/v1/grids/{grid_id}/key-persons");
    let declarations_path = format!("/v1/grids/{grid_id}/persons/{citizen_id}/declarations");
    let stats_before = venue_stats(&app, &venue_admin, &venue_id, "2026-03-02").await;
    assert_eq!(stats_before["checks_today"], 2, "{stats_before}");
    assert_eq!(
        stats_before["persons_today"], 1,
        "one person, one pseudonym all day"
    );
    assert_eq!(
        stats_before["fever_today"], 0,
        "the latest check of the day is the check-in"
    );
    let grid_stats_before = app
        .get_json(&grid_admin, &format!("/v1/grids/{grid_id}/stats"))
        .await;

    // 28 days later the links still resolve: the day is kept. (Sessions have ended since:
    // everyone signs in again.)
    app.clock.advance(Duration::days(28));
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let (grid_admin, _) = app.login(&resident(1), "网格员").await;
    let run = services::links::run_retention(&app.state.services)
        .await
        .expect("retention");
    assert!(run.shredded.is_empty(), "{run:?}");
    let checks = app.get_json(&citizen, checks_path).await;
    assert_eq!(
        checks["items"].as_array().map(Vec::len),
        Some(2),
        "{checks}"
    );
    let (status, listed) = body(app.get_as(&grid_admin, &declarations_path).await).await;
    assert_eq!(status, 200, "{listed}");

    // The day after, the job shreds day 1's key.
    app.clock.advance(Duration::days(1));
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let (grid_admin, _) = app.login(&resident(1), "网格员").await;
    let (venue_admin, _) = app.login(ADMIN, "张三强").await;
    let run = services::links::run_retention(&app.state.services)
        .await
        .expect("retention");
    assert_eq!(
        run.shredded,
        [time::macros::date!(2026 - 03 - 02)],
        "{run:?}"
    );
    assert_eq!(
        services::links::run_retention(&app.state.services)
            .await
            .expect("again")
            .shredded,
        [],
        "a second run has nothing left to do"
    );

    // The events no longer resolve to anyone …
    let checks = app.get_json(&citizen, checks_path).await;
    assert_eq!(checks["items"], json!([]), "{checks}");
    let log = app.get_json(&citizen, "/v1/me/access-log").await;
    let scans: Vec<&Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| {
            i["at"]
                .as_str()
                .is_some_and(|at| at.starts_with("2026-03-02"))
        })
        .filter(|i| ["venue", "grid"].contains(&i["accessor"]["kind"].as_str().unwrap_or("")))
        .collect();
    assert!(!scans.is_empty(), "{log}");
    for item in scans {
        assert_eq!(item["accessor"]["expired"], true, "{item}");
        assert!(
            item["accessor"].get("venue_id").is_none() && item["accessor"].get("grid_id").is_none()
        );
    }
    let (status, problem) = body(app.get_as(&grid_admin, &declarations_path).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("grid.not_visited"))
    );
    for e in events
        .iter()
        .filter(|e| ["CodeScanned", "GridCodeScanned"].contains(&e.event_type.as_str()))
    {
        let payload: Value = serde_json::from_str(&e.payload).expect("json");
        let named =
            domain::identity::PersonId::parse(payload["subject"].as_str().expect("subject"))
                .expect("a person id");
        assert_eq!(
            services::links::resolve(
                &app.state.services,
                named,
                app.state.services.now() - Duration::days(29)
            )
            .await
            .expect("resolve"),
            None
        );
    }
    // … while the log is as it was and verifies …
    let mut now = app.state.store.read_all(0, 10_000).await.expect("log");
    now.truncate(events.len());
    assert!(now == events, "the events of day 1 are as they were");
    assert!(app.state.store.verify().await.expect("verify").ok);
    // … and the statistics of the day stay, also rebuilt from the log.
    assert_eq!(
        venue_stats(&app, &venue_admin, &venue_id, "2026-03-02").await,
        stats_before
    );
    let rebuilt = app
        .state
        .runner
        .rebuild("venue_stats", |_| {})
        .await
        .expect("rebuild");
    assert!(rebuilt >= head);
    assert_eq!(
        venue_stats(&app, &venue_admin, &venue_id, "2026-03-02").await,
        stats_before
    );
    let key_persons = app.get_json(&grid_admin, &key_path).await;
    assert_eq!(
        key_persons["items"],
        json!([]),
        "the visit is past the 14-day window and unlinked"
    );
    let grid_stats = app
        .get_json(&grid_admin, &format!("/v1/grids/{grid_id}/stats"))
        .await;
    assert_eq!(
        grid_stats["visits_total"],
        grid_stats_before["visits_total"]
    );
    app.stop().await;
}
