//! Black-box tests of the organisation routes, on SQLite and PostgreSQL: registration and
//! the one-admin-one-org race, declaration codes, bindings, the weekly edit limit at the
//! week's edges, declarations for bound orgs, and the admin dashboard.

use domain::code::{BindingCode, CodeKind};
use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use time::macros::datetime;
use yuekang_tests::{body, TestApp};

event_store::backend_tests!(
    an_admin_registers_one_org_and_gets_a_checked_code,
    sixteen_concurrent_registrations_by_one_admin_make_one_org,
    registration_refuses_bad_fields_naming_them,
    members_bind_with_the_code_list_and_unbind,
    codes_of_other_kinds_and_typos_are_refused_before_lookup,
    the_admin_edits_once_per_natural_week,
    the_week_turns_at_monday_midnight_cst,
    only_the_admin_edits_and_sees_the_dashboard,
    declarations_need_a_binding_and_feed_the_dashboard,
    concurrent_edits_in_one_week_make_one_change,
    a_retried_registration_has_its_effect_once,
    a_guardian_binds_a_family_member,
);

const ADMIN: &str = "44010619900307001X";
const MEMBER: &str = "440305198511200028";
const OTHER: &str = "110101197001010040";

fn org() -> Value {
    json!({"name": "天河区示例科技有限公司", "address": "广州市天河区体育西路1号", "level": "440106", "phone": "13912345678"})
}

async fn register(app: &TestApp, token: &str) -> Value {
    let (status, created) = body(app.post_json_as(token, "/v1/orgs", &org()).await).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn an_admin_registers_one_org_and_gets_a_checked_code(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let code = created["code"].as_str().expect("code");
    assert_eq!(code.len(), 8);
    assert!(code.starts_with('1'));
    assert!(
        BindingCode::parse_kind(code, CodeKind::Org, "code").is_ok(),
        "the check digit holds"
    );
    assert!(created["org_id"].is_string() && created["position"].is_u64());
    let (status, problem) = body(app.post_json_as(&admin, "/v1/orgs", &org()).await).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "org.admin_has_org");
    assert_eq!(problem["org_id"], created["org_id"]);
    let me = app
        .get_json(
            &admin,
            &format!("/v1/me?min_position={}", created["position"]),
        )
        .await;
    assert!(me["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .any(|r| r["role"] == "org_admin" && r["scope"] == created["org_id"]));
    // Another admin gets another org and another code.
    let (other, _) = app.login(OTHER, "王五").await;
    let second = register(&app, &other).await;
    assert_ne!(second["code"], created["code"]);
    app.stop().await;
}

async fn sixteen_concurrent_registrations_by_one_admin_make_one_org(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let requests = (0..16).map(|_| body_of(&app, &admin));
    let answers = futures_util::future::join_all(requests).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "org.admin_has_org")
        .count();
    assert_eq!((created, refused), (1, 15), "{answers:?}");
    let events = app.state.store.read_all(0, 1000).await.expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "OrgRegistered")
            .count(),
        1
    );
    app.stop().await;
}

async fn body_of(app: &TestApp, token: &str) -> (u16, Value) {
    body(app.post_json_as(token, "/v1/orgs", &org()).await).await
}

async fn registration_refuses_bad_fields_naming_them(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let after_login = app.state.store.last_position().await.expect("head");
    let (status, problem) = body(
        app.post_json_as(
            &admin,
            "/v1/orgs",
            &json!({"name": "", "address": "某地", "level": "galaxy", "phone": "12345"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["name", "level", "phone"]);
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        after_login,
        "only the login's events"
    );
    app.stop().await;
}

async fn bind(app: &TestApp, token: &str, code: &str) -> (u16, Value) {
    body(
        app.post_json_as(token, "/v1/org-bindings", &json!({ "code": code }))
            .await,
    )
    .await
}

async fn members_bind_with_the_code_list_and_unbind(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (other_admin, _) = app.login(OTHER, "王五").await;
    let first = register(&app, &admin).await;
    let second = register(&app, &other_admin).await;
    let (member, _) = app.login(MEMBER, "李四").await;
    let (status, bound) = bind(&app, &member, first["code"].as_str().expect("code")).await;
    assert_eq!(status, 201, "{bound}");
    assert_eq!(bound["org_id"], first["org_id"]);
    let (status, again) = bind(&app, &member, first["code"].as_str().expect("code")).await;
    assert_eq!(status, 200, "binding twice is a no-op answer");
    assert_eq!(again["already_bound"], true);
    assert_eq!(again["org_id"], first["org_id"]);
    let (status, _) = bind(&app, &member, second["code"].as_str().expect("code")).await;
    assert_eq!(status, 201, "a member binds many orgs");
    let head = app.state.store.last_position().await.expect("head");
    let mine = app
        .get_json(&member, &format!("/v1/me/orgs?min_position={head}"))
        .await;
    let ids: Vec<&Value> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| &o["org_id"])
        .collect();
    assert_eq!(ids, [&first["org_id"], &second["org_id"]]);
    assert_eq!(mine["items"][0]["name"], "天河区示例科技有限公司");
    let org_id = first["org_id"].as_str().expect("id");
    let (status, unbound) = body(
        app.delete_as(&member, &format!("/v1/me/orgs/{org_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{unbound}");
    let mine = app
        .get_json(
            &member,
            &format!("/v1/me/orgs?min_position={}", unbound["position"]),
        )
        .await;
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    let (status, problem) = body(
        app.delete_as(&member, &format!("/v1/me/orgs/{org_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "org.not_bound");
    app.stop().await;
}

async fn codes_of_other_kinds_and_typos_are_refused_before_lookup(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let (member, _) = app.login(MEMBER, "李四").await;
    let venue = BindingCode::new(CodeKind::Venue, 123_456).to_string();
    let (status, problem) = bind(&app, &member, &venue).await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["code"], "code.wrong_kind",
        "the rule is the problem's code"
    );
    assert_eq!(problem["errors"][0]["field"], "code");
    assert_eq!(problem["errors"][0]["code"], "code.wrong_kind");
    assert!(problem["errors"][0]["detail"]
        .as_str()
        .expect("detail")
        .contains("venue code"));
    let grid = BindingCode::new(CodeKind::Grid, 123_456).to_string();
    let (status, problem) = bind(&app, &member, &grid).await;
    assert_eq!(status, 422);
    assert!(problem["errors"][0]["detail"]
        .as_str()
        .expect("detail")
        .contains("grid code"));
    // One mistyped digit: caught by the check digit.
    let code = created["code"].as_str().expect("code");
    let mut typo: Vec<u8> = code.bytes().collect();
    typo[4] = if typo[4] == b'9' { b'0' } else { typo[4] + 1 };
    let (status, problem) = bind(&app, &member, std::str::from_utf8(&typo).expect("digits")).await;
    assert_eq!(status, 422);
    assert_eq!(problem["code"], "code.check_digit");
    let (status, problem) = bind(&app, &member, "1234").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "code.format");
    // Well formed, never assigned.
    let unknown = (0..1_000_000)
        .map(|n| BindingCode::new(CodeKind::Org, n).to_string())
        .find(|c| c != code)
        .expect("another code");
    let (status, problem) = bind(&app, &member, &unknown).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "org.unknown_code");
    app.stop().await;
}

async fn patch(app: &TestApp, token: &str, org_id: &str, changes: Value) -> (u16, Value) {
    body(
        app.patch_json_as(token, &format!("/v1/orgs/{org_id}"), &changes)
            .await,
    )
    .await
}

async fn the_admin_edits_once_per_natural_week(db: TestDatabase) {
    let app = TestApp::spawn(db).await; // Monday 2026-03-02 09:00 CST
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let org_id = created["org_id"].as_str().expect("id");
    let (status, edited) = patch(
        &app,
        &admin,
        org_id,
        json!({"name": "新名字有限公司", "phone": "13800001111"}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    let mine = app
        .get_json(
            &admin,
            &format!(
                "/v1/orgs/{org_id}/stats?min_position={}",
                edited["position"]
            ),
        )
        .await;
    assert_eq!(mine["org_id"], org_id);
    app.clock.set(datetime!(2026-03-08 23:59:59 +08:00));
    let (admin, _) = app.login(ADMIN, "张三强").await; // sessions last 12 h
    let (status, problem) = patch(&app, &admin, org_id, json!({"address": "广州市越秀区"})).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "org.weekly_edit_limit");
    assert_eq!(problem["next_allowed_at"], "2026-03-09T00:00:00+08:00");
    app.clock.set(datetime!(2026-03-09 00:00:00 +08:00));
    let (admin, _) = app.login(ADMIN, "张三强").await; // sessions last 12 h
    let (status, _) = patch(&app, &admin, org_id, json!({"address": "广州市越秀区"})).await;
    assert_eq!(status, 200, "a new week");
    let (status, problem) = patch(&app, &admin, org_id, json!({})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "org.nothing_to_change");
    let (status, problem) = patch(&app, &admin, org_id, json!({"level": "galaxy"})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "level");
    app.stop().await;
}

async fn the_week_turns_at_monday_midnight_cst(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let org_id = created["org_id"].as_str().expect("id");
    app.clock.set(datetime!(2026-03-08 12:00 +08:00)); // Sunday noon CST
    let (admin, _) = app.login(ADMIN, "张三强").await; // sessions last 12 h
    let (status, _) = patch(&app, &admin, org_id, json!({"level": "city"})).await;
    assert_eq!(status, 200);
    // Monday 00:30 CST is Sunday 16:30 UTC: a new natural week in China.
    app.clock.set(datetime!(2026-03-08 16:30 UTC));
    let (admin, _) = app.login(ADMIN, "张三强").await; // sessions last 12 h
    let (status, edited) = patch(&app, &admin, org_id, json!({"level": "county"})).await;
    assert_eq!(status, 200, "{edited}");
    let (status, problem) = patch(&app, &admin, org_id, json!({"level": "town"})).await;
    assert_eq!(status, 409);
    assert_eq!(problem["next_allowed_at"], "2026-03-16T00:00:00+08:00");
    app.stop().await;
}

async fn only_the_admin_edits_and_sees_the_dashboard(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let org_id = created["org_id"].as_str().expect("id");
    let (member, _) = app.login(MEMBER, "李四").await;
    bind(&app, &member, created["code"].as_str().expect("code")).await;
    let (status, _) = patch(&app, &member, org_id, json!({"name": "篡改"})).await;
    assert_eq!(status, 403);
    let head = app.state.store.last_position().await.expect("head");
    let (status, _) = body(
        app.get_as(
            &member,
            &format!("/v1/orgs/{org_id}/stats?min_position={head}"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = body(
        app.get_as(&member, &format!("/v1/orgs/{org_id}/stats.csv"))
            .await,
    )
    .await;
    assert_eq!(status, 403);
    let missing = uuid::Uuid::new_v4();
    let (status, _) = patch(&app, &admin, &missing.to_string(), json!({"name": "x"})).await;
    assert_eq!(status, 404);
    let (status, _) = body(
        app.get_as(&admin, &format!("/v1/orgs/{missing}/stats"))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

fn declaration(org_id: &str, temperature: f64, symptoms: Value) -> Value {
    json!({"org_id": org_id, "temperature_c": temperature, "symptoms": symptoms, "contact_14d": false, "visited": [], "region": "440106"})
}

async fn declarations_need_a_binding_and_feed_the_dashboard(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    app.clock.set(datetime!(2026-03-01 08:00 +08:00)); // Sunday
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let org_id = created["org_id"].as_str().expect("id").to_owned();
    let code = created["code"].as_str().expect("code").to_owned();
    let (member, _) = app.login(MEMBER, "李四").await;
    let (other, _) = app.login(OTHER, "王五").await;
    // Not bound yet: refused; an unknown org likewise.
    let (status, problem) = body(
        app.post_json_as(
            &member,
            "/v1/declarations",
            &declaration(&org_id, 36.5, json!([])),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "org.not_bound");
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = body(
        app.post_json_as(
            &member,
            "/v1/declarations",
            &declaration(&unknown, 36.5, json!([])),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    for token in [&member, &other, &admin] {
        assert_eq!(bind(&app, token, &code).await.0, 201);
    }
    // Sunday evening: the member declares with fever.
    app.clock.set(datetime!(2026-03-01 19:00 +08:00));
    let (status, _) = body(
        app.post_json_as(
            &member,
            "/v1/declarations",
            &declaration(&org_id, 38.2, json!(["cough"])),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    // Monday: the member twice (fever, then normal: the latest counts), the admin once;
    // the third member unbinds at 13:00 without declaring.
    app.clock.set(datetime!(2026-03-02 08:00 +08:00));
    let (member, _) = app.login(MEMBER, "李四").await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (other, _) = app.login(OTHER, "王五").await;
    body(
        app.post_json_as(
            &member,
            "/v1/declarations",
            &declaration(&org_id, 38.0, json!(["fatigue"])),
        )
        .await,
    )
    .await;
    app.clock.set(datetime!(2026-03-02 12:00 +08:00));
    body(
        app.post_json_as(
            &member,
            "/v1/declarations",
            &declaration(&org_id, 36.6, json!(["cough"])),
        )
        .await,
    )
    .await;
    body(
        app.post_json_as(
            &admin,
            "/v1/declarations",
            &declaration(&org_id, 36.4, json!([])),
        )
        .await,
    )
    .await;
    app.clock.set(datetime!(2026-03-02 13:00 +08:00));
    let (status, _) = body(
        app.delete_as(&other, &format!("/v1/me/orgs/{org_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = body(
        app.post_json_as(
            &other,
            "/v1/declarations",
            &declaration(&org_id, 36.5, json!([])),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "unbound: refused again");
    assert_eq!(problem["code"], "org.not_bound");
    let head = app.state.store.last_position().await.expect("head");
    let stats = app
        .get_json(
            &admin,
            &format!("/v1/orgs/{org_id}/stats?min_position={head}"),
        )
        .await;
    assert_eq!(stats["date"], "2026-03-02");
    assert_eq!(stats["members"], 2, "the third unbound during the day");
    assert_eq!(stats["declared_today"], 2);
    assert_eq!(stats["not_declared_today"], 0);
    assert_eq!(stats["declarations_today"], 3);
    assert_eq!(
        stats["fever_today"], 0,
        "the member's latest declaration today is normal"
    );
    assert_eq!(stats["symptoms_today"], 1);
    let series = stats["series"].as_array().expect("series");
    assert_eq!(series.len(), 14);
    assert_eq!(series[13]["date"], "2026-03-02");
    assert_eq!(
        series[12],
        json!({"date": "2026-03-01", "members": 3, "declared": 1, "not_declared": 2, "declarations": 1, "fever": 1, "symptoms": 1})
    );
    assert_eq!(series[11]["members"], 0, "before the org existed");
    let past = app
        .get_json(&admin, &format!("/v1/orgs/{org_id}/stats?date=2026-03-01"))
        .await;
    assert_eq!(
        past["members"], 3,
        "the unbinding on Monday does not rewrite Sunday"
    );
    assert_eq!(past["not_declared_today"], 2);
    assert_eq!(past["fever_today"], 1);
    let (status, problem) = body(
        app.get_as(&admin, &format!("/v1/orgs/{org_id}/stats?date=2026-03-03"))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "date.future");
    let (status, problem) = body(
        app.get_as(&admin, &format!("/v1/orgs/{org_id}/stats?date=2026-3-1"))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "date.format");
    let csv = app
        .get_as(&admin, &format!("/v1/orgs/{org_id}/stats.csv"))
        .await;
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let text = csv.text().await.expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "date,members,declared,not_declared,declarations,fever,symptoms"
    );
    assert_eq!(lines.len(), 15);
    assert_eq!(lines[13], "2026-03-01,3,1,2,1,1,1");
    assert_eq!(lines[14], "2026-03-02,2,2,0,3,0,1");
    let sunday = app
        .get_as(
            &admin,
            &format!("/v1/orgs/{org_id}/stats.csv?date=2026-03-01"),
        )
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(sunday.lines().last(), Some("2026-03-01,3,1,2,1,1,1"));
    // A rebinding counts again from then on.
    assert_eq!(bind(&app, &other, &code).await.0, 201);
    // No personal data in the dashboard.
    assert!(!stats.to_string().contains("李四") && !text.contains(MEMBER));
    app.stop().await;
}

async fn concurrent_edits_in_one_week_make_one_change(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let org_id = created["org_id"].as_str().expect("id");
    let (a, b) = tokio::join!(
        patch(&app, &admin, org_id, json!({"name": "甲"})),
        patch(&app, &admin, org_id, json!({"name": "乙"}))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let events = app.state.store.read_all(0, 1000).await.expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "OrgDetailsEdited")
            .count(),
        1
    );
    // The admin reads the org back: the code to share, and when the next edit is allowed.
    let head = app.state.store.last_position().await.expect("head");
    let shown = app
        .get_json(&admin, &format!("/v1/orgs/{org_id}?min_position={head}"))
        .await;
    assert_eq!(shown["code"], created["code"]);
    assert_eq!(shown["phone"], "13912345678");
    assert_eq!(shown["next_edit_allowed_at"], "2026-03-09T00:00:00+08:00");
    assert!(shown["name"] == "甲" || shown["name"] == "乙");
    app.stop().await;
}

async fn a_retried_registration_has_its_effect_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let send = || {
        app.client
            .post(app.url("/v1/orgs"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", "org-1")
            .json(&org())
            .send()
    };
    let (status, first) = body(send().await.expect("send")).await;
    assert_eq!(status, 201);
    let head = app.state.store.last_position().await.expect("head");
    let (status, again) = body(send().await.expect("send")).await;
    assert_eq!(status, 201);
    assert_eq!(again, first, "the same org, code and position");
    assert_eq!(app.state.store.last_position().await.expect("head"), head);
    app.stop().await;
}

async fn a_guardian_binds_a_family_member(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = register(&app, &admin).await;
    let (guardian, guardian_id) = app.login(MEMBER, "李四").await;
    let (status, child) = body(
        app.post_json_as(
            &guardian,
            "/v1/me/family",
            &json!({"assertion": app.member_assertion(&guardian_id, "birth_certificate", "A123456789", "李小明", "birth_certificate"), "relation": "child"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{child}");
    let code = created["code"].as_str().expect("code");
    let (status, bound) = body(
        app.post_json_as(
            &guardian,
            "/v1/org-bindings",
            &json!({"code": code, "subject_id": child["person_id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{bound}");
    let mut for_child = declaration(created["org_id"].as_str().expect("id"), 36.5, json!([]));
    for_child["subject_id"] = child["person_id"].clone();
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/declarations", &for_child)
            .await,
    )
    .await;
    assert_eq!(
        status, 201,
        "the child is bound: the guardian declares for it"
    );
    let (_, stranger_id) = app.login(OTHER, "王五").await;
    let (status, _) = body(
        app.post_json_as(
            &guardian,
            "/v1/org-bindings",
            &json!({"code": code, "subject_id": stranger_id}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    // A stranger's bindings do not leak through declarations either.
    let mut for_stranger = declaration(created["org_id"].as_str().expect("id"), 36.5, json!([]));
    for_stranger["subject_id"] = json!(stranger_id);
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/declarations", &for_stranger)
            .await,
    )
    .await;
    assert_eq!(status, 403);
    app.stop().await;
}
