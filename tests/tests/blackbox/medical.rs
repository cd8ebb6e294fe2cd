//! Black-box tests of medical staff, release notices and person-held roles, on SQLite and
//! PostgreSQL: the province admin grants and revokes the permission; granted staff scan a code
//! (name and phone in clear, reasons with since and source) and issue a numbered notice that
//! releases close-contact, arrival and quarantine reasons; the citizen sees it; a withdrawal
//! brings the reasons back; numbers are consecutive under concurrency; a person granted the
//! auditor role verifies the chain with their session until it is revoked.

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use yuekang_tests::{body, TestApp};

event_store::backend_tests!(
    granted_staff_scan_and_release_a_person_who_sees_the_notice,
    the_roster_is_the_province_admins_and_revocation_counts_at_once,
    a_notice_naming_a_confirmed_or_inactive_reason_releases_nothing,
    a_withdrawal_brings_the_reasons_and_the_colour_back,
    sixteen_concurrent_notices_take_sixteen_consecutive_numbers,
    a_person_granted_the_auditor_role_verifies_the_chain_until_revoked,
    staff_do_not_release_themselves_and_a_feed_release_outlasts_a_withdrawal,
);

/// A valid resident ID born in 1975 with serial `n`.
fn resident(n: u32) -> String {
    yuekang_tests::resident_id("440104197506", n)
}

/// Bootstraps the province admin (serial 1) and signs them in.
pub(crate) async fn province_admin(app: &TestApp) -> String {
    let id = resident(1);
    services::citizens::bootstrap_province_admin(&app.state.services, "resident_id", &id, "省管理")
        .await
        .expect("bootstrap");
    app.login(&id, "省管理").await.0
}

async fn grant(app: &TestApp, by: &str, n: u32) -> (u16, Value) {
    body(
        app.post_json_as(
            by,
            "/v1/medical-staff",
            &json!({
                "document": {"type": "resident_id", "number": resident(n)},
                "name": "李医生",
                "phone": "13800138000",
                "unit": "广州市第八人民医院",
                "position": "主治医师",
            }),
        )
        .await,
    )
    .await
}

/// Signs in person `n` as staff and grants them: (token, person id).
pub(crate) async fn staff(app: &TestApp, admin: &str, n: u32) -> (String, String) {
    let (token, person_id) = app.login(&resident(n), "李医生").await;
    let (status, granted) = grant(app, admin, n).await;
    assert_eq!(status, 201, "{granted}");
    assert_eq!(granted["person_id"], person_id.as_str());
    (token, person_id)
}

/// Feed records for person `n`: `reasons` hit (or released).
async fn feed(app: &TestApp, feed: &str, n: u32, reasons: &[&str], action: &str) -> u64 {
    let records: Vec<Value> = reasons
        .iter()
        .map(|reason| {
            json!({
                "record_id": format!("{action}-{n}-{reason}"),
                "document": {"type": "resident_id", "number": resident(n)},
                "name": "王小红",
                "reason": reason,
                "action": action,
                "effective_at": "2026-03-01T10:00:00+08:00",
                "region": "440104",
            })
        })
        .collect();
    let (status, fed) = body(
        app.post_json_as(feed, "/v1/feed/batches", &json!({"records": records}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    assert_eq!(
        fed["accepted"].as_array().map(Vec::len),
        Some(reasons.len()),
        "{fed}"
    );
    fed["position"].as_u64().expect("position")
}

/// A citizen (serial `n`) red for `reasons`: (token, person id, code token).
async fn red_citizen(
    app: &TestApp,
    feed_token: &str,
    n: u32,
    reasons: &[&str],
) -> (String, String, String) {
    let (token, person_id) = app.login(&resident(n), "王小红").await;
    let at = feed(app, feed_token, n, reasons, "hit").await;
    let code = app
        .get_json(&token, &format!("/v1/me/code?min_position={at}"))
        .await;
    assert_eq!(code["colour"], "red", "{code}");
    (
        token,
        person_id,
        code["token"].as_str().expect("token").to_owned(),
    )
}

pub(crate) async fn medical_scan(app: &TestApp, staff: &str, code: &str) -> (u16, Value) {
    body(
        app.post_json_as(
            staff,
            "/v1/scans",
            &json!({"token": code, "context": {"medical": true}}),
        )
        .await,
    )
    .await
}

pub(crate) async fn notice(
    app: &TestApp,
    staff: &str,
    scan_id: &Value,
    reasons: &[&str],
) -> (u16, Value) {
    body(
        app.post_json_as(
            staff,
            "/v1/notices",
            &json!({
                "scan_id": scan_id,
                "observation_from": "2026-02-15",
                "observation_to": "2026-03-01",
                "reasons": reasons,
            }),
        )
        .await,
    )
    .await
}

pub(crate) fn reasons_of(code: &Value) -> Vec<String> {
    let mut reasons: Vec<String> = code["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["reason"].as_str().expect("reason").to_owned())
        .collect();
    reasons.sort();
    reasons
}

async fn granted_staff_scan_and_release_a_person_who_sees_the_notice(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let feed_token = app.service_token("feed").await;
    let (doctor, doctor_id) = staff(&app, &admin, 2).await;
    let (citizen, citizen_id, code) =
        red_citizen(&app, &feed_token, 3, &["close_contact", "home_quarantine"]).await;

    // The scan: name and phone in clear (a government role), reasons with since and source,
    // and nothing of that kept in clear by the idempotency record a retry replays.
    let scan = |key: &'static str| {
        app.client
            .post(app.url("/v1/scans"))
            .bearer_auth(&doctor)
            .header("Idempotency-Key", key)
            .json(&json!({"token": code, "context": {"medical": true}}))
            .send()
    };
    let (status, scanned) = body(scan("scan-1").await.expect("scan")).await;
    assert_eq!(status, 200, "{scanned}");
    assert_eq!(scanned["person_id"], citizen_id.as_str());
    assert_eq!(scanned["name"], "王小红");
    assert_eq!(scanned["phone"], "13912345678");
    assert_eq!(scanned["name_masked"], "王*红");
    assert_eq!(scanned["colour"], "red");
    let reasons = scanned["reasons"].as_array().expect("reasons");
    assert_eq!(reasons.len(), 2, "{scanned}");
    let close = reasons
        .iter()
        .find(|r| r["reason"] == "close_contact")
        .expect("close contact");
    assert_eq!(close["label"], "密切接触者");
    assert_eq!(close["since"], "2026-03-01T10:00:00+08:00");
    assert_eq!(close["source"], "hit-3-close_contact");
    let (status, replayed) = body(scan("scan-1").await.expect("scan")).await;
    assert_eq!(status, 200);
    assert_eq!(replayed, scanned, "a retry answers alike");
    let rows = crate::grids::every_row(&app.state.services.db).await;
    assert!(!rows.contains("王小红"), "the name is in no row");
    assert!(!rows.contains("13912345678"), "the phone is in no row");

    // The citizen sees who read their data.
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    let medical: Vec<&Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["accessor"]["kind"] == "medical")
        .collect();
    assert_eq!(medical.len(), 2, "code and profile read: {log}");
    assert!(medical
        .iter()
        .all(|i| i["accessor"]["person_id"] == doctor_id.as_str()));

    // The notice releases both reasons; the code turns green.
    let (status, issued) = notice(
        &app,
        &doctor,
        &scanned["scan_id"],
        &["close_contact", "home_quarantine"],
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["number"], "YK2026-000001");
    assert_eq!(
        issued["released"],
        json!(["close_contact", "home_quarantine"])
    );
    let at = issued["position"].as_u64().expect("position");
    let green = app
        .get_json(&citizen, &format!("/v1/me/code?min_position={at}"))
        .await;
    assert_eq!(green["colour"], "green", "{green}");
    assert!(reasons_of(&green).is_empty());
    // One notice per scan.
    let (status, problem) = notice(&app, &doctor, &scanned["scan_id"], &["close_contact"]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("notice.already_issued"))
    );

    // The citizen's notices hold it beside appeal decisions; the notice and its printable page.
    let notices = app
        .get_json(&citizen, &format!("/v1/me/notices?min_position={at}"))
        .await;
    let item = &notices["items"][0];
    assert_eq!(item["kind"], "release_notice", "{notices}");
    assert_eq!(item["number"], "YK2026-000001");
    assert_eq!(item["unit"], "广州市第八人民医院");
    assert_eq!(item["observation_from"], "2026-02-15");
    let path = format!("/v1/notices/{}", issued["notice_id"].as_str().expect("id"));
    let shown = app.get_json(&citizen, &path).await;
    assert_eq!(shown["name_masked"], "王*红");
    assert_eq!(shown["staff_masked"], "李*生");
    assert_eq!(shown["position"], "主治医师");
    assert_eq!(shown["reasons"][0]["label"], "密切接触者");
    assert_eq!(shown["withdrawal"], Value::Null);
    let page = app.get_as(&citizen, &format!("{path}/printable")).await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html")));
    let html = page.text().await.expect("html");
    for expected in [
        "解除隔离医学观察电子告知书",
        "YK2026-000001",
        "王*红",
        "2026年2月15日 至 2026年3月1日",
        "密切接触者",
        "居家隔离人员",
        "广州市第八人民医院",
        "李*生",
        "2026年3月2日",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    assert!(!html.contains("王小红"), "the page shows the masked name");
    // The issuer sees it and lists it; nobody else sees it.
    assert_eq!(
        app.get_json(&doctor, &path).await["number"],
        "YK2026-000001"
    );
    let mine = app
        .get_json(&doctor, &format!("/v1/me/issued-notices?min_position={at}"))
        .await;
    assert_eq!(mine["items"][0]["number"], "YK2026-000001", "{mine}");
    assert_eq!(mine["items"][0]["person_id"], citizen_id.as_str());
    let (stranger, _) = app.login(&resident(9), "路人").await;
    let (status, problem) = body(app.get_as(&stranger, &path).await).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("notice.unknown"))
    );
    let me = app
        .get_json(&doctor, &format!("/v1/me?min_position={at}"))
        .await;
    assert!(
        me["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r["role"] == "medical_staff"),
        "{me}"
    );
    app.stop().await;
}

async fn the_roster_is_the_province_admins_and_revocation_counts_at_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let feed_token = app.service_token("feed").await;
    let (doctor, doctor_id) = staff(&app, &admin, 2).await;
    let (nurse, _) = staff(&app, &admin, 4).await;
    // Only the province admin grants; the person signs in first; once; each field checked.
    let (status, _) = grant(&app, &doctor, 5).await;
    assert_eq!(status, 403);
    let (status, problem) = grant(&app, &admin, 6).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("person.unknown"))
    );
    let (status, problem) = grant(&app, &admin, 2).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("medical.already_granted"))
    );
    let (status, problem) = body(
        app.post_json_as(
            &admin,
            "/v1/medical-staff",
            &json!({
                "document": {"type": "resident_id", "number": "440104197506010000"},
                "name": "", "phone": "12", "unit": "", "position": "医师",
            }),
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
    for field in ["document.number", "name", "phone", "unit"] {
        assert!(fields.contains(&field), "{field} named: {problem}");
    }
    // The roster, to the province admin only, name and phone unmasked.
    let head = app.state.store.last_position().await.expect("head");
    let (status, _) = body(app.get_as(&doctor, "/v1/medical-staff").await).await;
    assert_eq!(status, 403);
    let roster = app
        .get_json(
            &admin,
            &format!("/v1/medical-staff?limit=1&min_position={head}"),
        )
        .await;
    assert_eq!(
        roster["items"][0]["person_id"],
        doctor_id.as_str(),
        "{roster}"
    );
    assert_eq!(roster["items"][0]["name"], "李医生");
    assert_eq!(roster["items"][0]["phone"], "13800138000");
    assert_eq!(roster["items"][0]["unit"], "广州市第八人民医院");
    let next = roster["next"].as_str().expect("a second page");
    let rest = app
        .get_json(&admin, &format!("/v1/medical-staff?after={next}"))
        .await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1), "{rest}");
    assert_eq!(rest["next"], Value::Null);

    // A scan before the revocation; afterwards neither a scan nor a notice on it.
    let (_, _, code) = red_citizen(&app, &feed_token, 3, &["close_contact"]).await;
    let (status, scanned) = medical_scan(&app, &doctor, &code).await;
    assert_eq!(status, 200, "{scanned}");
    let (status, _) = body(
        app.delete_as(&doctor, &format!("/v1/medical-staff/{doctor_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 403, "staff do not revoke");
    let (status, revoked) = body(
        app.delete_as(&admin, &format!("/v1/medical-staff/{doctor_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    let (status, problem) = medical_scan(&app, &doctor, &code).await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = notice(&app, &doctor, &scanned["scan_id"], &["close_contact"]).await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) = body(
        app.delete_as(&admin, &format!("/v1/medical-staff/{doctor_id}"))
            .await,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("medical.not_staff"))
    );
    // Someone who never was staff: no medical scan; and another granted staff member may not
    // issue on the revoked one's scan.
    let (citizen, _) = app.login(&resident(7), "市民").await;
    let (status, _) = medical_scan(&app, &citizen, &code).await;
    assert_eq!(status, 403);
    let (status, _) = notice(&app, &nurse, &scanned["scan_id"], &["close_contact"]).await;
    assert_eq!(status, 403);
    let roster = app
        .get_json(
            &admin,
            &format!("/v1/medical-staff?min_position={}", revoked["position"]),
        )
        .await;
    assert_eq!(
        roster["items"].as_array().map(Vec::len),
        Some(1),
        "{roster}"
    );
    // Granted again, they may scan again.
    let (status, _) = grant(&app, &admin, 2).await;
    assert_eq!(status, 201);
    let (status, _) = medical_scan(&app, &doctor, &code).await;
    assert_eq!(status, 200);
    app.stop().await;
}

async fn a_notice_naming_a_confirmed_or_inactive_reason_releases_nothing(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let feed_token = app.service_token("feed").await;
    let (doctor, _) = staff(&app, &admin, 2).await;
    let (other_doctor, _) = staff(&app, &admin, 4).await;
    let (citizen, _, code) =
        red_citizen(&app, &feed_token, 3, &["confirmed", "close_contact"]).await;
    let (_, scanned) = medical_scan(&app, &doctor, &code).await;
    let scan_id = &scanned["scan_id"];
    let head = app.state.store.last_position().await.expect("head");

    let (status, problem) = notice(&app, &doctor, scan_id, &["close_contact", "confirmed"]).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "notice.reason_not_releasable");
    assert_eq!(problem["reason"], "confirmed");
    let (status, problem) = notice(&app, &doctor, scan_id, &["home_quarantine"]).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "notice.reason_not_active");
    assert_eq!(problem["reason"], "home_quarantine");
    // Bad input is named and changes nothing.
    for (reasons, from, to, field) in [
        (json!([]), "2026-02-15", "2026-03-01", "reasons"),
        (
            json!(["close_contact", "close_contact"]),
            "2026-02-15",
            "2026-03-01",
            "reasons",
        ),
        (json!(["flu"]), "2026-02-15", "2026-03-01", "reasons"),
        (
            json!(["close_contact"]),
            "2026-02-15",
            "2026-03-03",
            "observation_to",
        ),
        (
            json!(["close_contact"]),
            "2026-03-01",
            "2026-02-15",
            "observation_from",
        ),
        (
            json!(["close_contact"]),
            "15/02/2026",
            "2026-03-01",
            "observation_from",
        ),
    ] {
        let (status, problem) = body(
            app.post_json_as(
                &doctor,
                "/v1/notices",
                &json!({"scan_id": scan_id, "observation_from": from,
                        "observation_to": to, "reasons": reasons}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{reasons} {from} {to}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (status, _) = notice(&app, &other_doctor, scan_id, &["close_contact"]).await;
    assert_eq!(status, 403, "someone else's scan");
    let (status, problem) = notice(
        &app,
        &doctor,
        &json!(uuid::Uuid::now_v7()),
        &["close_contact"],
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("scan.unknown"))
    );
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        head,
        "nothing was appended"
    );
    let code_now = app.get_json(&citizen, "/v1/me/code").await;
    assert_eq!(reasons_of(&code_now), vec!["close_contact", "confirmed"]);

    // The releasable reason alone: released, the confirmed one keeps the code red.
    let (status, issued) = notice(&app, &doctor, scan_id, &["close_contact"]).await;
    assert_eq!(status, 201, "{issued}");
    let code_now = app
        .get_json(
            &citizen,
            &format!("/v1/me/code?min_position={}", issued["position"]),
        )
        .await;
    assert_eq!(code_now["colour"], "red");
    assert_eq!(reasons_of(&code_now), vec!["confirmed"]);

    // A scan older than 30 minutes issues nothing.
    let (other, _, other_code) = red_citizen(&app, &feed_token, 5, &["home_quarantine"]).await;
    let (_, late) = medical_scan(&app, &doctor, &other_code).await;
    app.clock.advance(time::Duration::minutes(31));
    let (status, problem) = notice(&app, &doctor, &late["scan_id"], &["home_quarantine"]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("scan.expired"))
    );
    assert_eq!(app.get_json(&other, "/v1/me/code").await["colour"], "red");
    app.stop().await;
}

async fn a_withdrawal_brings_the_reasons_and_the_colour_back(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let feed_token = app.service_token("feed").await;
    let (doctor, _) = staff(&app, &admin, 2).await;
    let (other_doctor, _) = staff(&app, &admin, 4).await;
    let (citizen, _, code) = red_citizen(&app, &feed_token, 3, &["centralised_quarantine"]).await;
    let before = app.get_json(&citizen, "/v1/me/code").await;
    let (_, scanned) = medical_scan(&app, &doctor, &code).await;
    let (_, issued) = notice(
        &app,
        &doctor,
        &scanned["scan_id"],
        &["centralised_quarantine"],
    )
    .await;
    let notice_id = issued["notice_id"].as_str().expect("id");
    let path = format!("/v1/notices/{notice_id}/withdrawal");
    let green = app
        .get_json(
            &citizen,
            &format!("/v1/me/code?min_position={}", issued["position"]),
        )
        .await;
    assert_eq!(green["colour"], "green");

    for token in [&other_doctor, &citizen] {
        let (status, _) = body(
            app.post_json_as(token, &path, &json!({"detail": "wrong"}))
                .await,
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, problem) = body(
        app.post_json_as(&doctor, &path, &json!({"detail": " "}))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "withdrawal.detail");
    let (status, withdrawn) = body(
        app.post_json_as(
            &doctor,
            &path,
            &json!({"detail": "scanned the wrong person"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{withdrawn}");
    let at = withdrawn["position"].as_u64().expect("position");
    let red = app
        .get_json(&citizen, &format!("/v1/me/code?min_position={at}"))
        .await;
    assert_eq!(red["colour"], "red", "{red}");
    assert_eq!(
        red["reasons"], before["reasons"],
        "back as it was, since and source"
    );
    let (status, problem) = body(
        app.post_json_as(&admin, &path, &json!({"detail": "again"}))
            .await,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("notice.already_withdrawn"))
    );
    let shown = app
        .get_json(
            &citizen,
            &format!("/v1/notices/{notice_id}?min_position={at}"),
        )
        .await;
    assert_eq!(shown["withdrawal"]["by"], "issuer", "{shown}");
    assert_eq!(shown["withdrawal"]["detail"], "scanned the wrong person");
    let notices = app.get_json(&citizen, "/v1/me/notices").await;
    assert_eq!(
        notices["items"][0]["kind"], "notice_withdrawal",
        "{notices}"
    );
    assert_eq!(notices["items"][1]["kind"], "release_notice");
    let page = app
        .get_as(&citizen, &format!("/v1/notices/{notice_id}/printable"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("已撤销"),
        "a withdrawn notice says so in words"
    );

    // The province admin withdraws a notice of a staff member since revoked.
    let (_, scanned) = medical_scan(&app, &other_doctor, &code).await;
    let (status, issued) = notice(
        &app,
        &other_doctor,
        &scanned["scan_id"],
        &["centralised_quarantine"],
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let other_id = app.get_json(&other_doctor, "/v1/me").await["person_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = body(
        app.delete_as(&admin, &format!("/v1/medical-staff/{other_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let path = format!(
        "/v1/notices/{}/withdrawal",
        issued["notice_id"].as_str().expect("id")
    );
    let (status, _) = body(
        app.post_json_as(&other_doctor, &path, &json!({"detail": "mine"}))
            .await,
    )
    .await;
    assert_eq!(status, 403, "a revoked issuer no longer withdraws");
    let (status, withdrawn) = body(
        app.post_json_as(&admin, &path, &json!({"detail": "issued in error"}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{withdrawn}");
    let red = app
        .get_json(
            &citizen,
            &format!("/v1/me/code?min_position={}", withdrawn["position"]),
        )
        .await;
    assert_eq!(red["colour"], "red");
    app.stop().await;
}

async fn sixteen_concurrent_notices_take_sixteen_consecutive_numbers(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let feed_token = app.service_token("feed").await;
    let (doctor, _) = staff(&app, &admin, 2).await;
    let mut scans = Vec::new();
    for n in 0..16 {
        let (_, _, code) = red_citizen(&app, &feed_token, 100 + n, &["home_quarantine"]).await;
        let (status, scanned) = medical_scan(&app, &doctor, &code).await;
        assert_eq!(status, 200, "{scanned}");
        scans.push(scanned["scan_id"].clone());
    }
    let answers = futures_util::future::join_all(
        scans
            .iter()
            .map(|scan_id| notice(&app, &doctor, scan_id, &["home_quarantine"])),
    )
    .await;
    let mut numbers: Vec<String> = answers
        .iter()
        .map(|(status, issued)| {
            assert_eq!(*status, 201, "{issued}");
            issued["number"].as_str().expect("number").to_owned()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=16).map(|n| format!("YK2026-{n:06}")).collect();
    assert_eq!(numbers, expected);
    app.stop().await;
}

async fn a_person_granted_the_auditor_role_verifies_the_chain_until_revoked(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let (auditor, auditor_id) = app.login(&resident(2), "审计员").await;
    let grant = |by: &str, role: &str| {
        let by = by.to_owned();
        let role = role.to_owned();
        let app = &app;
        async move {
            body(
                app.post_json_as(
                    &by,
                    "/v1/role-grants",
                    &json!({"document": {"type": "resident_id", "number": resident(2)}, "role": role}),
                )
                .await,
            )
            .await
        }
    };
    let (status, _) = body(app.post_as(&auditor, "/v1/audit/verification").await).await;
    assert_eq!(status, 403, "not yet an auditor");
    let (status, _) = grant(&auditor, "auditor").await;
    assert_eq!(status, 403, "only the province admin grants");
    let (status, problem) = grant(&admin, "feed").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "role.unknown");
    let (status, granted) = grant(&admin, "auditor").await;
    assert_eq!(status, 201, "{granted}");
    assert_eq!(granted["person_id"], auditor_id.as_str());
    let (status, problem) = grant(&admin, "auditor").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("role.already_granted"))
    );

    let (status, verified) = body(app.post_as(&auditor, "/v1/audit/verification").await).await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["ok"], true);
    assert!(verified["checked"].as_u64().expect("checked") > 0);
    let (status, _) = body(app.get_as(&auditor, "/v1/audit/events?limit=5").await).await;
    assert_eq!(status, 200);
    // Reading a person's own stream is in their access log, whoever the auditor is.
    let (citizen, citizen_id) = app.login(&resident(3), "市民").await;
    let (status, read) = body(
        app.get_as(&auditor, &format!("/v1/audit/streams/person-{citizen_id}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    let service_auditor = app.service_token("auditor").await;
    let (status, _) = body(
        app.get_as(
            &service_auditor,
            &format!("/v1/audit/streams/access-{citizen_id}"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    // Paging the log filtered to the person's stream is a read of their data too; paging it
    // unfiltered is not.
    let (status, paged) = body(
        app.get_as(
            &service_auditor,
            &format!("/v1/audit/events?stream=person-{citizen_id}"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{paged}");
    assert!(!paged["items"].as_array().expect("items").is_empty());
    let (status, _) = body(
        app.get_as(&service_auditor, "/v1/audit/events?limit=5")
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    let kinds: Vec<(&str, &str)> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["accessor"]["kind"].as_str().expect("kind"),
                i["data"].as_str().expect("data"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("service", "history"),
            ("service", "history"),
            ("auditor", "history")
        ],
        "{log}"
    );
    assert_eq!(
        log["items"][2]["accessor"]["person_id"],
        auditor_id.as_str()
    );
    // The auditor role is not the analyst's.
    let (status, _) = body(app.get_as(&auditor, "/v1/exports/events.ndjson").await).await;
    assert_eq!(status, 403);
    let me = app
        .get_json(
            &auditor,
            &format!("/v1/me?min_position={}", granted["position"]),
        )
        .await;
    assert!(
        me["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r["role"] == "auditor"),
        "{me}"
    );

    let revoke = format!("/v1/role-grants/{auditor_id}/auditor");
    let (status, _) = body(app.delete_as(&auditor, &revoke).await).await;
    assert_eq!(status, 403);
    let (status, revoked) = body(app.delete_as(&admin, &revoke).await).await;
    assert_eq!(status, 200, "{revoked}");
    let (status, _) = body(app.post_as(&auditor, "/v1/audit/verification").await).await;
    assert_eq!(status, 403, "lost at once");
    let (status, problem) = body(app.delete_as(&admin, &revoke).await).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("role.not_granted"))
    );
    // An analyst reads projections and the export with their session.
    let (status, _) = grant(&admin, "analyst").await;
    assert_eq!(status, 201);
    let (status, _) = body(app.get_as(&auditor, "/v1/exports/events.ndjson").await).await;
    assert_eq!(status, 200);
    app.stop().await;
}

async fn staff_do_not_release_themselves_and_a_feed_release_outlasts_a_withdrawal(
    db: TestDatabase,
) {
    let app = TestApp::spawn(db).await;
    let admin = province_admin(&app).await;
    let feed_token = app.service_token("feed").await;
    let (doctor, _) = staff(&app, &admin, 2).await;
    // Red themself, the staff member scans their own code: no notice for themself.
    let at = feed(&app, &feed_token, 2, &["close_contact"], "hit").await;
    let own = app
        .get_json(&doctor, &format!("/v1/me/code?min_position={at}"))
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, scanned) = medical_scan(&app, &doctor, &own).await;
    assert_eq!(status, 200, "{scanned}");
    let (status, problem) = notice(&app, &doctor, &scanned["scan_id"], &["close_contact"]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("notice.own_code"))
    );

    // A citizen released by a notice, then by the feed: withdrawing the notice leaves the
    // code green, the feed's release standing.
    let (citizen, _, code) = red_citizen(&app, &feed_token, 3, &["home_quarantine"]).await;
    let (_, scanned) = medical_scan(&app, &doctor, &code).await;
    let (status, issued) = notice(&app, &doctor, &scanned["scan_id"], &["home_quarantine"]).await;
    assert_eq!(status, 201, "{issued}");
    let released = feed(&app, &feed_token, 3, &["home_quarantine"], "release").await;
    let (status, withdrawn) = body(
        app.post_json_as(
            &doctor,
            &format!(
                "/v1/notices/{}/withdrawal",
                issued["notice_id"].as_str().expect("id")
            ),
            &json!({"detail": "issued on the wrong scan"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{withdrawn}");
    let at = withdrawn["position"]
        .as_u64()
        .expect("position")
        .max(released);
    let green = app
        .get_json(&citizen, &format!("/v1/me/code?min_position={at}"))
        .await;
    assert_eq!(green["colour"], "green", "{green}");
    app.stop().await;
}
