//! Black-box tests of community grids, on SQLite and PostgreSQL: one grid per admin (the
//! 16-way race), grid codes, confirmation by an admin of an enclosing region (and nobody
//! else), weekly-limited edits, workers binding with the code (other kinds of code refused
//! with what they are), the current grid, and the grid admin alone managing workers.

use domain::code::{BindingCode, CodeKind};
use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use time::macros::datetime;
use yuekang_tests::{body, TestApp};

event_store::backend_tests!(
    sixteen_concurrent_creations_by_one_admin_make_one_grid,
    a_grid_is_confirmed_by_an_admin_of_an_enclosing_region_only,
    a_guangzhou_district_admin_cannot_confirm_a_shenzhen_grid,
    workers_bind_with_the_grid_code_and_choose_a_current_grid,
    only_the_grids_admin_authorises_revokes_and_unbinds_workers,
    grid_details_change_once_a_week,
    visits_need_a_bound_worker_and_a_confirmed_grid,
    a_manual_visit_of_an_infant_is_sealed_under_the_grids_key,
    a_dissolved_grid_is_gone_and_what_it_collected_unreadable,
    a_handover_token_moves_the_grid_to_the_named_successor_once,
    only_authorised_workers_see_all_declarations_of_a_visited_person,
    grid_statistics_count_visits_per_worker_and_day_without_personal_data,
    region_admins_list_the_grids_of_their_region_and_those_inside_it,
    the_scanning_worker_sees_the_latest_declaration_for_30_minutes,
    key_persons_are_feverish_visits_and_red_codes_inside_the_grid,
    a_visit_racing_an_unbinding_never_lands_after_it,
);

/// A valid resident ID (MOD 11-2 check character) born in 1985 with serial `n`.
pub(crate) fn resident(n: u32) -> String {
    yuekang_tests::resident_id("440305198503", n)
}

async fn sign_in(app: &TestApp, n: u32) -> (String, String) {
    app.login(&resident(n), "网格员").await
}

async fn create(app: &TestApp, token: &str, region: &str) -> (u16, Value) {
    body(
        app.post_json_as(
            token,
            "/v1/grids",
            &json!({"region": region, "name": "东城一网格"}),
        )
        .await,
    )
    .await
}

/// The province admin, then `region`'s chain of admins down to `region`, each appointed by
/// the one above; answers the token of `region`'s admin.
async fn region_admin(app: &TestApp, chain: &[&str], first_serial: u32) -> String {
    let province_id = resident(first_serial);
    services::citizens::bootstrap_province_admin(
        &app.state.services,
        "resident_id",
        &province_id,
        "张省",
    )
    .await
    .expect("bootstrap");
    let mut by = app.login(&province_id, "张省").await.0;
    for (i, region) in chain.iter().enumerate() {
        let id = resident(first_serial + 1 + i as u32);
        let (token, _) = app.login(&id, "王官").await;
        let (status, answer) = body(
            app.post_json_as(
                &by,
                &format!("/v1/regions/{region}/admins"),
                &json!({"document": {"type": "resident_id", "number": id}, "name": "王官"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{region}: {answer}");
        by = token;
    }
    by
}

async fn sixteen_concurrent_creations_by_one_admin_make_one_grid(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = sign_in(&app, 1).await;
    let requests = (0..16).map(|_| create(&app, &admin, "441900003"));
    let answers = futures_util::future::join_all(requests).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "grid.admin_has_grid")
        .count();
    assert_eq!((created.len(), refused), (1, 15), "{answers:?}");
    let grid = created[0];
    assert_eq!(grid["status"], "pending");
    let code = grid["code"].as_str().expect("code");
    assert!(code.starts_with('6') && code.len() == 8, "{code}");
    assert!(BindingCode::parse_kind(code, CodeKind::Grid, "code").is_ok());
    let refusal = answers.iter().find(|(s, _)| *s == 409).expect("a refusal");
    assert_eq!(refusal.1["grid_id"], grid["grid_id"]);
    let events = app.state.store.read_all(0, 1000).await.expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "GridCreated")
            .count(),
        1
    );
    // Not a real region: refused, nothing recorded.
    let (other, _) = sign_in(&app, 2).await;
    for region in ["449999001", "4403", "440305"] {
        let (status, problem) = create(&app, &other, region).await;
        assert_eq!(status, 422, "{region}: {problem}");
        assert_eq!(problem["errors"][0]["code"], "region.not_a_town");
    }
    app.stop().await;
}

async fn a_grid_is_confirmed_by_an_admin_of_an_enclosing_region_only(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    // The Dongguan city admin appoints a Dongguan town admin, who confirms a grid there.
    let town_admin = region_admin(&app, &["4419", "441900003"], 10).await;
    let (grid_admin, _) = sign_in(&app, 20).await;
    let (_, grid) = create(&app, &grid_admin, "441900003").await;
    let grid_id = grid["grid_id"].as_str().expect("grid");
    // A Guangzhou district admin, appointed down from the same province, cannot.
    let guangzhou = {
        let (province, _) = app.login(&resident(10), "张省").await;
        let id = resident(30);
        let (gz, _) = app.login(&id, "李官").await;
        let (status, _) = body(
            app.post_json_as(
                &province,
                "/v1/regions/4401/admins",
                &json!({"document": {"type": "resident_id", "number": id}, "name": "李官"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201);
        gz
    };
    let confirm = |token: String| {
        let app = &app;
        let path = format!("/v1/grids/{grid_id}/confirmation");
        async move { body(app.post_json_as(&token, &path, &json!({})).await).await }
    };
    let (status, problem) = confirm(guangzhou.clone()).await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = confirm(grid_admin.clone()).await;
    assert_eq!(
        status, 403,
        "the grid's own admin does not confirm: {problem}"
    );
    let (status, confirmed) = confirm(town_admin.clone()).await;
    assert_eq!(status, 200, "{confirmed}");
    let (status, _) = confirm(town_admin).await;
    assert_eq!(status, 200, "confirming again changes nothing");
    // A worker sees the grid active.
    let (worker, _) = sign_in(&app, 21).await;
    let code = grid["code"].as_str().expect("code");
    let (status, _) = body(
        app.post_json_as(&worker, "/v1/grid-bindings", &json!({"code": code}))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let head = app.state.store.last_position().await.expect("head");
    let mine = app
        .get_json(&worker, &format!("/v1/me/grids?min_position={head}"))
        .await;
    assert_eq!(mine["items"][0]["status"], "active", "{mine}");
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = body(
        app.post_json_as(
            &guangzhou,
            &format!("/v1/grids/{unknown}/confirmation"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    // Moved to another town, the grid waits for a region admin over its new region.
    let (status, _) = body(
        app.patch_json_as(
            &grid_admin,
            &format!("/v1/grids/{grid_id}"),
            &json!({"region": "441900004"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let head = app.state.store.last_position().await.expect("head");
    let mine = app
        .get_json(&worker, &format!("/v1/me/grids?min_position={head}"))
        .await;
    assert_eq!(mine["items"][0]["status"], "pending", "{mine}");
    app.stop().await;
}

/// The case: a Guangzhou district admin cannot confirm a Shenzhen grid; the Shenzhen
/// city admin (any enclosing region) can.
async fn a_guangzhou_district_admin_cannot_confirm_a_shenzhen_grid(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let tianhe = region_admin(&app, &["4401", "440106"], 10).await;
    let shenzhen = {
        let (province, _) = app.login(&resident(10), "张省").await;
        let id = resident(40);
        let (token, _) = app.login(&id, "深官").await;
        let (status, _) = body(
            app.post_json_as(
                &province,
                "/v1/regions/4403/admins",
                &json!({"document": {"type": "resident_id", "number": id}, "name": "深官"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201);
        token
    };
    let (grid_admin, _) = sign_in(&app, 41).await;
    let (_, grid) = create(&app, &grid_admin, "440305001").await;
    let path = format!(
        "/v1/grids/{}/confirmation",
        grid["grid_id"].as_str().expect("grid")
    );
    let (status, problem) = body(app.post_json_as(&tianhe, &path, &json!({})).await).await;
    assert_eq!(status, 403, "{problem}");
    let (status, confirmed) = body(app.post_json_as(&shenzhen, &path, &json!({})).await).await;
    assert_eq!(status, 200, "{confirmed}");
    app.stop().await;
}

async fn bind(app: &TestApp, token: &str, code: &str) -> (u16, Value) {
    body(
        app.post_json_as(token, "/v1/grid-bindings", &json!({"code": code}))
            .await,
    )
    .await
}

async fn workers_bind_with_the_grid_code_and_choose_a_current_grid(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin_a, _) = sign_in(&app, 1).await;
    let (admin_b, _) = sign_in(&app, 2).await;
    let (_, a) = create(&app, &admin_a, "441900003").await;
    let (_, b) = create(&app, &admin_b, "440305001").await;
    let (worker, _) = sign_in(&app, 3).await;
    let (status, bound) = bind(&app, &worker, a["code"].as_str().expect("code")).await;
    assert_eq!(status, 201, "{bound}");
    assert_eq!(bound["grid_id"], a["grid_id"]);
    assert_eq!(bound["already_bound"], false);
    let (status, again) = bind(&app, &worker, a["code"].as_str().expect("code")).await;
    assert_eq!((status, again["already_bound"].clone()), (200, json!(true)));
    bind(&app, &worker, b["code"].as_str().expect("code")).await;
    // An organisation's declaration code is refused, saying what it is.
    let (org_admin, _) = sign_in(&app, 4).await;
    let (status, org) = body(
        app.post_json_as(
            &org_admin,
            "/v1/orgs",
            &json!({"name": "示例公司", "address": "东莞市东城街道1号", "level": "4419", "phone": "13912345678"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{org}");
    let (status, problem) = bind(&app, &worker, org["code"].as_str().expect("code")).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "code.wrong_kind");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("organisation"),
        "{problem}"
    );
    let venue_code = BindingCode::new(CodeKind::Venue, 7).to_string();
    let (status, problem) = bind(&app, &worker, &venue_code).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (422, json!("code.wrong_kind"))
    );
    let unused = BindingCode::new(CodeKind::Grid, 999_999).to_string();
    let (status, _) = bind(&app, &worker, &unused).await;
    assert_eq!(status, 404);
    // The current grid: one the worker is bound to.
    let (status, chosen) = body(
        app.put_json_as(
            &worker,
            "/v1/me/grids/current",
            &json!({"grid_id": b["grid_id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{chosen}");
    let (status, _) = body(
        app.put_json_as(
            &worker,
            "/v1/me/grids/current",
            &json!({"grid_id": uuid::Uuid::new_v4()}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    let mine = app
        .get_json(
            &worker,
            &format!("/v1/me/grids?min_position={}", chosen["position"]),
        )
        .await;
    let items = mine["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{mine}");
    let current: Vec<&Value> = items.iter().filter(|g| g["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["grid_id"], b["grid_id"]);
    assert!(items
        .iter()
        .all(|g| g["authorised"] == false && g["status"] == "pending"));
    let me = app
        .get_json(
            &worker,
            &format!("/v1/me?min_position={}", chosen["position"]),
        )
        .await;
    let worker_scopes: Vec<&Value> = me["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|r| r["role"] == "grid_worker")
        .map(|r| &r["scope"])
        .collect();
    assert_eq!(worker_scopes.len(), 2, "{me}");
    let me = app.get_json(&admin_a, "/v1/me").await;
    assert!(
        me["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r["role"] == "grid_admin" && r["scope"] == a["grid_id"]),
        "{me}"
    );
    // Unbinding oneself.
    let a_id = a["grid_id"].as_str().expect("grid");
    let (status, unbound) = body(
        app.delete_as(&worker, &format!("/v1/me/grids/{a_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{unbound}");
    let mine = app
        .get_json(
            &worker,
            &format!("/v1/me/grids?min_position={}", unbound["position"]),
        )
        .await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    let (status, _) = body(
        app.delete_as(&worker, &format!("/v1/me/grids/{a_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    // Leaving the current grid leaves the worker without one, even after binding again.
    let b_id = b["grid_id"].as_str().expect("grid");
    let (status, _) = body(
        app.delete_as(&worker, &format!("/v1/me/grids/{b_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (_, rebound) = bind(&app, &worker, b["code"].as_str().expect("code")).await;
    let mine = app
        .get_json(
            &worker,
            &format!("/v1/me/grids?min_position={}", rebound["position"]),
        )
        .await;
    assert_eq!(mine["items"][0]["current"], false, "{mine}");
    app.stop().await;
}

async fn only_the_grids_admin_authorises_revokes_and_unbinds_workers(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let town_admin = region_admin(&app, &["4419", "441900003"], 10).await;
    let (admin, _) = sign_in(&app, 1).await;
    let (_, grid) = create(&app, &admin, "441900003").await;
    let grid_id = grid["grid_id"].as_str().expect("grid");
    let (worker, worker_id) = sign_in(&app, 2).await;
    bind(&app, &worker, grid["code"].as_str().expect("code")).await;
    let authorisation = format!("/v1/grids/{grid_id}/workers/{worker_id}/authorisation");
    // A region admin, even of the grid's own town, never authorises workers; nor the worker.
    for token in [&town_admin, &worker] {
        let (status, problem) =
            body(app.put_json_as(token, &authorisation, &json!({})).await).await;
        assert_eq!(status, 403, "{problem}");
    }
    let (status, authorised) =
        body(app.put_json_as(&admin, &authorisation, &json!({})).await).await;
    assert_eq!(status, 200, "{authorised}");
    let mine = app
        .get_json(
            &worker,
            &format!("/v1/me/grids?min_position={}", authorised["position"]),
        )
        .await;
    assert_eq!(mine["items"][0]["authorised"], true, "{mine}");
    let (status, revoked) = body(app.delete_as(&admin, &authorisation).await).await;
    assert_eq!(status, 200, "{revoked}");
    let mine = app
        .get_json(
            &worker,
            &format!("/v1/me/grids?min_position={}", revoked["position"]),
        )
        .await;
    assert_eq!(mine["items"][0]["authorised"], false);
    let membership = format!("/v1/grids/{grid_id}/workers/{worker_id}");
    let (status, _) = body(app.delete_as(&town_admin, &membership).await).await;
    assert_eq!(status, 403);
    let (status, _) = body(app.delete_as(&admin, &membership).await).await;
    assert_eq!(status, 200);
    let (status, problem) = body(app.put_json_as(&admin, &authorisation, &json!({})).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("grid.not_bound"))
    );
    app.stop().await;
}

async fn grid_details_change_once_a_week(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    app.clock.set(datetime!(2026-03-02 02:00 UTC)); // Monday 10:00 CST
    let (admin, _) = sign_in(&app, 1).await;
    let (_, grid) = create(&app, &admin, "441900003").await;
    let path = format!("/v1/grids/{}", grid["grid_id"].as_str().expect("grid"));
    let (stranger, _) = sign_in(&app, 2).await;
    let (status, _) = body(
        app.patch_json_as(&stranger, &path, &json!({"name": "别人的"}))
            .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, edited) = body(
        app.patch_json_as(&admin, &path, &json!({"name": "东城二网格"}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    let (status, problem) = body(
        app.patch_json_as(&admin, &path, &json!({"region": "441900004"}))
            .await,
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "grid.weekly_edit_limit");
    assert_eq!(problem["next_allowed_at"], "2026-03-09T00:00:00+08:00");
    app.clock.set(datetime!(2026-03-08 16:30 UTC)); // Monday 00:30 CST
    let (admin, _) = sign_in(&app, 1).await; // a new week's session
    let (status, _) = body(
        app.patch_json_as(&admin, &path, &json!({"region": "441900004"}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = body(app.patch_json_as(&admin, &path, &json!({})).await).await;
    assert_eq!(status, 422, "{problem}");
    app.stop().await;
}

/// A confirmed grid in a Dongguan town with its admin and one bound worker: (grid, the grid
/// admin's token, the worker's token, the town admin's token).
pub(crate) async fn grid_with_worker(
    app: &TestApp,
    confirmed: bool,
) -> (Value, String, String, String) {
    let town_admin = region_admin(app, &["4419", "441900003"], 10).await;
    let (admin, _) = sign_in(app, 1).await;
    let (_, grid) = create(app, &admin, "441900003").await;
    let (worker, _) = sign_in(app, 2).await;
    let (status, _) = bind(app, &worker, grid["code"].as_str().expect("code")).await;
    assert_eq!(status, 201);
    if confirmed {
        let path = format!(
            "/v1/grids/{}/confirmation",
            grid["grid_id"].as_str().expect("grid")
        );
        let (status, _) = body(app.post_json_as(&town_admin, &path, &json!({})).await).await;
        assert_eq!(status, 200);
    }
    (grid, admin, worker, town_admin)
}

pub(crate) async fn scan_in(
    app: &TestApp,
    worker: &str,
    grid: &Value,
    token: &str,
) -> (u16, Value) {
    body(
        app.post_json_as(
            worker,
            "/v1/scans",
            &json!({"token": token, "context": {"grid_id": grid["grid_id"]}}),
        )
        .await,
    )
    .await
}

pub(crate) async fn visit(app: &TestApp, worker: &str, grid: &Value, visit: Value) -> (u16, Value) {
    body(
        app.post_json_as(
            worker,
            &format!(
                "/v1/grids/{}/visits",
                grid["grid_id"].as_str().expect("grid")
            ),
            &visit,
        )
        .await,
    )
    .await
}

async fn visits_need_a_bound_worker_and_a_confirmed_grid(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, admin, worker, town_admin) = grid_with_worker(&app, false).await;
    let (citizen, citizen_id) = sign_in(&app, 3).await;
    let token = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Pending: no scan, no visit.
    let (status, problem) = scan_in(&app, &worker, &grid, &token).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("grid.pending"))
    );
    let manual = json!({"manual": {"name": "王小", "document": {"type": "birth_certificate", "number": "A123456789"}, "address": "东城街道1号"}, "band": "normal"});
    let (status, problem) = visit(&app, &worker, &grid, manual.clone()).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("grid.pending"))
    );
    let path = format!(
        "/v1/grids/{}/confirmation",
        grid["grid_id"].as_str().expect("grid")
    );
    let (status, _) = body(app.post_json_as(&town_admin, &path, &json!({})).await).await;
    assert_eq!(status, 200);
    // Only bound workers; the scan answers masked data and is in the citizen's access log.
    let (stranger, _) = sign_in(&app, 4).await;
    let (status, _) = scan_in(&app, &stranger, &grid, &token).await;
    assert_eq!(status, 403);
    let (status, seen) = scan_in(&app, &worker, &grid, &token).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["person_id"], citizen_id.as_str());
    assert_eq!(seen["colour"], "green");
    assert!(seen["name_masked"].as_str().expect("masked").contains('*'));
    let log = app
        .get_json(
            &citizen,
            &format!("/v1/me/access-log?min_position={}", seen["position"]),
        )
        .await;
    assert_eq!(log["items"][0]["accessor"]["kind"], "grid", "{log}");
    let scan_id = seen["scan_id"].clone();
    // Another bound worker may not use this worker's scan.
    let (other, _) = sign_in(&app, 5).await;
    bind(&app, &other, grid["code"].as_str().expect("code")).await;
    let on_scan = json!({"scan_id": scan_id, "temperature_c": 37.8, "symptoms": ["cough"], "notes": "咳嗽两天"});
    let (status, _) = visit(&app, &other, &grid, on_scan.clone()).await;
    assert_eq!(status, 403);
    let (status, recorded) = visit(&app, &worker, &grid, on_scan.clone()).await;
    assert_eq!(status, 201, "{recorded}");
    assert!(recorded["visit_id"].is_string() && recorded["position"].is_u64());
    let (status, problem) = visit(&app, &worker, &grid, on_scan).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("visit.already_recorded"))
    );
    // A scan older than 30 minutes is refused.
    let (_, again) = scan_in(&app, &worker, &grid, &token).await;
    app.clock.advance(time::Duration::minutes(31));
    let (worker, _) = sign_in(&app, 2).await;
    let (status, problem) = visit(
        &app,
        &worker,
        &grid,
        json!({"scan_id": again["scan_id"], "band": "normal"}),
    )
    .await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("scan.expired"))
    );
    // Bad readings are refused field by field; a visit names a scan or a person.
    let (status, problem) = visit(&app, &worker, &grid, json!({"band": "warm"})).await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = visit(&app, &worker, &grid, json!({"band": "normal"})).await;
    assert_eq!(status, 422);
    // Unbound by the admin: no more visits.
    let worker_id = app.get_json(&worker, "/v1/me").await["person_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = body(
        app.delete_as(
            &admin,
            &format!(
                "/v1/grids/{}/workers/{worker_id}",
                grid["grid_id"].as_str().expect("grid")
            ),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = visit(&app, &worker, &grid, manual).await;
    assert_eq!(status, 403);
    app.stop().await;
}

async fn a_manual_visit_of_an_infant_is_sealed_under_the_grids_key(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, _, worker, _) = grid_with_worker(&app, true).await;
    let manual = json!({
        "manual": {
            "name": "王小宝",
            "document": {"type": "birth_certificate", "number": "B987654321"},
            "phone": "13912345678",
            "address": "东城街道光明路88号",
        },
        "temperature_c": 36.6,
        "symptoms": [],
        "notes": "母亲代答",
    });
    let (status, recorded) = visit(&app, &worker, &grid, manual).await;
    assert_eq!(status, 201, "{recorded}");
    let events = app.state.store.read_all(0, 10_000).await.expect("events");
    let visit = events
        .iter()
        .find(|e| e.event_type == "ManualVisitRecorded")
        .expect("the visit");
    for clear in ["王小宝", "B987654321", "13912345678", "光明路", "母亲代答"] {
        assert!(
            events.iter().all(|e| !e.payload.contains(clear)),
            "{clear} is sealed"
        );
    }
    assert!(visit.payload.contains("birth_certificate"));
    let (status, problem) = visit_bad_document(&app, &worker, &grid).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "manual.document.number");
    app.stop().await;
}

async fn visit_bad_document(app: &TestApp, worker: &str, grid: &Value) -> (u16, Value) {
    visit(
        app,
        worker,
        grid,
        json!({"manual": {"name": "某人", "document": {"type": "resident_id", "number": "440106198001010011"}, "address": "某地"}, "band": "normal"}),
    )
    .await
}

/// Every row of every table of the database (the log, the read models, the vault), as text.
pub(crate) async fn every_row(db: &event_store::Database) -> String {
    use sqlx::Row;
    let mut out = String::new();
    match db {
        event_store::Database::Sqlite(pool) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(pool)
                    .await
                    .expect("tables");
            for table in tables {
                let columns = sqlx::query(&format!("PRAGMA table_info(\"{table}\")"))
                    .fetch_all(pool)
                    .await
                    .expect("columns");
                let quoted: Vec<String> = columns
                    .iter()
                    .map(|c| format!("quote(\"{}\")", c.get::<String, _>("name")))
                    .collect();
                if quoted.is_empty() {
                    continue;
                }
                let rows: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT {} FROM \"{table}\"",
                    quoted.join(" || ',' || ")
                ))
                .fetch_all(pool)
                .await
                .expect("rows");
                out.push_str(&rows.join("\n"));
            }
        }
        event_store::Database::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
                        .fetch_all(pool)
                        .await
                        .expect("rows");
                out.push_str(&rows.join("\n"));
            }
        }
    }
    assert!(out.len() > 100, "the walk read rows");
    out
}

async fn a_dissolved_grid_is_gone_and_what_it_collected_unreadable(db: TestDatabase) {
    yuekang_tests::captured_logs();
    let app = TestApp::spawn(db).await;
    let (grid, admin, worker, town_admin) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let code = grid["code"].as_str().expect("code").to_owned();
    let manual = json!({
        "manual": {
            "name": "李解散",
            "document": {"type": "passport", "number": "E12345678"},
            "phone": "13800138000",
            "address": "东城街道解散路1号",
        },
        "band": "fever",
        "symptoms": ["cough"],
        "notes": "发热三天",
    });
    let (status, recorded) = visit(&app, &worker, &grid, manual.clone()).await;
    assert_eq!(status, 201, "{recorded}");
    let events = app.state.store.read_all(0, 10_000).await.expect("events");
    let sealed = events
        .iter()
        .find(|e| e.event_type == "ManualVisitRecorded")
        .map(|e| serde_json::from_str::<Value>(&e.payload).expect("json"))
        .expect("the visit");
    let person = domain::sealed::Sealed::new(sealed["person"].as_str().expect("sealed"));
    let vault = &app.state.services.vault;
    let subject = format!("grid-{grid_id}");
    let opened = vault
        .open(&subject, &crypto::vault::Sealed(person.as_str().to_owned()))
        .await
        .expect("open");
    assert!(opened.is_some(), "readable while the grid lives");
    let path = format!("/v1/grids/{grid_id}/dissolution");
    // Only the admin; a wrong or malformed code changes nothing.
    let (status, _) = body(
        app.post_json_as(&worker, &path, &json!({"confirm_code": code}))
            .await,
    )
    .await;
    assert_eq!(status, 403);
    let other = BindingCode::new(CodeKind::Grid, 1).to_string();
    for wrong in [other.as_str(), "123"] {
        let (status, problem) = body(
            app.post_json_as(&admin, &path, &json!({"confirm_code": wrong}))
                .await,
        )
        .await;
        assert_eq!(status, 422, "{problem}");
    }
    let (status, _) = visit(
        &app,
        &worker,
        &grid,
        json!({"band": "normal", "manual": manual["manual"]}),
    )
    .await;
    assert_eq!(status, 201, "still open after the refusals");
    let (status, dissolved) = body(
        app.post_json_as(&admin, &path, &json!({"confirm_code": code}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{dissolved}");
    // What the grid collected is unreadable by any code path; the log is intact.
    let opened = vault
        .open(&subject, &crypto::vault::Sealed(person.as_str().to_owned()))
        .await
        .expect("open");
    assert!(opened.is_none(), "the grid's key is gone");
    let events = app.state.store.read_all(0, 10_000).await.expect("events");
    let analyst = app.service_token("analyst").await;
    let export = app.get_as(&analyst, "/v1/exports/events.ndjson").await;
    assert_eq!(export.status().as_u16(), 200);
    let export = export.text().await.expect("export");
    assert!(
        export.contains("ManualVisitRecorded"),
        "the export has the visit"
    );
    let tables = every_row(&app.state.services.db).await;
    assert!(
        tables.contains("东城一网格"),
        "the walk reads the read models"
    );
    let logs = yuekang_tests::captured_logs();
    assert!(
        logs.contains("/v1/grids/{grid_id}/visits"),
        "the capture holds this test's request lines"
    );
    for clear in ["李解散", "E12345678", "13800138000", "解散路", "发热三天"] {
        assert!(events.iter().all(|e| !e.payload.contains(clear)), "{clear}");
        assert!(!export.contains(clear), "{clear} in the export");
        assert!(!tables.contains(clear), "{clear} in a table");
        assert!(!logs.contains(clear), "{clear} in a log line");
    }
    let report = app.state.store.verify_reaching(0).await.expect("verify");
    assert!(report.ok, "{report:?}");
    // Every grid data route is gone.
    let token = app.get_json(&worker, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let gone = |(status, problem): (u16, Value)| {
        assert_eq!(status, 410, "{problem}");
        assert_eq!(problem["code"], "grid.dissolved");
    };
    gone(visit(&app, &worker, &grid, manual).await);
    for (token, route) in [
        (&admin, "stats"),
        (&admin, "key-persons"),
        (
            &admin,
            &format!("persons/{}/declarations", uuid::Uuid::new_v4()),
        ),
    ] {
        gone(
            body(
                app.get_as(token, &format!("/v1/grids/{grid_id}/{route}"))
                    .await,
            )
            .await,
        );
    }
    gone(
        body(
            app.get_as(&worker, &format!("/v1/me/grids/{grid_id}/stats"))
                .await,
        )
        .await,
    );
    gone(scan_in(&app, &worker, &grid, &token).await);
    gone(bind(&app, &worker, &code).await);
    gone(
        body(
            app.patch_json_as(
                &admin,
                &format!("/v1/grids/{grid_id}"),
                &json!({"name": "新"}),
            )
            .await,
        )
        .await,
    );
    gone(
        body(
            app.post_json_as(
                &town_admin,
                &format!("/v1/grids/{grid_id}/confirmation"),
                &json!({}),
            )
            .await,
        )
        .await,
    );
    // Dissolving again changes nothing; the admin may create another grid, with a new code.
    let (status, _) = body(
        app.post_json_as(&admin, &path, &json!({"confirm_code": code}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, next) = create(&app, &admin, "441900003").await;
    assert_eq!(status, 201, "{next}");
    assert_ne!(next["code"], json!(code));
    let mine = app
        .get_json(
            &worker,
            &format!("/v1/me/grids?min_position={}", next["position"]),
        )
        .await;
    assert_eq!(mine["items"][0]["status"], "dissolved", "{mine}");
    app.stop().await;
}

async fn a_handover_token_moves_the_grid_to_the_named_successor_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, admin, worker, _) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let successor_id = resident(60);
    let (successor, successor_person) = app.login(&successor_id, "继任者").await;
    let (stranger, _) = sign_in(&app, 61).await;
    let offer = |token: String| {
        let app = &app;
        let path = format!("/v1/grids/{grid_id}/handovers");
        let successor_id = successor_id.clone();
        async move {
            body(
                app.post_json_as(
                    &token,
                    &path,
                    &json!({"successor_name": "继任者", "successor_document": {"type": "resident_id", "number": successor_id}}),
                )
                .await,
            )
            .await
        }
    };
    let accept = |token: String, handover: Value| {
        let app = &app;
        async move {
            body(
                app.post_json_as(
                    &token,
                    "/v1/grid-handovers/acceptance",
                    &json!({"handover_token": handover}),
                )
                .await,
            )
            .await
        }
    };
    // Only the admin issues a token.
    let (status, _) = offer(worker.clone()).await;
    assert_eq!(status, 403);
    let (status, first) = offer(admin.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert!(
        first["qr_svg"].as_str().expect("svg").starts_with("<?xml")
            || first["qr_svg"].as_str().expect("svg").contains("<svg")
    );
    let events = app.state.store.read_all(0, 10_000).await.expect("events");
    let token = first["handover_token"].as_str().expect("token");
    assert!(
        events.iter().all(|e| !e.payload.contains(token)),
        "only a hash is kept"
    );
    // A new token voids the old one.
    let (_, second) = offer(admin.clone()).await;
    let (status, problem) = accept(successor.clone(), first["handover_token"].clone()).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("handover.invalid_token"))
    );
    // Another person is refused.
    let (status, _) = accept(stranger.clone(), second["handover_token"].clone()).await;
    assert_eq!(status, 403);
    // The named successor accepts once; the grid is theirs.
    let (status, accepted) = accept(successor.clone(), second["handover_token"].clone()).await;
    assert_eq!(status, 200, "{accepted}");
    let (status, problem) = accept(successor.clone(), second["handover_token"].clone()).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("handover.invalid_token"))
    );
    let me = app
        .get_json(
            &successor,
            &format!("/v1/me?min_position={}", accepted["position"]),
        )
        .await;
    assert!(
        me["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r["role"] == "grid_admin" && r["scope"] == grid_id.as_str()),
        "{me}"
    );
    let worker_id = app.get_json(&worker, "/v1/me").await["person_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let authorisation = format!("/v1/grids/{grid_id}/workers/{worker_id}/authorisation");
    let (status, _) = body(app.put_json_as(&admin, &authorisation, &json!({})).await).await;
    assert_eq!(status, 403, "the old admin lost the grid");
    let (status, _) = body(
        app.put_json_as(&successor, &authorisation, &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    // The old admin may create a grid again.
    let (status, _) = create(&app, &admin, "441900004").await;
    assert_eq!(status, 201);
    // A token expires after 24 hours.
    let (status, third) = offer(successor.clone()).await;
    assert_eq!(status, 201, "{third}");
    let _ = successor_person;
    app.clock.advance(time::Duration::hours(25));
    let (someone, _) = app.login(&successor_id, "继任者").await;
    let (status, problem) = accept(someone, third["handover_token"].clone()).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("handover.expired")),
        "{problem}"
    );
    app.stop().await;
}

async fn only_authorised_workers_see_all_declarations_of_a_visited_person(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, admin, worker, town_admin) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let (citizen, citizen_id) = sign_in(&app, 3).await;
    for t in [36.5, 37.9] {
        let (status, _) = body(
            app.post_json_as(
                &citizen,
                "/v1/declarations",
                &json!({"temperature_c": t, "region": "441900003"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201);
    }
    let path = format!("/v1/grids/{grid_id}/persons/{citizen_id}/declarations");
    // Not visited yet.
    let (status, problem) = body(app.get_as(&admin, &path).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("grid.not_visited"))
    );
    let token = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, seen) = scan_in(&app, &worker, &grid, &token).await;
    let (status, recorded) = visit(
        &app,
        &worker,
        &grid,
        json!({"scan_id": seen["scan_id"], "band": "normal"}),
    )
    .await;
    assert_eq!(status, 201, "{recorded}");
    let at = format!("{path}?min_position={}", recorded["position"]);
    // An unauthorised worker and a region admin may not; the grid admin and authorised may.
    for token in [&worker, &town_admin] {
        let (status, problem) = body(app.get_as(token, &at).await).await;
        assert_eq!(status, 403, "{problem}");
    }
    let (status, all) = body(app.get_as(&admin, &at).await).await;
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{all}");
    assert!(items
        .iter()
        .all(|d| d.get("org_id").is_none() && d.get("filed_by").is_none()));
    authorise(&app, &admin, &grid_id, &worker).await;
    let head = app.state.store.last_position().await.expect("head");
    let (status, mine) = body(
        app.get_as(&worker, &format!("{path}?min_position={head}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{mine}");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    assert!(
        log["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["accessor"]["kind"] == "grid" && i["data"] == "declarations"),
        "{log}"
    );
    app.stop().await;
}

async fn grid_statistics_count_visits_per_worker_and_day_without_personal_data(db: TestDatabase) {
    // k = 1 shows every count as it is: this test is about the counting (the suppression of
    // small counts is the region test's and the pages test's).
    let app = TestApp::spawn_with(db, |s| s.k_anonymity = 1).await;
    let (grid, admin, worker, town_admin) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let stats = format!("/v1/grids/{grid_id}/stats");
    let mine = format!("/v1/me/grids/{grid_id}/stats");
    let (idle, _) = sign_in(&app, 6).await;
    let (status, _) = bind(&app, &idle, grid["code"].as_str().expect("code")).await;
    assert_eq!(status, 201);
    let worker_id = authorise(&app, &admin, &grid_id, &worker).await;
    // Yesterday: one feverish visit with symptoms, entered by hand.
    let manual = |name: &str, number: &str| json!({"manual": {"name": name, "document": {"type": "birth_certificate", "number": number}, "address": "东城街道1号"}});
    let mut fever = manual("王小", "A123456789");
    fever["temperature_c"] = json!(37.9);
    fever["symptoms"] = json!(["cough"]);
    let (status, recorded) = visit(&app, &worker, &grid, fever).await;
    assert_eq!(status, 201, "{recorded}");
    let yesterday = app
        .get_json(
            &admin,
            &format!("{stats}?min_position={}", recorded["position"]),
        )
        .await["date"]
        .as_str()
        .expect("date")
        .to_owned();
    // Workers and region admins may not see the grid's figures.
    for token in [&worker, &town_admin] {
        let (status, _) = body(app.get_as(token, &stats).await).await;
        assert_eq!(status, 403);
    }
    app.clock.advance(time::Duration::days(1));
    let (worker, _) = sign_in(&app, 2).await;
    let (admin, _) = sign_in(&app, 1).await;
    let (idle, _) = sign_in(&app, 6).await;
    // Today: a scan visit and a manual one, both normal.
    let (citizen, _) = sign_in(&app, 3).await;
    let token = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, seen) = scan_in(&app, &worker, &grid, &token).await;
    let (status, _) = visit(
        &app,
        &worker,
        &grid,
        json!({"scan_id": seen["scan_id"], "band": "normal"}),
    )
    .await;
    assert_eq!(status, 201);
    let mut normal = manual("李大", "B123456789");
    normal["band"] = json!("normal");
    let (status, recorded) = visit(&app, &worker, &grid, normal).await;
    assert_eq!(status, 201, "{recorded}");
    let at = format!("?min_position={}", recorded["position"]);
    let (status, today) = body(app.get_as(&admin, &format!("{stats}{at}")).await).await;
    assert_eq!(status, 200, "{today}");
    let text = today.to_string();
    for secret in ["王小", "李大", "A123456789", "东城街道"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert_eq!(
        (
            &today["workers"],
            &today["authorised"],
            &today["visits_today"],
            &today["visits_total"]
        ),
        (&json!(2), &json!(1), &json!(2), &json!(3)),
        "{today}"
    );
    let per_worker = today["per_worker"].as_array().expect("per worker");
    assert_eq!(per_worker.len(), 2, "{today}");
    let of = |id: &str| {
        per_worker
            .iter()
            .find(|w| w["worker"] == id)
            .cloned()
            .expect("a row per bound worker")
    };
    assert_eq!(
        (
            of(&worker_id)["today"].clone(),
            of(&worker_id)["total"].clone()
        ),
        (json!(2), json!(3))
    );
    let series = today["series"].as_array().expect("series");
    assert_eq!(series.len(), 14);
    assert_eq!(series[13]["date"], today["date"]);
    assert_eq!(
        (
            &series[13]["visits"],
            &series[13]["fever"],
            &series[13]["symptoms"]
        ),
        (&json!(2), &json!(0), &json!(0))
    );
    assert_eq!(series[12]["date"], yesterday.as_str());
    assert_eq!(
        (
            &series[12]["visits"],
            &series[12]["fever"],
            &series[12]["symptoms"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );
    // A past day counts what was known up to its end.
    let (status, before) = body(
        app.get_as(&admin, &format!("{stats}?date={yesterday}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        (&before["visits_today"], &before["visits_total"]),
        (&json!(1), &json!(1))
    );
    // The worker sees their own counts; an idle worker zeros.
    let (status, own) = body(app.get_as(&worker, &format!("{mine}{at}")).await).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!((&own["today"], &own["total"]), (&json!(2), &json!(3)));
    let (status, own) = body(app.get_as(&idle, &mine).await).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!((&own["today"], &own["total"]), (&json!(0), &json!(0)));
    // The admin is not a worker, and a future date or an unknown grid is refused.
    let (status, _) = body(app.get_as(&admin, &mine).await).await;
    assert_eq!(status, 403);
    let (stranger, _) = sign_in(&app, 7).await;
    let (status, _) = body(app.get_as(&stranger, &mine).await).await;
    assert_eq!(status, 403);
    let (status, problem) = body(
        app.get_as(&admin, &format!("{stats}?date=2999-01-01"))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let unknown = format!("/v1/grids/{}/stats", uuid::Uuid::new_v4());
    let (status, problem) = body(app.get_as(&admin, &unknown).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("grid.unknown"))
    );
    app.stop().await;
}

async fn region_admins_list_the_grids_of_their_region_and_those_inside_it(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    // Province admin serial 10, Dongguan admin 11, town 441900003 admin 12.
    let (grid, _, worker, town_admin) = grid_with_worker(&app, true).await;
    let (province, _) = app.login(&resident(10), "张省").await;
    let (city, _) = app.login(&resident(11), "王官").await;
    let (other_admin, _) = sign_in(&app, 20).await;
    let (_, pending) = create(&app, &other_admin, "441900004").await;
    let mut by_hand = json!({"manual": {"name": "王小", "document": {"type": "birth_certificate", "number": "A123456789"}, "address": "东城街道1号"}});
    by_hand["band"] = json!("normal");
    let (status, recorded) = visit(&app, &worker, &grid, by_hand).await;
    assert_eq!(status, 201, "{recorded}");
    let at = format!("min_position={}", recorded["position"]);
    let list = |token: &str, path: String| {
        let app = &app;
        let token = token.to_owned();
        async move { body(app.get_as(&token, &path).await).await }
    };
    // The town admin sees the town's grid with its figures, no personal data.
    let (status, town) = list(&town_admin, format!("/v1/regions/441900003/grids?{at}")).await;
    assert_eq!(status, 200, "{town}");
    let items = town["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{town}");
    assert_eq!(items[0]["grid_id"], grid["grid_id"]);
    assert_eq!(
        (
            &items[0]["status"],
            &items[0]["workers"],
            &items[0]["authorised"],
            &items[0]["visits_today"],
            &items[0]["visits_total"]
        ),
        (
            &json!("active"),
            &json!(1),
            &json!(0),
            &json!("<5"),
            &json!("<5")
        ),
        "one person visited is shown as fewer than five: {town}"
    );
    for secret in ["王小", "A123456789", "东城街道"] {
        assert!(!town.to_string().contains(secret), "{town}");
    }
    // The city and the province see both towns' grids; a status filters them.
    for token in [&city, &province] {
        let (status, all) = list(token, format!("/v1/regions/4419/grids?{at}")).await;
        assert_eq!(status, 200, "{all}");
        assert_eq!(all["items"].as_array().expect("items").len(), 2, "{all}");
    }
    let (status, waiting) =
        list(&city, format!("/v1/regions/4419/grids?status=pending&{at}")).await;
    assert_eq!(status, 200, "{waiting}");
    let items = waiting["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{waiting}");
    assert_eq!(items[0]["grid_id"], pending["grid_id"]);
    let (status, everything) = list(&province, format!("/v1/regions/44/grids?{at}")).await;
    assert_eq!(status, 200);
    assert_eq!(everything["items"].as_array().expect("items").len(), 2);
    // As CSV: a header and a row per grid.
    let response = app
        .get_as(&city, &format!("/v1/regions/4419/grids.csv?{at}"))
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let csv = response.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("grid_id,code,region,name,status"),
        "{csv}"
    );
    assert!(lines.iter().any(|l| l.contains(",pending,")), "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(",active,") || l.contains(",<5,<5")),
        "the CSV suppresses small counts too: {csv}"
    );
    // A day before the grids existed lists none.
    let today = time::Date::parse(
        town["date"].as_str().expect("date"),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .expect("date");
    let before = today - time::Duration::days(1);
    let (status, none) = list(&city, format!("/v1/regions/4419/grids?date={before}")).await;
    assert_eq!(status, 200, "{none}");
    assert_eq!(none["items"], json!([]), "{none}");
    // A dissolved grid is listed as such.
    let (status, _) = body(
        app.post_json_as(
            &other_admin,
            &format!(
                "/v1/grids/{}/dissolution",
                pending["grid_id"].as_str().expect("grid")
            ),
            &json!({"confirm_code": pending["code"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let head = app.state.store.last_position().await.expect("head");
    let (_, gone) = list(
        &city,
        format!("/v1/regions/4419/grids?status=dissolved&min_position={head}"),
    )
    .await;
    assert_eq!(gone["items"][0]["grid_id"], pending["grid_id"], "{gone}");
    // Nobody else: a sibling town's admin, a town admin asking for the city, a Guangzhou
    // admin, a grid admin; bad codes and statuses are refused.
    let guangzhou = {
        let id = resident(30);
        let (gz, _) = app.login(&id, "李官").await;
        let (status, _) = body(
            app.post_json_as(
                &province,
                "/v1/regions/4401/admins",
                &json!({"document": {"type": "resident_id", "number": id}, "name": "李官"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201);
        gz
    };
    for (token, region) in [
        (&town_admin, "441900004"),
        (&town_admin, "4419"),
        (&guangzhou, "4419"),
        (&other_admin, "441900004"),
    ] {
        let (status, problem) = list(token, format!("/v1/regions/{region}/grids")).await;
        assert_eq!(status, 403, "{region}: {problem}");
        let (status, _) = list(token, format!("/v1/regions/{region}/grids.csv")).await;
        assert_eq!(status, 403, "{region}");
    }
    let (status, problem) = list(&city, "/v1/regions/4419/grids?status=open".into()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "status", "{problem}");
    let (status, problem) = list(&province, "/v1/regions/449999/grids".into()).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("region.unknown"))
    );
    let (status, _) = list(&province, "/v1/regions/abc/grids".into()).await;
    assert_eq!(status, 422);
    app.stop().await;
}

async fn the_scanning_worker_sees_the_latest_declaration_for_30_minutes(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, admin, worker, _) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let (citizen, _) = sign_in(&app, 3).await;
    let token = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, seen) = scan_in(&app, &worker, &grid, &token).await;
    let path = format!(
        "/v1/scans/{}/declaration",
        seen["scan_id"].as_str().expect("scan")
    );
    let (status, problem) = body(app.get_as(&worker, &path).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("declaration.none"))
    );
    for t in [36.5, 37.9] {
        let (status, _) = body(
            app.post_json_as(
                &citizen,
                "/v1/declarations",
                &json!({"temperature_c": t, "region": "441900003"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201);
    }
    // The worker is bound but not authorised: the latest declaration, health facts only.
    let head = app.state.store.last_position().await.expect("head");
    let (status, latest) = body(
        app.get_as(&worker, &format!("{path}?min_position={head}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{latest}");
    assert_eq!(
        (&latest["temperature_c"], &latest["band"]),
        (&json!(37.9), &json!("fever"))
    );
    assert!(latest.get("org_id").is_none() && latest.get("filed_by").is_none());
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    assert_eq!(log["items"][0]["accessor"]["kind"], "grid", "{log}");
    assert_eq!(log["items"][0]["accessor"]["grid_id"], grid_id.as_str());
    assert_eq!(log["items"][0]["data"], "declarations", "{log}");
    // Only the worker who scanned: not another worker, not the grid's admin.
    let (other, _) = sign_in(&app, 5).await;
    bind(&app, &other, grid["code"].as_str().expect("code")).await;
    for token in [&other, &admin] {
        let (status, problem) = body(app.get_as(token, &path).await).await;
        assert_eq!(status, 403, "{problem}");
    }
    // After recording the visit, still until 30 minutes after the scan; then expired.
    let (status, _) = visit(
        &app,
        &worker,
        &grid,
        json!({"scan_id": seen["scan_id"], "band": "normal"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = body(app.get_as(&worker, &path).await).await;
    assert_eq!(status, 200);
    app.clock.advance(time::Duration::minutes(31));
    let (worker, worker_id) = sign_in(&app, 2).await;
    let (status, problem) = body(app.get_as(&worker, &path).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("scan.expired"))
    );
    // Unbound, a fresh scan shows nothing either.
    let (_, again) = scan_in(&app, &worker, &grid, &token).await;
    let fresh = format!(
        "/v1/scans/{}/declaration",
        again["scan_id"].as_str().expect("scan")
    );
    let (admin, _) = sign_in(&app, 1).await;
    let (status, _) = body(
        app.delete_as(&admin, &format!("/v1/grids/{grid_id}/workers/{worker_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = body(app.get_as(&worker, &fresh).await).await;
    assert_eq!(status, 403);
    let (status, _) = body(
        app.get_as(
            &worker,
            &format!("/v1/scans/{}/declaration", uuid::Uuid::new_v4()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// The grid's admin authorises the worker signed in with `worker`; answers the worker's id.
pub(crate) async fn authorise(app: &TestApp, admin: &str, grid_id: &str, worker: &str) -> String {
    let worker_id = app.get_json(worker, "/v1/me").await["person_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, answer) = body(
        app.put_json_as(
            admin,
            &format!("/v1/grids/{grid_id}/workers/{worker_id}/authorisation"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    worker_id
}

fn red_hit(record_id: &str, n: u32, name: &str, region: &str, action: &str) -> Value {
    json!({
        "record_id": record_id,
        "document": {"type": "resident_id", "number": resident(n)},
        "name": name,
        "reason": "close_contact",
        "action": action,
        "effective_at": "2026-03-01T10:00:00+08:00",
        "region": region,
    })
}

async fn key_persons_are_feverish_visits_and_red_codes_inside_the_grid(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, admin, worker, town_admin) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let path = format!("/v1/grids/{grid_id}/key-persons");
    // A feverish scanned visit, a normal one, and a coughing person entered by hand.
    let mut scanned = Vec::new();
    for (n, reading) in [
        (3, json!({"temperature_c": 37.9})),
        (4, json!({"band": "normal"})),
    ] {
        let (citizen, id) = sign_in(&app, n).await;
        let token = app.get_json(&citizen, "/v1/me/code").await["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let (_, seen) = scan_in(&app, &worker, &grid, &token).await;
        let mut visit_body = reading;
        visit_body["scan_id"] = seen["scan_id"].clone();
        let (status, answer) = visit(&app, &worker, &grid, visit_body).await;
        assert_eq!(status, 201, "{answer}");
        scanned.push(id);
    }
    let (status, _) = visit(
        &app,
        &worker,
        &grid,
        json!({"manual": {"name": "王小明", "document": {"type": "birth_certificate", "number": "A123456789"}, "phone": "13912345678", "address": "东城街道1号"}, "band": "normal", "symptoms": ["cough"]}),
    )
    .await;
    assert_eq!(status, 201);
    // Red codes: the feverish person (inside the town), someone not registered (inside), one
    // in another town, and one released.
    let feed_token = app.service_token("feed").await;
    let (status, fed) = body(
        app.post_json_as(
            &feed_token,
            "/v1/feed/batches",
            &json!({"records": [
                red_hit("r1", 3, "张三", "441900003", "hit"),
                red_hit("r2", 40, "赵红梅", "441900003", "hit"),
                red_hit("r3", 41, "钱多", "441900004", "hit"),
                red_hit("r4", 42, "孙少", "441900003", "hit"),
            ]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    let (status, fed) = body(
        app.post_json_as(
            &feed_token,
            "/v1/feed/batches",
            &json!({"records": [red_hit("r5", 42, "孙少", "441900003", "release")]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    let at = format!("min_position={}", fed["position"]);
    // Not for an unauthorised worker nor a region admin.
    for token in [&worker, &town_admin] {
        let (status, problem) = body(app.get_as(token, &format!("{path}?{at}")).await).await;
        assert_eq!(status, 403, "{problem}");
    }
    let (status, list) = body(app.get_as(&admin, &format!("{path}?{at}")).await).await;
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{list}");
    let text = list.to_string();
    for secret in ["王小明", "13912345678", "赵红梅", "A123456789", "东城街道"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let feverish = items
        .iter()
        .find(|p| p["person_id"] == scanned[0].as_str())
        .expect("the feverish person");
    let mut labels: Vec<&str> = feverish["reason_labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| l.as_str().expect("label"))
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, vec!["发热", "密切接触者"], "{list}");
    assert!(feverish["name_masked"]
        .as_str()
        .expect("name")
        .contains('*'));
    assert!(items.iter().all(|p| p["person_id"] != scanned[1].as_str()));
    let by_hand = items
        .iter()
        .find(|p| p["reason_labels"] == json!(["有症状"]))
        .expect("the person entered by hand");
    assert_eq!(by_hand["person_id"], Value::Null);
    assert_eq!(by_hand["name_masked"], "王*明");
    assert_eq!(by_hand["phone_masked"], "139****5678");
    let unregistered = items
        .iter()
        .find(|p| p["person_id"].is_null() && p["reason_labels"] == json!(["密切接触者"]))
        .expect("the red-coded person not registered");
    assert_eq!(unregistered["name_masked"], "赵*梅");
    let (citizen, _) = sign_in(&app, 3).await;
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    assert!(
        log["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| { i["accessor"]["kind"] == "grid" && i["data"] == "profile" }),
        "{log}"
    );
    // Paged.
    let (status, first) = body(app.get_as(&admin, &format!("{path}?limit=2&{at}")).await).await;
    assert_eq!(status, 200);
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let (_, rest) = body(
        app.get_as(
            &admin,
            &format!(
                "{path}?limit=2&after={}",
                first["next"].as_str().expect("next")
            ),
        )
        .await,
    )
    .await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 1, "{rest}");
    assert_eq!(rest["next"], Value::Null);
    // An authorised worker sees it too; 15 days later only the red code remain.
    authorise(&app, &admin, &grid_id, &worker).await;
    let head = app.state.store.last_position().await.expect("head");
    let (status, seen) = body(
        app.get_as(&worker, &format!("{path}?min_position={head}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["items"].as_array().expect("items").len(), 3);
    app.clock.advance(time::Duration::days(15));
    let (admin, _) = sign_in(&app, 1).await;
    let (_, later) = body(app.get_as(&admin, &path).await).await;
    let mut labels: Vec<String> = later["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["reason_labels"].to_string())
        .collect();
    labels.sort_unstable();
    assert_eq!(
        labels,
        vec!["[\"密切接触者\"]", "[\"密切接触者\"]"],
        "{later}"
    );
    app.stop().await;
}

async fn a_visit_racing_an_unbinding_never_lands_after_it(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (grid, admin, _, _) = grid_with_worker(&app, true).await;
    let grid_id = grid["grid_id"].as_str().expect("grid").to_owned();
    let code = grid["code"].as_str().expect("code").to_owned();
    let (mut landed, mut refused) = (0, 0);
    for n in 0..8 {
        let (worker, worker_id) = sign_in(&app, 50 + n).await;
        let (status, _) = bind(&app, &worker, &code).await;
        assert_eq!(status, 201);
        let by_hand = json!({"manual": {"name": "王小", "document": {"type": "birth_certificate", "number": "A123456789"}, "address": "东城街道1号"}, "band": "normal"});
        let unbind = format!("/v1/grids/{grid_id}/workers/{worker_id}");
        let ((visit_status, visited), (unbind_status, unbound)) =
            tokio::join!(visit(&app, &worker, &grid, by_hand), async {
                body(app.delete_as(&admin, &unbind).await).await
            },);
        assert_eq!(unbind_status, 200, "{unbound}");
        match visit_status {
            201 => {
                landed += 1;
                let (at, unbound_at) = (
                    visited["position"].as_u64().expect("position"),
                    unbound["position"].as_u64().expect("position"),
                );
                assert!(
                    at < unbound_at,
                    "a visit acknowledged after its worker was unbound"
                );
            }
            403 => refused += 1,
            other => panic!("unexpected {other}: {visited}"),
        }
        // Afterwards, never.
        let (status, _) = visit(
            &app,
            &worker,
            &grid,
            json!({"manual": {"name": "王小", "document": {"type": "birth_certificate", "number": "A123456789"}, "address": "东城街道1号"}, "band": "normal"}),
        )
        .await;
        assert_eq!(status, 403);
    }
    assert_eq!(landed + refused, 8);
    app.stop().await;
}
