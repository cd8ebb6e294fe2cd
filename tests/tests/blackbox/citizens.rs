//! Black-box tests of the citizen and feed routes, on SQLite and PostgreSQL: sessions,
//! identity assertions, the health code, the red-code feed and appeals, family members,
//! declarations, entries, histories, access records, and privacy of the stored data.

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use yuekang_tests::{body, TestApp};

event_store::backend_tests!(
    first_login_registers_and_me_shows_own_data,
    tampered_expired_and_untrusted_assertions_are_401,
    without_dev_the_development_provider_is_not_trusted,
    a_replayed_assertion_is_401,
    a_bad_check_digit_is_422_naming_the_field,
    citizen_routes_need_a_valid_session,
    a_pre_registration_hit_makes_the_person_red_on_first_login,
    the_code_image_is_an_svg_in_the_colour,
    feed_replay_gives_duplicates_only_and_refusals_name_the_rule,
    a_release_makes_the_person_green,
    auditors_reconstruct_the_colour_at_a_past_instant,
    appeals_refused_leave_red_granted_make_green_and_the_citizen_sees_both,
    a_citizen_cannot_call_the_feed,
    family_members_are_added_listed_shown_and_removed,
    household_matches_verify_minors_only,
    assertions_serve_one_purpose_and_one_guardian,
    a_released_reason_makes_its_appeal_moot_and_a_new_hit_stays_red,
    concurrent_batches_apply_a_record_once,
    the_family_list_is_paged,
    declarations_for_self_and_family_newest_first_and_paged,
    declarations_and_entries_refuse_bad_input_naming_fields,
    an_idempotent_retry_has_its_effect_once,
    the_province_admin_bootstrap_gives_the_role,
    shredding_makes_personal_data_unreadable,
    no_personal_data_is_stored_in_clear,
);

const ZHANG: &str = "44010619900307001X"; // male, 1990-03-07
const LI: &str = "440305198511200028"; // female, 1985-11-20
const CHILD: &str = "440106201506010035"; // born 2015-06-01: a minor in 2026
const WANG: &str = "110101197001010040";
const CHEN: &str = "440106199202020058";

async fn login_status(app: &TestApp, assertion: &str) -> (u16, Value) {
    body(
        app.post_json("/v1/sessions", &json!({ "assertion": assertion }))
            .await,
    )
    .await
}

fn hit(record_id: &str, number: &str, name: &str, reason: &str) -> Value {
    json!({
        "record_id": record_id,
        "document": {"type": "resident_id", "number": number},
        "name": name,
        "reason": reason,
        "action": "hit",
        "effective_at": "2026-03-01T10:00:00+08:00",
        "region": "440106",
    })
}

fn release(record_id: &str, number: &str, name: &str, reason: &str) -> Value {
    json!({
        "record_id": record_id,
        "document": {"type": "resident_id", "number": number},
        "name": name,
        "reason": reason,
        "action": "release",
        "effective_at": "2026-03-02T08:00:00+08:00",
        "region": "440106",
    })
}

async fn feed(app: &TestApp, token: &str, records: Vec<Value>) -> Value {
    let (status, answer) = body(
        app.post_json_as(token, "/v1/feed/batches", &json!({ "records": records }))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn code(app: &TestApp, token: &str, position: u64) -> Value {
    app.get_json(token, &format!("/v1/me/code?min_position={position}"))
        .await
}

async fn first_login_registers_and_me_shows_own_data(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (status, first) =
        login_status(&app, &app.assertion("resident_id", ZHANG, "张三强", "face")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["registered"], true);
    assert!(first["token"].as_str().expect("token").starts_with("yk_s_"));
    assert_eq!(first["expires_at"], "2026-03-02T13:00:00Z");
    let token = first["token"].as_str().expect("token");
    let me = app.get_json(token, "/v1/me").await;
    assert_eq!(me["person_id"], first["person_id"]);
    assert_eq!(me["name"], "张三强", "own data is unmasked");
    assert_eq!(me["phone"], "13912345678");
    assert_eq!(
        me["document"],
        json!({"type": "resident_id", "number": ZHANG})
    );
    assert_eq!(me["sex"], "male");
    assert_eq!(me["birth_date"], "1990-03-07");
    assert_eq!(me["roles"], json!([{"role": "citizen", "scope": null}]));

    let (status, second) =
        login_status(&app, &app.assertion("resident_id", ZHANG, "张三强", "face")).await;
    assert_eq!(status, 201);
    assert_eq!(second["registered"], false, "one document registers once");
    assert_eq!(second["person_id"], first["person_id"]);

    let (_, female) = login_status(
        &app,
        &app.assertion("resident_id", LI, "李四", "payment_password"),
    )
    .await;
    let me = app
        .get_json(female["token"].as_str().expect("token"), "/v1/me")
        .await;
    assert_eq!(me["sex"], "female");
    assert_ne!(me["person_id"], first["person_id"]);
    app.stop().await;
}

async fn tampered_expired_and_untrusted_assertions_are_401(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let assertion = app.assertion("resident_id", ZHANG, "张三强", "face");
    // Change the claims (another document) but keep the signature.
    let parts: Vec<&str> = assertion.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&base64_decode(parts[1])).expect("claims");
    claims["doc_number"] = json!(LI);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64_encode(claims.to_string().as_bytes()),
        parts[2]
    );
    let (status, problem) = login_status(&app, &forged).await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "assertion.bad_signature");

    let (status, problem) = login_status(&app, "not-a-jwt").await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "assertion.malformed");

    let stale = app.assertion("resident_id", ZHANG, "张三强", "face");
    app.clock.advance(time::Duration::minutes(6));
    let (status, problem) = login_status(&app, &stale).await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "assertion.expired");
    app.stop().await;
}

async fn without_dev_the_development_provider_is_not_trusted(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |settings| settings.dev = false).await;
    let (status, problem) =
        login_status(&app, &app.assertion("resident_id", ZHANG, "张三强", "face")).await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "assertion.unknown_key");
    let ready = app.get_json("", "/readyz").await;
    assert_eq!(ready["dev"], false, "readiness says the mode");
    app.stop().await;
}

fn base64_decode(raw: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .expect("base64url")
}

fn base64_encode(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

async fn a_replayed_assertion_is_401(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let assertion = app.assertion("resident_id", ZHANG, "张三强", "face");
    assert_eq!(login_status(&app, &assertion).await.0, 201);
    let (status, problem) = login_status(&app, &assertion).await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "assertion.replayed");
    // Concurrent replays: exactly one wins.
    let fresh = app.assertion("resident_id", LI, "李四", "face");
    let (a, b) = tokio::join!(login_status(&app, &fresh), login_status(&app, &fresh));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 401]);
    app.stop().await;
}

async fn a_bad_check_digit_is_422_naming_the_field(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (status, problem) = login_status(
        &app,
        &app.assertion("resident_id", "440106199003070011", "张三强", "face"),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "validation.failed");
    assert_eq!(problem["errors"][0]["field"], "document.number");
    assert_eq!(problem["errors"][0]["code"], "resident_id.check_digit");
    let (status, problem) = login_status(
        &app,
        &app.assertion_with("resident_id", ZHANG, "张三强", Some("12345"), "face"),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "phone.format");
    let (status, problem) = login_status(
        &app,
        &app.assertion("birth_certificate", "A123456789", "小明", "face"),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "document.not_for_login");
    let (status, problem) = login_status(
        &app,
        &app.assertion("resident_id", ZHANG, "张三强", "household"),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"][0]["code"],
        "assertion.method_not_for_login"
    );
    // Nothing was recorded by the refusals.
    assert_eq!(app.state.store.last_position().await.expect("head"), 0);
    app.stop().await;
}

async fn citizen_routes_need_a_valid_session(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let response = app.get("/v1/me").await;
    assert_eq!(response.status().as_u16(), 401);
    let (token, _) = app.login(ZHANG, "张三强").await;
    // One character of the MAC changed (not the last, whose low bits are padding).
    let mut chars: Vec<char> = token.chars().collect();
    let at = chars.len() - 5;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let forged: String = chars.into_iter().collect();
    let (status, problem) = body(app.get_as(&forged, "/v1/me").await).await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "session.bad_signature");
    app.clock.advance(time::Duration::hours(13));
    let (status, problem) = body(app.get_as(&token, "/v1/me").await).await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "session.expired");
    let auditor = app.service_token("auditor").await;
    let (status, _) = body(app.get_as(&auditor, "/v1/me").await).await;
    assert_eq!(status, 403, "service accounts are not citizens");
    app.stop().await;
}

async fn a_pre_registration_hit_makes_the_person_red_on_first_login(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    let answer = feed(
        &app,
        &feed_token,
        vec![hit("psb-1", ZHANG, "张三强", "close_contact")],
    )
    .await;
    assert_eq!(answer["accepted"], json!(["psb-1"]));
    let (token, person_id) = app.login(ZHANG, "张三强").await;
    let code = code(&app, &token, 0).await;
    assert_eq!(code["person_id"], person_id);
    assert_eq!(code["colour"], "red");
    assert_eq!(code["reasons"][0]["reason"], "close_contact");
    assert_eq!(code["reasons"][0]["source"], "psb-1");
    assert_eq!(code["reasons"][0]["since"], "2026-03-01T10:00:00+08:00");
    assert!(code["reasons"][0]["guidance"]
        .as_str()
        .expect("guidance")
        .contains("release"));
    assert!(code["token"].as_str().expect("token").starts_with("YK2."));
    // Someone else stays green.
    let (other, _) = app.login(LI, "李四").await;
    let other_code = app.get_json(&other, "/v1/me/code").await;
    assert_eq!(other_code["colour"], "green");
    assert_eq!(other_code["reasons"], json!([]));
    assert_ne!(other_code["token"], code["token"]);
    app.stop().await;
}

async fn the_code_image_is_an_svg_in_the_colour(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    let response = app.get_as(&token, "/v1/me/code.svg").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().expect("type"),
        "image/svg+xml"
    );
    let green = response.text().await.expect("svg");
    assert!(green.contains("<svg") && green.contains("#0a8f3c"));
    let feed_token = app.service_token("feed").await;
    let answer = feed(
        &app,
        &feed_token,
        vec![hit("psb-9", ZHANG, "张三强", "confirmed")],
    )
    .await;
    let position = answer["position"].as_u64().expect("position");
    let red = app
        .get_as(&token, &format!("/v1/me/code.svg?min_position={position}"))
        .await
        .text()
        .await
        .expect("svg");
    assert!(red.contains("#d0021b") && !red.contains("#0a8f3c"));
    app.stop().await;
}

async fn feed_replay_gives_duplicates_only_and_refusals_name_the_rule(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    let mut bad_doc = hit("psb-3", "440106199003070011", "某人", "suspected");
    bad_doc["record_id"] = json!("psb-3");
    let batch = vec![
        hit("psb-1", ZHANG, "张三强", "close_contact"),
        hit("psb-2", LI, "李四", "home_quarantine"),
        bad_doc,
        hit("bad id!", WANG, "王五", "suspected"),
        hit("psb-4", WANG, "王五", "flu"),
        release("psb-5", CHEN, "陈六", "confirmed"),
        hit("psb-1", CHEN, "陈六", "confirmed"),
    ];
    let first = feed(&app, &feed_token, batch.clone()).await;
    assert_eq!(first["accepted"], json!(["psb-1", "psb-2"]));
    assert_eq!(
        first["duplicates"],
        json!(["psb-1"]),
        "the same id twice in a batch"
    );
    let refused: Vec<(String, String)> = first["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| {
            (
                r["record_id"].as_str().expect("id").to_owned(),
                r["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("psb-3".to_owned(), "resident_id.check_digit".to_owned()),
            ("bad id!".to_owned(), "record.id".to_owned()),
            ("psb-4".to_owned(), "record.reason".to_owned()),
            ("psb-5".to_owned(), "feed.reason_not_active".to_owned()),
        ]
    );
    let head = app.state.store.last_position().await.expect("head");
    let replay = feed(&app, &feed_token, batch[..2].to_vec()).await;
    assert_eq!(replay["accepted"], json!([]));
    assert_eq!(replay["duplicates"], json!(["psb-1", "psb-2"]));
    assert_eq!(replay["refused"], json!([]));
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        head,
        "a replayed batch appends nothing"
    );
    app.stop().await;
}

async fn a_release_makes_the_person_green(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    feed(
        &app,
        &feed_token,
        vec![
            hit("psb-1", ZHANG, "张三强", "close_contact"),
            hit("psb-2", ZHANG, "张三强", "home_quarantine"),
        ],
    )
    .await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    assert_eq!(
        code(&app, &token, 0).await["reasons"]
            .as_array()
            .expect("reasons")
            .len(),
        2
    );
    let answer = feed(
        &app,
        &feed_token,
        vec![release("psb-3", ZHANG, "张三强", "close_contact")],
    )
    .await;
    let still = code(&app, &token, answer["position"].as_u64().expect("position")).await;
    assert_eq!(still["colour"], "red", "one reason is still active");
    let answer = feed(
        &app,
        &feed_token,
        vec![release("psb-4", ZHANG, "张三强", "home_quarantine")],
    )
    .await;
    let green = code(&app, &token, answer["position"].as_u64().expect("position")).await;
    assert_eq!(green["colour"], "green");
    assert_eq!(green["reasons"], json!([]));
    app.stop().await;
}

async fn appeals_refused_leave_red_granted_make_green_and_the_citizen_sees_both(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    feed(
        &app,
        &feed_token,
        vec![hit("psb-1", ZHANG, "张三强", "high_risk_arrival")],
    )
    .await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    let (status, problem) = body(
        app.post_json_as(&token, "/v1/appeals", &json!({"reason": "confirmed"}))
            .await,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "appeal.reason_not_active");
    let (status, problem) = body(
        app.post_json_as(&token, "/v1/appeals", &json!({"reason": "flu"}))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "reason");

    let (status, filed) = body(
        app.post_json_as(
            &token,
            "/v1/appeals",
            &json!({"reason": "high_risk_arrival"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let (status, problem) = body(
        app.post_json_as(
            &token,
            "/v1/appeals",
            &json!({"reason": "high_risk_arrival"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "appeal.already_open");
    let open = app
        .get_json(
            &feed_token,
            &format!("/v1/feed/appeals?min_position={}", filed["position"]),
        )
        .await;
    assert_eq!(open["items"][0]["appeal_id"], filed["appeal_id"]);
    assert_eq!(open["items"][0]["reason"], "high_risk_arrival");
    assert_eq!(open["items"][0]["record_id"], "psb-1");
    let appeal_id = filed["appeal_id"].as_str().expect("id");

    let (status, problem) = body(
        app.post_json_as(
            &feed_token,
            &format!("/v1/feed/appeals/{appeal_id}/decision"),
            &json!({"granted": false, "detail": ""}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, refused) = body(
        app.post_json_as(
            &feed_token,
            &format!("/v1/feed/appeals/{appeal_id}/decision"),
            &json!({"granted": false, "detail": "arrival confirmed by the railway record"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{refused}");
    let (status, problem) = body(
        app.post_json_as(
            &feed_token,
            &format!("/v1/feed/appeals/{appeal_id}/decision"),
            &json!({"granted": true, "detail": "again"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "appeal.already_decided");
    let position = refused["position"].as_u64().expect("position");
    assert_eq!(code(&app, &token, position).await["colour"], "red");
    let notices = app.get_json(&token, "/v1/me/notices").await;
    assert_eq!(notices["items"][0]["kind"], "appeal_decision");
    assert_eq!(notices["items"][0]["granted"], false);
    assert_eq!(
        notices["items"][0]["detail"],
        "arrival confirmed by the railway record"
    );
    let open = app.get_json(&feed_token, "/v1/feed/appeals").await;
    assert_eq!(
        open["items"],
        json!([]),
        "a decided appeal is no longer open"
    );

    let (_, second) = body(
        app.post_json_as(
            &token,
            "/v1/appeals",
            &json!({"reason": "high_risk_arrival"}),
        )
        .await,
    )
    .await;
    let second_id = second["appeal_id"].as_str().expect("id");
    app.state
        .wait_for(second["position"].as_u64())
        .await
        .expect("caught up");
    let (status, granted) = body(
        app.post_json_as(
            &feed_token,
            &format!("/v1/feed/appeals/{second_id}/decision"),
            &json!({"granted": true, "detail": "the record named another traveller"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let position = granted["position"].as_u64().expect("position");
    assert_eq!(code(&app, &token, position).await["colour"], "green");
    let notices = app.get_json(&token, "/v1/me/notices").await;
    assert_eq!(notices["items"][0]["granted"], true, "newest first");
    assert_eq!(notices["items"][1]["granted"], false);
    let (status, _) = body(
        app.post_json_as(
            &feed_token,
            &format!("/v1/feed/appeals/{}/decision", uuid::Uuid::new_v4()),
            &json!({"granted": true, "detail": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

async fn a_citizen_cannot_call_the_feed(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    let (status, problem) = body(
        app.post_json_as(
            &token,
            "/v1/feed/batches",
            &json!({"records": [hit("x-1", ZHANG, "张三强", "confirmed")]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(problem["code"], "auth.forbidden");
    assert_eq!(
        app.get_as(&token, "/v1/feed/appeals")
            .await
            .status()
            .as_u16(),
        403
    );
    let auditor = app.service_token("auditor").await;
    let (status, _) = body(
        app.post_json_as(&auditor, "/v1/feed/batches", &json!({"records": []}))
            .await,
    )
    .await;
    assert_eq!(status, 403, "only the feed role posts batches");
    let (status, _) = body(
        app.post_json("/v1/feed/batches", &json!({"records": []}))
            .await,
    )
    .await;
    assert_eq!(status, 401);
    app.stop().await;
}

async fn add_member(app: &TestApp, token: &str, assertion: &str, relation: &str) -> (u16, Value) {
    body(
        app.post_json_as(
            token,
            "/v1/me/family",
            &json!({"assertion": assertion, "relation": relation}),
        )
        .await,
    )
    .await
}

async fn family_members_are_added_listed_shown_and_removed(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    let (status, spouse) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", LI, "李四", "face"),
        "spouse",
    )
    .await;
    assert_eq!(status, 201, "{spouse}");
    let (status, child) = add_member(
        &app,
        &guardian,
        &app.member_assertion(
            &guardian_id,
            "birth_certificate",
            "A123456789",
            "张小明",
            "birth_certificate",
        ),
        "child",
    )
    .await;
    assert_eq!(status, 201, "{child}");
    let (status, problem) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", LI, "李四", "face"),
        "spouse",
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "family.already_member");
    let (status, problem) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", ZHANG, "张三强", "face"),
        "other",
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "family.self");
    let (status, problem) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", WANG, "王五", "face"),
        "cousin",
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "relation");

    let position = child["position"].as_u64().expect("position");
    let list = app
        .get_json(&guardian, &format!("/v1/me/family?min_position={position}"))
        .await;
    assert_eq!(
        list["items"],
        json!([
            {"person_id": spouse["person_id"], "name_masked": "李*", "relation": "spouse"},
            {"person_id": child["person_id"], "name_masked": "张*明", "relation": "child"},
        ])
    );
    let roles = app.get_json(&guardian, "/v1/me").await["roles"].clone();
    assert!(roles
        .as_array()
        .expect("roles")
        .iter()
        .any(|r| r["role"] == "guardian"));

    // The guardian shows the child's code; the access is recorded for the child.
    let spouse_id = spouse["person_id"].as_str().expect("id");
    let member_code = app
        .get_json(&guardian, &format!("/v1/me/family/{spouse_id}/code"))
        .await;
    assert_eq!(member_code["person_id"], spouse["person_id"]);
    assert_eq!(member_code["colour"], "green");
    let (spouse_token, spouse_login_id) = app.login(LI, "李四").await;
    assert_eq!(
        spouse_login_id, spouse_id,
        "the member registered when added logs in as herself"
    );
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(
            &spouse_token,
            &format!("/v1/me/access-log?min_position={head}"),
        )
        .await;
    assert_eq!(
        log["items"][0]["accessor"],
        json!({"kind": "guardian", "person_id": guardian_id})
    );
    assert_eq!(log["items"][0]["data"], "code");
    // A stranger's code is not shown.
    let (_, stranger_id) = app.login(WANG, "王五").await;
    let (status, _) = body(
        app.get_as(&guardian, &format!("/v1/me/family/{stranger_id}/code"))
            .await,
    )
    .await;
    assert_eq!(status, 404);

    let (status, removed) = body(
        app.delete_as(&guardian, &format!("/v1/me/family/{spouse_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    let list = app
        .get_json(
            &guardian,
            &format!("/v1/me/family?min_position={}", removed["position"]),
        )
        .await;
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    let (status, problem) = body(
        app.delete_as(&guardian, &format!("/v1/me/family/{spouse_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "family.not_a_member");
    app.stop().await;
}

async fn household_matches_verify_minors_only(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    let (status, _) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", CHILD, "张小红", "household"),
        "child",
    )
    .await;
    assert_eq!(status, 201, "a minor by household match");
    let (status, problem) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", WANG, "王五", "household"),
        "parent",
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "family.match_needs_minor");
    let (status, problem) = add_member(&app, &guardian, "forged.assertion.x", "child").await;
    assert_eq!(status, 401, "{problem}");
    app.stop().await;
}

fn declaration(temperature: f64) -> Value {
    json!({
        "temperature_c": temperature,
        "symptoms": ["cough"],
        "contact_14d": false,
        "visited": ["广州市天河区"],
        "region": "440106",
    })
}

async fn declarations_for_self_and_family_newest_first_and_paged(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    for t in [36.5, 36.7, 37.6] {
        let (status, filed) = body(
            app.post_json_as(&guardian, "/v1/declarations", &declaration(t))
                .await,
        )
        .await;
        assert_eq!(status, 201, "{filed}");
        assert!(filed["declaration_id"].is_string() && filed["position"].is_u64());
    }
    let head = app.state.store.last_position().await.expect("head");
    let page = app
        .get_json(
            &guardian,
            &format!("/v1/me/declarations?limit=2&min_position={head}"),
        )
        .await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["temperature_c"], 37.6,
        "newest first: it supersedes the others"
    );
    assert_eq!(items[0]["band"], "fever");
    assert_eq!(items[1]["temperature_c"], 36.7);
    assert_eq!(items[0]["subject_id"], guardian_id.as_str());
    let next = page["next"].as_str().expect("a next page");
    let rest = app
        .get_json(
            &guardian,
            &format!("/v1/me/declarations?limit=2&after={next}"),
        )
        .await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 1);
    assert_eq!(rest["items"][0]["temperature_c"], 36.5);
    assert_eq!(rest["next"], Value::Null);

    let (_, child) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", CHILD, "张小红", "household"),
        "child",
    )
    .await;
    let mut for_child = declaration(36.4);
    for_child["subject_id"] = child["person_id"].clone();
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/declarations", &for_child)
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let (_, stranger_id) = app.login(WANG, "王五").await;
    let mut for_stranger = declaration(36.4);
    for_stranger["subject_id"] = json!(stranger_id);
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/declarations", &for_stranger)
            .await,
    )
    .await;
    assert_eq!(status, 403);

    let (status, entry) = body(
        app.post_json_as(
            &guardian,
            "/v1/entries",
            &json!({
                "origin": "武汉", "transport": "train", "trip_number": "g1234",
                "arrival_date": "2026-03-03", "destination": "440106",
            }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{entry}");
    let entries = app
        .get_json(
            &guardian,
            &format!("/v1/me/entries?min_position={}", entry["position"]),
        )
        .await;
    assert_eq!(entries["items"][0]["trip_number"], "G1234");
    assert_eq!(entries["items"][0]["entry_id"], entry["entry_id"]);
    let checks = app.get_json(&guardian, "/v1/me/checks").await;
    assert_eq!(checks, json!({"items": [], "next": null}));
    let (status, _) = body(app.get_as(&guardian, "/v1/me/declarations?limit=501").await).await;
    assert_eq!(status, 422);
    app.stop().await;
}

async fn declarations_and_entries_refuse_bad_input_naming_fields(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    let head = app.state.store.last_position().await.expect("head");
    let (status, problem) = body(app.post_json_as(&token, "/v1/declarations", &json!({
        "temperature_c": 36.5, "band": "fever", "symptoms": ["sneezing"], "region": "4401066",
    })).await).await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["band", "symptoms", "region"]);
    let (status, problem) = body(app.post_json_as(&token, "/v1/entries", &json!({
        "origin": "", "transport": "flight", "arrival_date": "2026-02-30", "destination": "110101",
    })).await).await;
    assert_eq!(status, 422);
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "origin.text",
            "trip_number.required",
            "date.format",
            "destination.guangdong"
        ]
    );
    let (status, problem) = body(
        app.post_json_as(&token, "/v1/declarations", &json!({"temperature_c": "hot"}))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "body.shape");
    let response = app
        .client
        .post(app.url("/v1/declarations"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        head,
        "nothing changed"
    );
    app.stop().await;
}

async fn an_idempotent_retry_has_its_effect_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    let send = |body: Value| {
        app.client
            .post(app.url("/v1/declarations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "decl-1")
            .json(&body)
            .send()
    };
    let (status, first) = body(send(declaration(36.5)).await.expect("send")).await;
    assert_eq!(status, 201);
    let head = app.state.store.last_position().await.expect("head");
    let (status, again) = body(send(declaration(36.5)).await.expect("send")).await;
    assert_eq!(status, 201);
    assert_eq!(again, first, "the first answer, position included");
    assert_eq!(app.state.store.last_position().await.expect("head"), head);
    let (status, problem) = body(send(declaration(36.9)).await.expect("send")).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "idempotency.key_reused");
    app.stop().await;
}

async fn the_province_admin_bootstrap_gives_the_role(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let position = services::citizens::bootstrap_province_admin(
        &app.state.services,
        "resident_id",
        ZHANG,
        "张三强",
    )
    .await
    .expect("bootstrap");
    let again = services::citizens::bootstrap_province_admin(
        &app.state.services,
        "resident_id",
        ZHANG,
        "张三强",
    )
    .await
    .expect("the same appointment again is a no-op");
    assert_eq!(again, position);
    let other = services::citizens::bootstrap_province_admin(
        &app.state.services,
        "resident_id",
        LI,
        "李四",
    )
    .await;
    assert!(other.is_err(), "the province has one admin");
    let (token, _) = app.login(ZHANG, "张三强").await;
    let me = app
        .get_json(&token, &format!("/v1/me?min_position={position}"))
        .await;
    assert_eq!(
        me["roles"],
        json!([{"role": "citizen", "scope": null}, {"role": "region_admin", "scope": "44"}])
    );
    app.stop().await;
}

async fn shredding_makes_personal_data_unreadable(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    let (_, member) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", LI, "李四", "face"),
        "spouse",
    )
    .await;
    let digest = domain_digest(&app, LI);
    let position = services::citizens::shred(&app.state.services, "operator", &digest)
        .await
        .expect("shred");
    app.state.wait_for(Some(position)).await.expect("caught up");
    let list = app.get_json(&guardian, "/v1/me/family").await;
    assert_eq!(list["items"][0]["person_id"], member["person_id"]);
    assert_eq!(list["items"][0]["name_masked"], "", "the name is gone");
    let (token, _) = app.login(LI, "李四").await;
    let me = app.get_json(&token, "/v1/me").await;
    assert_eq!(me["name"], Value::Null);
    assert_eq!(me["document"], Value::Null);
    // The events are all still there and the chain verifies.
    let auditor = app.service_token("auditor").await;
    let (status, verification) = body(app.post_as(&auditor, "/v1/audit/verification").await).await;
    assert_eq!(status, 200);
    assert_eq!(verification["ok"], true);
    app.stop().await;
}

fn domain_digest(app: &TestApp, resident_id: &str) -> domain::document::DocumentDigest {
    domain::document::DocumentDigest::parse(
        app.state
            .services
            .keys
            .document_digest("resident_id", resident_id),
    )
    .expect("digest")
}

async fn no_personal_data_is_stored_in_clear(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    feed(
        &app,
        &feed_token,
        vec![hit("psb-1", WANG, "王大锤", "close_contact")],
    )
    .await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    add_member(
        &app,
        &guardian,
        &app.member_assertion(&guardian_id, "resident_id", LI, "李四娘", "face"),
        "spouse",
    )
    .await;
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/declarations", &declaration(36.5))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let head = app.state.store.last_position().await.expect("head");
    app.state.wait_for(Some(head)).await.expect("caught up");
    let secrets = [ZHANG, LI, WANG, "张三强", "李四娘", "王大锤", "13912345678"];
    // Every event, payload and metadata.
    let events = app.state.store.read_all(0, 10_000).await.expect("events");
    assert!(!events.is_empty());
    for e in &events {
        for s in secrets {
            assert!(
                !e.payload.contains(s),
                "{s} in clear in {} at {}",
                e.event_type,
                e.position
            );
            assert!(
                !e.metadata.contains(s),
                "{s} in clear in metadata at {}",
                e.position
            );
        }
    }
    // Every byte the database holds (SQLite: the file and its WAL).
    let url = app.db.url.clone();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().expect("path");
        let mut bytes = std::fs::read(path).expect("database file");
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s} found in clear in the SQLite file"
            );
        }
    } else {
        // PostgreSQL: every projection table, as text.
        let event_store::Database::Postgres(pool) = &app.state.services.db else {
            panic!("postgres expected")
        };
        let dump: Vec<(String,)> = sqlx::query_as(
            "SELECT row_to_json(t)::text FROM (SELECT * FROM people) t
             UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM family) t
             UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM red_reasons) t
             UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM history) t
             UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM appeals) t
             UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM subject_keys) t",
        )
        .fetch_all(pool)
        .await
        .expect("dump");
        assert!(!dump.is_empty());
        for (row,) in dump {
            for s in secrets {
                assert!(!row.contains(s), "{s} in clear in {row}");
            }
        }
    }
    app.stop().await;
}

async fn auditors_reconstruct_the_colour_at_a_past_instant(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    feed(
        &app,
        &feed_token,
        vec![hit("psb-1", ZHANG, "张三强", "close_contact")],
    )
    .await;
    app.clock.advance(time::Duration::hours(2));
    feed(
        &app,
        &feed_token,
        vec![release("psb-2", ZHANG, "张三强", "close_contact")],
    )
    .await;
    let auditor = app.service_token("auditor").await;
    let stream = format!("identity-{}", domain_digest(&app, ZHANG));
    // 2026-03-02 10:00 CST: after the hit (09:00), before the release (11:00).
    let then = app
        .get_json(
            &auditor,
            &format!("/v1/audit/streams/{stream}?as_of=2026-03-02T02:00:00Z"),
        )
        .await;
    assert_eq!(then["state"]["stage"], "unregistered");
    assert_eq!(
        then["state"]["red"]["reasons"]["close_contact"]["record_id"],
        "psb-1"
    );
    let now = app
        .get_json(&auditor, &format!("/v1/audit/streams/{stream}"))
        .await;
    assert_eq!(now["state"]["red"]["reasons"], json!({}));
    assert_eq!(now["version"], 2);
    // Personal data stays sealed in what auditors read.
    assert!(!now.to_string().contains("张三强"));
    assert!(!now.to_string().contains(ZHANG));
    app.stop().await;
}

async fn assertions_serve_one_purpose_and_one_guardian(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    let (_, other_id) = app.login(WANG, "王五").await;
    // Someone's login assertion cannot add them to a family.
    let (status, problem) = add_member(
        &app,
        &guardian,
        &app.assertion("resident_id", LI, "李四", "face"),
        "spouse",
    )
    .await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "assertion.audience");
    // An assertion made for another guardian neither.
    let (status, problem) = add_member(
        &app,
        &guardian,
        &app.member_assertion(&other_id, "resident_id", LI, "李四", "face"),
        "spouse",
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "assertion.audience");
    // A family assertion does not log in.
    let (status, problem) = login_status(
        &app,
        &app.member_assertion(&guardian_id, "resident_id", LI, "李四", "face"),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], "assertion.audience");
    // The refused assertions were not spent: nothing was recorded for them.
    let list = app.get_json(&guardian, "/v1/me/family").await;
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

async fn a_released_reason_makes_its_appeal_moot_and_a_new_hit_stays_red(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    feed(
        &app,
        &feed_token,
        vec![hit("psb-1", ZHANG, "张三强", "close_contact")],
    )
    .await;
    let (token, _) = app.login(ZHANG, "张三强").await;
    let (_, filed) = body(
        app.post_json_as(&token, "/v1/appeals", &json!({"reason": "close_contact"}))
            .await,
    )
    .await;
    let appeal_id = filed["appeal_id"].as_str().expect("id").to_owned();
    app.clock.advance(time::Duration::hours(1));
    let mut late = release("psb-2", ZHANG, "张三强", "close_contact");
    late["effective_at"] = json!("2026-03-01T09:00:00+08:00");
    let refused = feed(&app, &feed_token, vec![late]).await;
    assert_eq!(
        refused["refused"][0]["code"], "feed.release_precedes_hit",
        "{refused}"
    );
    feed(
        &app,
        &feed_token,
        vec![release("psb-3", ZHANG, "张三强", "close_contact")],
    )
    .await;
    let mut again = hit("psb-4", ZHANG, "张三强", "close_contact");
    again["effective_at"] = json!("2026-03-02T09:30:00+08:00");
    let answer = feed(&app, &feed_token, vec![again]).await;
    let position = answer["position"].as_u64().expect("position");
    let open = app
        .get_json(
            &feed_token,
            &format!("/v1/feed/appeals?min_position={position}"),
        )
        .await;
    assert_eq!(
        open["items"],
        json!([]),
        "the released reason's appeal is no longer open"
    );
    let (status, problem) = body(
        app.post_json_as(
            &feed_token,
            &format!("/v1/feed/appeals/{appeal_id}/decision"),
            &json!({"granted": true, "detail": "late"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "appeal.moot");
    let code = code(&app, &token, position).await;
    assert_eq!(code["colour"], "red", "the new hit stays");
    assert_eq!(code["reasons"][0]["source"], "psb-4");
    app.stop().await;
}

async fn concurrent_batches_apply_a_record_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    let batch = vec![
        hit("psb-1", ZHANG, "张三强", "close_contact"),
        hit("psb-2", LI, "李四", "confirmed"),
    ];
    let (a, b, c) = tokio::join!(
        feed(&app, &feed_token, batch.clone()),
        feed(&app, &feed_token, batch.clone()),
        feed(&app, &feed_token, batch.clone())
    );
    let accepted: usize = [&a, &b, &c]
        .iter()
        .map(|r| r["accepted"].as_array().expect("accepted").len())
        .sum();
    let duplicates: usize = [&a, &b, &c]
        .iter()
        .map(|r| r["duplicates"].as_array().expect("duplicates").len())
        .sum();
    assert_eq!((accepted, duplicates), (2, 4));
    let events = app.state.store.read_all(0, 1000).await.expect("events");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "RedReasonHit")
            .count(),
        2,
        "each record applied once"
    );
    app.stop().await;
}

async fn the_family_list_is_paged(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (guardian, guardian_id) = app.login(ZHANG, "张三强").await;
    for (doc, name) in [(LI, "李四"), (WANG, "王五"), (CHEN, "陈六")] {
        let (status, _) = add_member(
            &app,
            &guardian,
            &app.member_assertion(&guardian_id, "resident_id", doc, name, "face"),
            "other",
        )
        .await;
        assert_eq!(status, 201);
    }
    let head = app.state.store.last_position().await.expect("head");
    let first = app
        .get_json(
            &guardian,
            &format!("/v1/me/family?limit=2&min_position={head}"),
        )
        .await;
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let next = first["next"].as_str().expect("next");
    let rest = app
        .get_json(&guardian, &format!("/v1/me/family?limit=2&after={next}"))
        .await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 1);
    assert_eq!(rest["next"], Value::Null);
    let names: Vec<Value> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .chain(rest["items"].as_array().expect("items"))
        .map(|m| m["name_masked"].clone())
        .collect();
    assert_eq!(names, [json!("李*"), json!("王*"), json!("陈*")]);
    let (status, _) = body(app.get_as(&guardian, "/v1/me/family?limit=0").await).await;
    assert_eq!(status, 422);
    app.stop().await;
}
