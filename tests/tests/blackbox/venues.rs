//! Black-box tests of the venue routes, on SQLite and PostgreSQL: venues and the
//! one-admin-one-venue race, edits at the week's edges, handover, inspectors, scans (forged
//! codes refused), temperature checks, posters and quick check-ins, and the statistics of a
//! scripted day.

use domain::code::{BindingCode, CodeKind};
use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use time::macros::datetime;
use yuekang_tests::{body, TestApp};

event_store::backend_tests!(
    an_admin_creates_one_venue_in_a_real_town,
    sixteen_concurrent_creations_by_one_admin_make_one_venue,
    venue_edits_are_weekly_at_cst_week_edges,
    a_handover_moves_the_admin_role,
    inspectors_bind_list_and_are_unbound,
    scans_show_masked_data_and_are_recorded_for_the_citizen,
    forged_codes_and_unbound_inspectors_are_refused,
    checks_follow_their_scan_once,
    posters_sign_quick_check_ins_and_forgeries_fail,
    statistics_of_a_scripted_day_hold_no_personal_data,
    checks_land_on_the_cst_day_and_hour,
    who_may_see_is_answered_before_waiting_or_validating,
    a_full_code_space_answers_503_and_raises_the_metric,
    a_photographed_code_shows_the_colour_only_and_a_reset_voids_it,
    remembered_answers_are_sealed_and_forgotten,
    exports_carry_age_bands_cities_and_no_free_text,
    an_unbound_scanner_learns_nothing_of_the_code,
);

pub(crate) const ADMIN: &str = "44010619900307001X"; // male, 1990
const INSPECTOR: &str = "440106199202020058";
pub(crate) const CITIZEN: &str = "440305198511200028"; // female, 1985
const ELDER: &str = "110101197001010040"; // female, 1970
const CHILD: &str = "440106201506010035"; // male, 2015
const OTHER: &str = "440106199311110060";

fn venue() -> Value {
    json!({"region": "440106001", "address": "天河路208号", "type": "retail", "name": "天河城", "phone": "13912345678"})
}

async fn create(app: &TestApp, token: &str) -> Value {
    let (status, created) = body(app.post_json_as(token, "/v1/venues", &venue()).await).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn an_admin_creates_one_venue_in_a_real_town(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    for (region, code) in [
        ("440106", "region.unknown_town"),
        ("440106999", "region.unknown_town"),
        ("44010", "region.format"),
    ] {
        let mut bad = venue();
        bad["region"] = json!(region);
        let (status, problem) = body(app.post_json_as(&admin, "/v1/venues", &bad).await).await;
        assert_eq!(status, 422, "{region}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "region");
        assert_eq!(problem["errors"][0]["code"], code);
    }
    let mut bad = venue();
    bad["type"] = json!("casino");
    let (status, problem) = body(app.post_json_as(&admin, "/v1/venues", &bad).await).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "type");
    let mut dongguan = venue();
    dongguan["region"] = json!("441900003");
    let created = create(&app, &admin).await;
    let code = created["code"].as_str().expect("code");
    assert!(
        code.starts_with('3') && BindingCode::parse_kind(code, CodeKind::Venue, "code").is_ok()
    );
    let (status, problem) = body(app.post_json_as(&admin, "/v1/venues", &dongguan).await).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "venue.admin_has_venue");
    let (other, _) = app.login(OTHER, "赵七").await;
    let (status, _) = body(app.post_json_as(&other, "/v1/venues", &dongguan).await).await;
    assert_eq!(status, 201, "a Dongguan town, directly under the city");
    app.stop().await;
}

async fn sixteen_concurrent_creations_by_one_admin_make_one_venue(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let answers = futures_util::future::join_all(
        (0..16)
            .map(|_| async { body(app.post_json_as(&admin, "/v1/venues", &venue()).await).await }),
    )
    .await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "venue.admin_has_venue")
        .count();
    assert_eq!((created, refused), (1, 15), "{answers:?}");
    let events = app.state.store.read_all(0, 1000).await.expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "VenueCreated")
            .count(),
        1
    );
    app.stop().await;
}

async fn patch(app: &TestApp, token: &str, venue_id: &str, changes: Value) -> (u16, Value) {
    body(
        app.patch_json_as(token, &format!("/v1/venues/{venue_id}"), &changes)
            .await,
    )
    .await
}

async fn venue_edits_are_weekly_at_cst_week_edges(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let created = create(&app, &admin).await;
    let venue_id = created["venue_id"].as_str().expect("id");
    let (status, _) = patch(
        &app,
        &admin,
        venue_id,
        json!({"name": "天河城购物中心", "type": "entertainment"}),
    )
    .await;
    assert_eq!(status, 200);
    app.clock.set(datetime!(2026-03-08 23:59:59 +08:00));
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (status, problem) = patch(&app, &admin, venue_id, json!({"region": "440305001"})).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "venue.weekly_edit_limit");
    assert_eq!(problem["next_allowed_at"], "2026-03-09T00:00:00+08:00");
    app.clock.set(datetime!(2026-03-09 00:00:00 +08:00));
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (status, _) = patch(&app, &admin, venue_id, json!({"region": "440305001"})).await;
    assert_eq!(status, 200);
    // Sunday 16:30 UTC is Monday 00:30 CST: after a Sunday edit, a new week.
    app.clock.set(datetime!(2026-03-22 12:00 +08:00));
    let (admin, _) = app.login(ADMIN, "张三强").await;
    assert_eq!(
        patch(&app, &admin, venue_id, json!({"phone": "13800001111"}))
            .await
            .0,
        200
    );
    app.clock.set(datetime!(2026-03-22 16:30 UTC));
    let (admin, _) = app.login(ADMIN, "张三强").await;
    assert_eq!(
        patch(&app, &admin, venue_id, json!({"address": "天河路208号B座"}))
            .await
            .0,
        200
    );
    let (status, problem) = patch(&app, &admin, venue_id, json!({"region": "440106"})).await;
    assert_eq!(status, 422, "validation before the weekly rule: {problem}");
    app.stop().await;
}

async fn a_handover_moves_the_admin_role(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (successor, _) = app.login(CITIZEN, "李四").await;
    let (other, _) = app.login(OTHER, "赵七").await;
    let created = create(&app, &admin).await;
    let venue_id = created["venue_id"].as_str().expect("id");
    create(&app, &other).await;
    let offer = |token: String, number: &'static str| {
        let app = &app;
        async move {
            body(
                app.post_json_as(
                    &token,
                    &format!("/v1/venues/{venue_id}/handover"),
                    &json!({"successor": {"type": "resident_id", "number": number}}),
                )
                .await,
            )
            .await
        }
    };
    let accept = |token: String, handover_token: Value| {
        let app = &app;
        async move {
            body(
                app.post_json_as(
                    &token,
                    "/v1/venue-handovers/acceptance",
                    &json!({"handover_token": handover_token}),
                )
                .await,
            )
            .await
        }
    };
    // The offer says nothing of whether anyone registered with the document.
    let (status, unregistered) = offer(admin.clone(), ELDER).await;
    assert_eq!(status, 200, "{unregistered}");
    let (status, registered) = offer(admin.clone(), OTHER).await;
    assert_eq!(status, 200, "{registered}");
    assert_eq!(
        unregistered
            .as_object()
            .map(|o| o.keys().collect::<Vec<_>>()),
        registered.as_object().map(|o| o.keys().collect::<Vec<_>>())
    );
    let (status, problem) = offer(admin.clone(), "440106199003070011").await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "successor.number");
    let (status, problem) = offer(successor.clone(), OTHER).await;
    assert_eq!(status, 403, "{problem}");

    // Nothing moves without the successor: the one named accepts, once, within 24 hours.
    let (status, problem) = accept(other.clone(), registered["handover_token"].clone()).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "venue.successor_has_venue");
    let (status, offered) = offer(admin.clone(), CITIZEN).await;
    assert_eq!(status, 200);
    assert!(offered["handover_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("yk_vh_")));
    let (status, problem) = accept(other.clone(), offered["handover_token"].clone()).await;
    assert_eq!(status, 403, "the token names another person: {problem}");
    let (status, problem) = accept(successor.clone(), registered["handover_token"].clone()).await;
    assert_eq!(status, 409, "a newer token voids the old: {problem}");
    assert_eq!(problem["code"], "handover.invalid_token");
    assert_eq!(
        patch(&app, &successor, venue_id, json!({"name": "新管理员"}))
            .await
            .0,
        403,
        "not the admin before accepting"
    );
    let (status, accepted) = accept(successor.clone(), offered["handover_token"].clone()).await;
    assert_eq!(status, 200, "{accepted}");
    let (status, problem) = accept(successor.clone(), offered["handover_token"].clone()).await;
    assert_eq!(status, 409, "used once: {problem}");
    assert_eq!(
        patch(&app, &admin, venue_id, json!({"name": "旧管理员"}))
            .await
            .0,
        403,
        "the old admin lost the role"
    );
    assert_eq!(
        patch(&app, &successor, venue_id, json!({"name": "新管理员"}))
            .await
            .0,
        200
    );
    assert_eq!(
        app.get_as(&admin, &format!("/v1/venues/{venue_id}/stats"))
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        app.get_as(&admin, &format!("/v1/venues/{venue_id}/poster"))
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        app.get_as(&successor, &format!("/v1/venues/{venue_id}/stats"))
            .await
            .status()
            .as_u16(),
        200
    );
    let (status, problem) = body(app.post_json_as(&successor, "/v1/venues", &venue()).await).await;
    assert_eq!(status, 409, "the successor now holds a venue: {problem}");
    let (status, _) = body(app.post_json_as(&admin, "/v1/venues", &venue()).await).await;
    assert_eq!(status, 201, "the old admin is free to create another");

    // A token expires after 24 hours.
    let (new_admin, _) = app.login(ELDER, "王老五").await;
    let (status, offered) = offer(successor.clone(), ELDER).await;
    assert_eq!(status, 200);
    app.clock.advance(time::Duration::hours(25));
    let (new_admin_again, _) = app.login(ELDER, "王老五").await;
    drop(new_admin);
    let (status, problem) = accept(new_admin_again, offered["handover_token"].clone()).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "handover.expired");
    app.stop().await;
}

async fn bind(app: &TestApp, token: &str, code: &str) -> (u16, Value) {
    body(
        app.post_json_as(token, "/v1/venue-bindings", &json!({ "code": code }))
            .await,
    )
    .await
}

async fn inspectors_bind_list_and_are_unbound(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (inspector, inspector_id) = app.login(INSPECTOR, "陈六").await;
    let created = create(&app, &admin).await;
    let venue_id = created["venue_id"].as_str().expect("id");
    let code = created["code"].as_str().expect("code");
    let (status, bound) = bind(&app, &inspector, code).await;
    assert_eq!(status, 201, "{bound}");
    assert_eq!(bound["venue_id"], venue_id);
    assert_eq!(bind(&app, &inspector, code).await.0, 200, "again: a no-op");
    assert_eq!(
        bind(&app, &admin, code).await.0,
        201,
        "the admin may inspect too"
    );
    let org = BindingCode::new(CodeKind::Org, 4711).to_string();
    let (status, problem) = bind(&app, &inspector, &org).await;
    assert_eq!(status, 422);
    assert_eq!(problem["code"], "code.wrong_kind");
    let head = app.state.store.last_position().await.expect("head");
    let mine = app
        .get_json(&inspector, &format!("/v1/me/venues?min_position={head}"))
        .await;
    assert_eq!(mine["items"][0]["venue_id"], venue_id);
    assert_eq!(mine["items"][0]["type"], "retail");
    let me = app.get_json(&inspector, "/v1/me").await;
    assert!(me["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .any(|r| r["role"] == "venue_inspector"));
    let path = format!("/v1/venues/{venue_id}/inspectors/{inspector_id}");
    let (status, _) = body(app.delete_as(&inspector, &path).await).await;
    assert_eq!(status, 403, "only the admin unbinds others");
    let (status, _) = body(app.delete_as(&admin, &path).await).await;
    assert_eq!(status, 200);
    let (status, problem) = body(app.delete_as(&admin, &path).await).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "venue.not_bound");
    assert_eq!(bind(&app, &inspector, code).await.0, 201, "bound again");
    let head = app.state.store.last_position().await.expect("head");
    let mine = app
        .get_json(&inspector, &format!("/v1/me/venues?min_position={head}"))
        .await;
    assert_eq!(
        mine["items"].as_array().expect("items").len(),
        1,
        "a rebinding in the same second shows"
    );
    let listed = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}/inspectors"))
        .await;
    let names: Vec<&Value> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["name_masked"])
        .collect();
    assert!(names.contains(&&json!("陈*")), "{listed}");
    let shown = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}"))
        .await;
    assert_eq!(shown["code"], code);
    assert_eq!(
        app.get_as(&inspector, &format!("/v1/venues/{venue_id}"))
            .await
            .status()
            .as_u16(),
        403
    );
    let (status, _) = body(
        app.delete_as(&inspector, &format!("/v1/me/venues/{venue_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "an inspector unbinds themself");
    app.stop().await;
}

/// A venue with a bound inspector: (admin token, inspector token, inspector id, venue id).
pub(crate) async fn venue_with_inspector(app: &TestApp) -> (String, String, String, String) {
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let (inspector, inspector_id) = app.login(INSPECTOR, "陈六").await;
    let created = create(app, &admin).await;
    assert_eq!(
        bind(app, &inspector, created["code"].as_str().expect("code"))
            .await
            .0,
        201
    );
    (
        admin,
        inspector,
        inspector_id,
        created["venue_id"].as_str().expect("id").to_owned(),
    )
}

/// The feed names the citizen a close contact (密切接触者).
async fn close_contact(app: &TestApp) {
    let feed = app.service_token("feed").await;
    let (status, _) = body(app.post_json_as(&feed, "/v1/feed/batches", &json!({"records": [{
        "record_id": "psb-1", "document": {"type": "resident_id", "number": CITIZEN}, "name": "李四强",
        "reason": "close_contact", "action": "hit", "effective_at": "2026-03-01T10:00:00+08:00", "region": "440305"}]})).await).await;
    assert_eq!(status, 200);
}

pub(crate) async fn code_token(app: &TestApp, token: &str) -> String {
    app.get_json(token, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

pub(crate) async fn scan(
    app: &TestApp,
    inspector: &str,
    venue_id: &str,
    token: &str,
) -> (u16, Value) {
    body(
        app.post_json_as(
            inspector,
            "/v1/scans",
            &json!({"token": token, "context": {"venue_id": venue_id}}),
        )
        .await,
    )
    .await
}

async fn scans_show_masked_data_and_are_recorded_for_the_citizen(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, inspector, inspector_id, venue_id) = venue_with_inspector(&app).await;
    close_contact(&app).await;
    let (citizen, citizen_id) = app.login(CITIZEN, "李四强").await;
    let token = code_token(&app, &citizen).await;
    let (status, seen) = scan(&app, &inspector, &venue_id, &token).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["person_id"], citizen_id.as_str());
    assert_eq!(seen["name_masked"], "李*强");
    assert_eq!(seen["phone_masked"], "139****5678");
    assert_eq!(seen["colour"], "red");
    assert_eq!(seen["reason_labels"], json!(["密切接触者"]));
    let scan_id = seen["scan_id"].as_str().expect("scan id").to_owned();
    // The citizen sees who scanned them.
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    assert_eq!(
        log["items"][0]["accessor"],
        json!({"kind": "venue", "venue_id": venue_id, "person_id": inspector_id})
    );
    // The latest declaration, for the same scanner only, for a short time.
    let path = format!("/v1/scans/{scan_id}/declaration");
    let (status, problem) = body(app.get_as(&inspector, &path).await).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "declaration.none");
    for t in [36.5, 37.8] {
        let (status, _) = body(
            app.post_json_as(
                &citizen,
                "/v1/declarations",
                &json!({"temperature_c": t, "region": "440305"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201);
    }
    let head = app.state.store.last_position().await.expect("head");
    let latest = app
        .get_json(&inspector, &format!("{path}?min_position={head}"))
        .await;
    assert_eq!(latest["temperature_c"], 37.8);
    assert_eq!(latest["band"], "fever");
    let (other, _) = app.login(OTHER, "赵七").await;
    assert_eq!(app.get_as(&other, &path).await.status().as_u16(), 403);
    app.clock.advance(time::Duration::minutes(31));
    let (inspector, _) = app.login(INSPECTOR, "陈六").await;
    let (status, problem) = body(app.get_as(&inspector, &path).await).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "scan.expired");
    app.stop().await;
}

async fn forged_codes_and_unbound_inspectors_are_refused(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, inspector, _, venue_id) = venue_with_inspector(&app).await;
    let (citizen, _) = app.login(CITIZEN, "李四").await;
    let token = code_token(&app, &citizen).await;
    // One character changed in the signature: forged.
    let mut forged: Vec<char> = token.chars().collect();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let (status, problem) = scan(&app, &inspector, &venue_id, &forged).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "code_token.bad_signature");
    assert_eq!(problem["errors"][0]["field"], "token");
    // Another person's id under the same signature: forged.
    let (_, other_id) = app.login(OTHER, "赵七").await;
    let parts: Vec<&str> = token.split('.').collect();
    let other_bytes = uuid::Uuid::parse_str(&other_id).expect("uuid").into_bytes();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut signed = b64.decode(parts[2]).expect("token body");
    signed[..16].copy_from_slice(&other_bytes); // the issue time stays
    let swapped = format!(
        "{}.{}.{}.{}",
        parts[0],
        parts[1],
        b64.encode(signed),
        parts[3]
    );
    let (status, problem) = scan(&app, &inspector, &venue_id, &swapped).await;
    assert_eq!(status, 422);
    assert_eq!(problem["code"], "code_token.bad_signature");
    let poster = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}/poster"))
        .await["token"]
        .as_str()
        .expect("poster")
        .to_owned();
    let (status, problem) = scan(&app, &inspector, &venue_id, &poster).await;
    assert_eq!(status, 422, "a poster is not a health code");
    assert_eq!(problem["code"], "code_token.malformed");
    // A valid code, but the scanner is not bound to that venue.
    let (status, _) = scan(&app, &citizen, &venue_id, &token).await;
    assert_eq!(status, 403, "an unbound inspector");
    let (status, _) = body(
        app.post_json_as(
            &inspector,
            "/v1/scans",
            &json!({"token": token, "context": {"medical": true}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403, "not medical staff");
    let (status, _) = body(
        app.post_json_as(
            &inspector,
            "/v1/scans",
            &json!({"token": token, "context": {}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    // Nothing was recorded for the refused scans.
    let events = app.state.store.read_all(0, 1000).await.expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "CodeScanned")
            .count(),
        0
    );
    app.stop().await;
}

pub(crate) async fn check(
    app: &TestApp,
    inspector: &str,
    venue_id: &str,
    scan_id: &str,
    band: &str,
) -> (u16, Value) {
    body(
        app.post_json_as(
            inspector,
            &format!("/v1/venues/{venue_id}/checks"),
            &json!({"scan_id": scan_id, "band": band}),
        )
        .await,
    )
    .await
}

async fn checks_follow_their_scan_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, inspector, _, venue_id) = venue_with_inspector(&app).await;
    let (citizen, _) = app.login(CITIZEN, "李四").await;
    let token = code_token(&app, &citizen).await;
    let (_, seen) = scan(&app, &inspector, &venue_id, &token).await;
    assert!(seen["position"].is_u64(), "a scan is a command: {seen}");
    let scan_id = seen["scan_id"].as_str().expect("scan");
    let (status, problem) = check(&app, &inspector, &venue_id, scan_id, "warm").await;
    assert_eq!(status, 422, "{problem}");
    let (status, problem) = check(&app, &admin, &venue_id, scan_id, "fever").await;
    assert_eq!(status, 403, "not the scanner: {problem}");
    let (status, checked) = check(&app, &inspector, &venue_id, scan_id, "fever").await;
    assert_eq!(status, 201, "{checked}");
    assert!(checked["check_id"].is_string() && checked["position"].is_u64());
    let (status, problem) = check(&app, &inspector, &venue_id, scan_id, "normal").await;
    assert_eq!(status, 409, "a check is immutable: scan again");
    assert_eq!(problem["code"], "check.already_recorded");
    let (status, _) = check(
        &app,
        &inspector,
        &venue_id,
        &uuid::Uuid::new_v4().to_string(),
        "normal",
    )
    .await;
    assert_eq!(status, 404);
    let mine = app
        .get_json(
            &citizen,
            &format!("/v1/me/checks?min_position={}", checked["position"]),
        )
        .await;
    assert_eq!(mine["items"][0]["band"], "fever");
    assert_eq!(mine["items"][0]["venue_id"], venue_id.as_str());
    // Unbound since the scan: neither a check nor the declaration view.
    let (_, again) = scan(&app, &inspector, &venue_id, &token).await;
    let again = again["scan_id"].as_str().expect("scan").to_owned();
    let inspector_id = checked_inspector_id(&app, &inspector).await;
    let (status, _) = body(
        app.delete_as(
            &admin,
            &format!("/v1/venues/{venue_id}/inspectors/{inspector_id}"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = check(&app, &inspector, &venue_id, &again, "normal").await;
    assert_eq!(status, 403);
    assert_eq!(
        app.get_as(&inspector, &format!("/v1/scans/{again}/declaration"))
            .await
            .status()
            .as_u16(),
        403
    );
    app.stop().await;
}

async fn posters_sign_quick_check_ins_and_forgeries_fail(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (admin, inspector, _, venue_id) = venue_with_inspector(&app).await;
    let poster = app
        .get_json(&inspector, &format!("/v1/venues/{venue_id}/poster"))
        .await["token"]
        .as_str()
        .expect("poster")
        .to_owned();
    assert_eq!(
        app.get_json(&admin, &format!("/v1/venues/{venue_id}/poster"))
            .await["token"],
        poster.as_str()
    );
    let svg = app
        .get_as(&admin, &format!("/v1/venues/{venue_id}/poster.svg"))
        .await;
    assert_eq!(
        svg.headers()["content-type"].to_str().expect("type"),
        "image/svg+xml"
    );
    let (guardian, guardian_id) = app.login(CITIZEN, "李四").await;
    assert_eq!(
        app.get_as(&guardian, &format!("/v1/venues/{venue_id}/poster"))
            .await
            .status()
            .as_u16(),
        403
    );
    let (status, checked) = body(
        app.post_json_as(&guardian, "/v1/checkins", &json!({"poster_token": poster}))
            .await,
    )
    .await;
    assert_eq!(status, 201, "{checked}");
    assert_eq!(checked["venue_name"], "天河城");
    let (status, child) = body(app.post_json_as(&guardian, "/v1/me/family", &json!({
        "assertion": app.member_assertion(&guardian_id, "resident_id", CHILD, "李小明", "household"), "relation": "child"})).await).await;
    assert_eq!(status, 201);
    let (status, _) = body(
        app.post_json_as(
            &guardian,
            "/v1/checkins",
            &json!({"poster_token": poster, "subject_id": child["person_id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "for a family member");
    let (_, stranger_id) = app.login(OTHER, "赵七").await;
    let (status, _) = body(
        app.post_json_as(
            &guardian,
            "/v1/checkins",
            &json!({"poster_token": poster, "subject_id": stranger_id}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let altered = poster.replacen("YKP1.", "YKP1.x", 1);
    let (status, problem) = body(
        app.post_json_as(&guardian, "/v1/checkins", &json!({"poster_token": altered}))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "poster_token");
    let code = code_token(&app, &guardian).await;
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/checkins", &json!({"poster_token": code}))
            .await,
    )
    .await;
    assert_eq!(status, 422, "a health code is not a poster");
    app.stop().await;
}

async fn statistics_of_a_scripted_day_hold_no_personal_data(db: TestDatabase) {
    let app = TestApp::spawn(db).await; // Monday 2026-03-02 09:00 CST
    let (admin, inspector, inspector_id, venue_id) = venue_with_inspector(&app).await;
    let poster = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}/poster"))
        .await["token"]
        .as_str()
        .expect("poster")
        .to_owned();
    let (guardian, guardian_id) = app.login(CITIZEN, "李四").await; // female, 40
    let (_, child) = body(app.post_json_as(&guardian, "/v1/me/family", &json!({
        "assertion": app.member_assertion(&guardian_id, "resident_id", CHILD, "李小明", "household"), "relation": "child"})).await).await;
    let (elder, _) = app.login(ELDER, "王老五").await; // female, 56
    let (admin_self, _) = app.login(ADMIN, "张三强").await; // male, 36
                                                            // 09:xx: the admin (as a citizen) is scanned with fever, then at 10:xx again, normal.
    let admin_code = code_token(&app, &admin_self).await;
    let (_, s1) = scan(&app, &inspector, &venue_id, &admin_code).await;
    assert_eq!(
        check(
            &app,
            &inspector,
            &venue_id,
            s1["scan_id"].as_str().expect("id"),
            "fever"
        )
        .await
        .0,
        201
    );
    app.clock.set(datetime!(2026-03-02 10:15 +08:00));
    // The code shown is the one the app shows now (a fresh one).
    let admin_code = code_token(&app, &admin_self).await;
    let (_, s2) = scan(&app, &inspector, &venue_id, &admin_code).await;
    assert_eq!(
        check(
            &app,
            &inspector,
            &venue_id,
            s2["scan_id"].as_str().expect("id"),
            "normal"
        )
        .await
        .0,
        201
    );
    // 10:xx: the elder is scanned with fever.
    let elder_code = code_token(&app, &elder).await;
    let (_, s3) = scan(&app, &inspector, &venue_id, &elder_code).await;
    assert_eq!(
        check(
            &app,
            &inspector,
            &venue_id,
            s3["scan_id"].as_str().expect("id"),
            "fever"
        )
        .await
        .0,
        201
    );
    // 14:xx: quick check-ins of the guardian and her child.
    app.clock.set(datetime!(2026-03-02 14:05 +08:00));
    let (guardian, _) = app.login(CITIZEN, "李四").await;
    assert_eq!(
        body(
            app.post_json_as(&guardian, "/v1/checkins", &json!({"poster_token": poster}))
                .await
        )
        .await
        .0,
        201
    );
    let (_, last) = body(
        app.post_json_as(
            &guardian,
            "/v1/checkins",
            &json!({"poster_token": poster, "subject_id": child["person_id"]}),
        )
        .await,
    )
    .await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let stats = app
        .get_json(
            &admin,
            &format!(
                "/v1/venues/{venue_id}/stats?min_position={}",
                last["position"]
            ),
        )
        .await;
    assert_eq!(stats["date"], "2026-03-02");
    assert_eq!(stats["checks_today"], 5, "every check and check-in");
    assert_eq!(stats["persons_today"], 4);
    assert_eq!(stats["checks_total"], 5);
    assert_eq!(stats["persons_total"], 4);
    assert_eq!(
        stats["fever_today"], 1,
        "the admin's latest check is normal; the elder's is fever"
    );
    assert_eq!(stats["fever_total"], 1);
    assert_eq!(stats["sex"], json!({"male": 2, "female": 2}));
    assert_eq!(
        stats["age_bands"],
        json!({"0-17": 1, "18-39": 1, "40-59": 2, "60+": 0})
    );
    let hourly = stats["hourly"].as_array().expect("hourly");
    assert_eq!(hourly.len(), 24);
    assert_eq!(
        (hourly[9].clone(), hourly[10].clone(), hourly[14].clone()),
        (json!(1), json!(2), json!(2))
    );
    assert_eq!(
        stats["inspectors"],
        json!([{"inspector": inspector_id, "today": 3, "total": 3}])
    );
    let text = stats.to_string();
    for secret in [
        "张三强",
        "李四",
        "王老五",
        "李小明",
        ADMIN,
        CITIZEN,
        ELDER,
        CHILD,
        "13912345678",
    ] {
        assert!(!text.contains(secret), "{secret} in the statistics");
    }
    let yesterday = app
        .get_json(
            &admin,
            &format!("/v1/venues/{venue_id}/stats?date=2026-03-01"),
        )
        .await;
    assert_eq!(yesterday["checks_today"], 0);
    assert_eq!(
        yesterday["checks_total"], 0,
        "totals run up to the day asked for"
    );
    // The inspector sees their own counts; others nothing.
    let (inspector, _) = app.login(INSPECTOR, "陈六").await;
    let own = app
        .get_json(&inspector, &format!("/v1/me/venues/{venue_id}/stats"))
        .await;
    assert_eq!(
        (own["today"].clone(), own["total"].clone()),
        (json!(3), json!(3))
    );
    assert_eq!(
        app.get_as(&inspector, &format!("/v1/venues/{venue_id}/stats"))
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        app.get_as(&guardian, &format!("/v1/me/venues/{venue_id}/stats"))
            .await
            .status()
            .as_u16(),
        403
    );
    app.stop().await;
}

async fn checked_inspector_id(app: &TestApp, token: &str) -> String {
    app.get_json(token, "/v1/me").await["person_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn checks_land_on_the_cst_day_and_hour(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, _, _, venue_id) = venue_with_inspector(&app).await;
    // 00:30 CST on Tuesday is 16:30 UTC on Monday.
    app.clock.set(datetime!(2026-03-02 16:30 UTC));
    let (citizen, _) = app.login(CITIZEN, "李四").await;
    let token = code_token(&app, &citizen).await;
    let (inspector, _) = app.login(INSPECTOR, "陈六").await;
    let (_, seen) = scan(&app, &inspector, &venue_id, &token).await;
    let (_, checked) = check(
        &app,
        &inspector,
        &venue_id,
        seen["scan_id"].as_str().expect("id"),
        "fever",
    )
    .await;
    let (admin, _) = app.login(ADMIN, "张三强").await;
    let stats = app
        .get_json(
            &admin,
            &format!(
                "/v1/venues/{venue_id}/stats?min_position={}",
                checked["position"]
            ),
        )
        .await;
    assert_eq!(stats["date"], "2026-03-03");
    assert_eq!(stats["checks_today"], 1);
    assert_eq!(stats["hourly"][0], 1);
    assert_eq!(stats["fever_today"], 1);
    let monday = app
        .get_json(
            &admin,
            &format!("/v1/venues/{venue_id}/stats?date=2026-03-02"),
        )
        .await;
    assert_eq!(monday["checks_today"], 0);
    let (status, problem) = body(
        app.get_as(
            &admin,
            &format!("/v1/venues/{venue_id}/stats?date=2026-03-04"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "date.future");
    app.stop().await;
}

/// Who may see a resource is answered before waiting for the read models and before the
/// query is checked: a stranger asking far ahead gets 403 at once, not 503 after the wait.
async fn who_may_see_is_answered_before_waiting_or_validating(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, inspector, _, venue_id) = venue_with_inspector(&app).await;
    let (stranger, _) = app.login(CITIZEN, "李四").await;
    let far = "min_position=999999999";
    for path in [
        format!("/v1/venues/{venue_id}?{far}"),
        format!("/v1/venues/{venue_id}/stats?{far}"),
        format!("/v1/venues/{venue_id}/stats?date=not-a-date&{far}"),
        format!("/v1/venues/{venue_id}/inspectors?limit=0&{far}"),
        format!("/v1/me/venues/{venue_id}/stats?{far}"),
    ] {
        let started = std::time::Instant::now();
        let (status, problem) = body(app.get_as(&stranger, &path).await).await;
        assert_eq!(status, 403, "{path}: {problem}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{path} answered without waiting for the read models"
        );
    }
    // The inspector may see their own counts; a bad date is then the refusal.
    let (status, problem) = body(
        app.get_as(
            &inspector,
            &format!("/v1/me/venues/{venue_id}/stats?date=not-a-date"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    app.stop().await;
}

/// A kind's code space shrunk to two codes: the third venue finds no free code and gets a
/// clear 503, never a 500; nothing is recorded for it, and `/metrics` counts the collisions and
/// the refusal (an org, another kind, is unaffected).
async fn a_full_code_space_answers_503_and_raises_the_metric(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |s| s.code_space = 2).await;
    let mut codes = Vec::new();
    for n in 0..2 {
        let (admin, _) = app
            .login(&yuekang_tests::resident_id("440106199001", n), "张三强")
            .await;
        codes.push(create(&app, &admin).await["code"].clone());
    }
    assert_ne!(codes[0], codes[1]);
    let head = app.state.store.last_position().await.expect("head");
    let (third, _) = app
        .login(&yuekang_tests::resident_id("440106199001", 2), "李四")
        .await;
    let after_login = app.state.store.last_position().await.expect("head");
    assert!(after_login > head);
    let (status, problem) = body(app.post_json_as(&third, "/v1/venues", &venue()).await).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "code.exhausted");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("venue code"),
        "{problem}"
    );
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        after_login,
        "nothing recorded"
    );
    let analyst = app.service_token("analyst").await;
    let metrics = app
        .get_as(&analyst, "/metrics")
        .await
        .text()
        .await
        .expect("metrics");
    assert!(
        metrics.contains("yuekang_code_exhausted_total{kind=\"venue\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("yuekang_code_exhausted_total{kind=\"org\"} 0"));
    let collisions = metrics
        .lines()
        .find_map(|l| l.strip_prefix("yuekang_code_draw_collisions_total{kind=\"venue\"} "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("collision counter");
    assert!(collisions >= 32, "{collisions}");
    app.stop().await;
}

/// SPEC §3 against a photographed code: a stranger with a photo of someone's code binds as
/// an inspector of their own venue. An old token still shows the colour and the masked
/// identity (a screenshot works), but no reason labels, and no check or declaration view
/// follows its scan; a fresh token shows what the seed shows; after the holder resets their
/// code every token issued before is refused, and the new one works.
async fn a_photographed_code_shows_the_colour_only_and_a_reset_voids_it(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, inspector, _, venue_id) = venue_with_inspector(&app).await;
    close_contact(&app).await;
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let photographed = code_token(&app, &citizen).await;
    assert!(photographed.starts_with("YK2."), "{photographed}");

    // Six minutes later the photo is old: colour and masked identity only.
    app.clock.advance(time::Duration::minutes(6));
    let (status, old) = scan(&app, &inspector, &venue_id, &photographed).await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(old["colour"], "red");
    assert_eq!(old["name_masked"], "李*强");
    assert_eq!(old["reason_labels"], json!([]));
    assert_eq!(old["fresh"], false);
    let old_scan = old["scan_id"].as_str().expect("scan id");
    let (status, problem) = body(
        app.get_as(&inspector, &format!("/v1/scans/{old_scan}/declaration"))
            .await,
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "scan.code_not_fresh");
    let head = app.state.store.last_position().await.expect("head");
    let (status, problem) = check(&app, &inspector, &venue_id, old_scan, "fever").await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "scan.code_not_fresh");
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        head,
        "no fake fever check recorded"
    );

    // The code the citizen shows now is fresh: what the seed shows.
    let current = code_token(&app, &citizen).await;
    let (status, fresh) = scan(&app, &inspector, &venue_id, &current).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(fresh["fresh"], true);
    assert_eq!(fresh["reason_labels"], json!(["密切接触者"]));
    let fresh_scan = fresh["scan_id"].as_str().expect("scan id");
    let (status, _) = check(&app, &inspector, &venue_id, fresh_scan, "normal").await;
    assert_eq!(status, 201);

    // The holder resets: every token issued before is refused, even one still fresh.
    app.clock.advance(time::Duration::seconds(1));
    let (status, reset) = body(app.post_as(&citizen, "/v1/me/code/reset").await).await;
    assert_eq!(status, 200, "{reset}");
    assert!(reset["position"].as_u64().is_some());
    app.clock.advance(time::Duration::seconds(1));
    for token in [&photographed, &current] {
        let (status, problem) = scan(&app, &inspector, &venue_id, token).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "code_token.reset");
        assert_eq!(problem["errors"][0]["field"], "token");
    }
    let renewed = code_token(&app, &citizen).await;
    let (status, again) = scan(&app, &inspector, &venue_id, &renewed).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["fresh"], true);
    app.stop().await;
}

/// The idempotency table keeps a scan's answer (masked name, red label) sealed, not in clear;
/// a retry within the TTL answers the same; after the TTL the answer is forgotten by the
/// scheduled job's pass and a retry with the key is a new scan.
async fn remembered_answers_are_sealed_and_forgotten(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, inspector, _, venue_id) = venue_with_inspector(&app).await;
    close_contact(&app).await;
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let token = code_token(&app, &citizen).await;
    let scan = || {
        app.client
            .post(app.url("/v1/scans"))
            .bearer_auth(&inspector)
            .header("Idempotency-Key", "scan-1")
            .json(&json!({"token": token, "context": {"venue_id": venue_id}}))
            .send()
    };
    let (status, first) = body(scan().await.expect("scan")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["reason_labels"], json!(["密切接触者"]));
    let stored = remembered_answers(&app).await;
    assert_eq!(stored.len(), 1, "the scan's answer: {stored:?}");
    for answer in &stored {
        for secret in ["李*强", "139****5678", "密切接触者", "\\u5bc6", "scan_id"] {
            assert!(!answer.contains(secret), "{secret} in clear in {answer}");
        }
    }
    let (status, again) = body(scan().await.expect("retry")).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "a retry answers the same");

    // A day later the scheduled pass forgets it: the same key is a new scan.
    app.clock.advance(time::Duration::hours(25));
    assert_eq!(app.state.forget_old_answers().await.expect("forget"), 1);
    assert!(remembered_answers(&app).await.is_empty());
    let (inspector_again, _) = app.login(INSPECTOR, "陈六").await;
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let token = code_token(&app, &citizen).await;
    let (status, later) = body(
        app.client
            .post(app.url("/v1/scans"))
            .bearer_auth(&inspector_again)
            .header("Idempotency-Key", "scan-1")
            .json(&json!({"token": token, "context": {"venue_id": venue_id}}))
            .send()
            .await
            .expect("scan"),
    )
    .await;
    assert_eq!(status, 200, "{later}");
    assert_ne!(later["scan_id"], first["scan_id"], "a new scan");
    app.stop().await;
}

/// Every answer in the idempotency table, as stored.
async fn remembered_answers(app: &TestApp) -> Vec<String> {
    let sql = "SELECT response FROM idempotency_keys ORDER BY position";
    match &app.state.services.db {
        event_store::Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        event_store::Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("read the idempotency table")
}

/// An analyst's export of a scripted morning: birth dates become age bands, regions their
/// city, and places visited, venue names and addresses and feed record ids are left out.
async fn exports_carry_age_bands_cities_and_no_free_text(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, _, _, _) = venue_with_inspector(&app).await;
    close_contact(&app).await;
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let (status, _) = body(
        app.post_json_as(
            &citizen,
            "/v1/declarations",
            &json!({"temperature_c": 36.6, "region": "440305", "visited": ["深圳湾公园"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let analyst = app.service_token("analyst").await;
    let response = app
        .get_as(&analyst, "/v1/exports/events.ndjson?after=0")
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("export");
    for secret in [
        "1985-11-20",
        "天河城",
        "天河路",
        "深圳湾",
        "psb-1",
        "440305\"",
        "440106001",
        "李四强",
        CITIZEN,
    ] {
        assert!(!text.contains(secret), "{secret} in the export");
    }
    let registered = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json line"))
        .find(|l| {
            l["type"] == "PersonRegistered" && l["data"]["age_band"].as_str() == Some("40-59")
        });
    assert!(
        registered.is_some(),
        "the citizen (40) registered, as an age band: {}",
        text.lines()
            .filter(|l| l.contains("Registered"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(text.contains("\"440300\""), "regions at city level");
    app.stop().await;
}

/// Who may scan is answered before the code's person is looked up: someone not bound to the
/// venue gets the same 403 for a registered person's code and for a genuine-looking code of
/// nobody, and nothing is recorded.
async fn an_unbound_scanner_learns_nothing_of_the_code(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, _, _, venue_id) = venue_with_inspector(&app).await;
    let (citizen, _) = app.login(CITIZEN, "李四强").await;
    let real = code_token(&app, &citizen).await;
    let nobody = app.state.services.keys.code_keys.sign(
        uuid::Uuid::now_v7(),
        (app.state.services.now().unix_timestamp_nanos() / 1_000) as i64,
    );
    let (stranger, _) = app.login(OTHER, "赵七").await;
    let head = app.state.store.last_position().await.expect("head");
    let mut answers = Vec::new();
    for token in [&real, &nobody] {
        let (status, problem) = scan(&app, &stranger, &venue_id, token).await;
        assert_eq!(status, 403, "{problem}");
        answers.push((problem["code"].clone(), problem["detail"].clone()));
    }
    assert_eq!(answers[0], answers[1], "the same answer either way");
    assert_eq!(app.state.store.last_position().await.expect("head"), head);
    app.stop().await;
}
