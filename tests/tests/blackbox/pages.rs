//! The pages over HTTP (no browser), on SQLite and PostgreSQL: the citizen's declaration form
//! (errors beside their fields, the history after), binding by code, the medical staff's scan
//! and notice with its printable page, and the auditor's page — each as the signed-in person's
//! cookie sees it, each form with its anti-forgery token.

use event_store::testing::TestDatabase;
use serde_json::json;
use yuekang_tests::{body, resident_id, TestApp};

event_store::backend_tests!(
    a_citizen_declares_and_reads_their_records_on_the_pages,
    a_member_binds_with_an_org_code_and_declares_for_the_org,
    medical_staff_issue_and_print_a_notice_from_the_pages,
    the_audit_page_is_for_auditors_only,
    an_org_admin_registers_sees_the_figures_downloads_and_edits_once_a_week,
    a_guardian_adds_a_child_shows_its_code_registers_an_entry_and_appeals,
);

fn resident(n: u32) -> String {
    resident_id("440303198808", n)
}

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

/// A signed-in person's browser, as cookies.
struct Pages<'a> {
    app: &'a TestApp,
    cookies: String,
}

impl<'a> Pages<'a> {
    async fn sign_in(app: &'a TestApp, n: u32, name: &str) -> (Pages<'a>, String, String) {
        let (token, person_id) = app.login(&resident(n), name).await;
        let cookies = format!("yk_session={token}; yk_csrf={CSRF}");
        (Pages { app, cookies }, token, person_id)
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", &self.cookies)
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("page"))
    }

    /// Posts `form` (urlencoded pairs) with the anti-forgery token; follows one redirect.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut pairs = vec![("csrf", CSRF)];
        pairs.extend_from_slice(form);
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookies)
            .form(&pairs)
            .send()
            .await
            .expect("POST");
        if response.status().as_u16() == 303 {
            let to = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .expect("location")
                .to_owned();
            return self.get(&to).await;
        }
        let status = response.status().as_u16();
        (status, response.text().await.expect("page"))
    }
}

async fn a_citizen_declares_and_reads_their_records_on_the_pages(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (pages, _, _) = Pages::sign_in(&app, 1, "何小敏").await;
    let (status, form) = pages.get("/declare").await;
    assert_eq!(status, 200);
    assert!(form.contains("健康申报") && form.contains("咳嗽"), "{form}");

    // Errors beside their fields, nothing filed.
    let (status, refused) = pages
        .post(
            "/declare",
            &[
                ("temperature", "48"),
                ("band", "normal"),
                ("region", "4403x"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains(
            r#"<p id="temperature-error" class="error" role="alert">请填写合理的体温（℃）</p>"#
        ),
        "{refused}"
    );
    assert!(refused.contains(r#"aria-describedby="region-error""#));
    let (_, empty) = pages.get("/history?kind=declarations").await;
    assert!(empty.contains("暂无记录"));

    let (status, filed) = pages
        .post(
            "/declare",
            &[
                ("temperature", "36.6"),
                ("band", "normal"),
                ("symptoms", "cough"),
                ("symptoms", "fatigue"),
                ("contact", "no"),
                ("visited", "深圳湾公园\n海岸城"),
                ("region", "440305"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{filed}");
    assert!(filed.contains("申报成功"));
    assert!(filed.contains("咳嗽、乏力"), "{filed}");
    assert!(filed.contains("36.6℃"));
    for kind in ["checks", "entries", "notices", "access"] {
        let (status, page) = pages.get(&format!("/history?kind={kind}")).await;
        assert_eq!(status, 200, "{kind}");
        assert!(page.contains("暂无记录"), "{kind}: {page}");
    }
    // Signed out: the sign-in page.
    let response = app
        .client
        .get(app.url("/declare"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 303);
    app.stop().await;
}

async fn a_member_binds_with_an_org_code_and_declares_for_the_org(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (_, admin, _) = Pages::sign_in(&app, 2, "单位管理").await;
    let (status, org) = body(
        app.post_json_as(
            &admin,
            "/v1/orgs",
            &json!({"name": "福田小学", "address": "福田区 1 号", "level": "county", "phone": "13800138000"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{org}");
    let code = org["code"].as_str().expect("code");
    let (pages, member, _) = Pages::sign_in(&app, 3, "陈老师").await;
    let (status, refused) = pages.post("/bind", &[("code", "12345")]).await;
    assert_eq!(status, 422);
    assert!(refused.contains(r#"id="code-error""#), "{refused}");
    let (status, bound) = pages.post("/bind", &[("code", code)]).await;
    assert_eq!(status, 200, "{bound}");
    assert!(bound.contains("已绑定组织机构"), "{bound}");
    let (_, form) = pages.get("/declare").await;
    assert!(form.contains("福田小学"), "the org is offered: {form}");
    let org_id = org["org_id"].as_str().expect("id");
    let (status, _) = pages
        .post(
            "/declare",
            &[
                ("org", org_id),
                ("band", "normal"),
                ("contact", "no"),
                ("region", "440304"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let stats = app
        .get_json(&admin, &format!("/v1/orgs/{org_id}/stats"))
        .await;
    assert_eq!(stats["declared_today"], 1, "{stats}");
    let _ = member;
    app.stop().await;
}

async fn medical_staff_issue_and_print_a_notice_from_the_pages(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let province = resident(9);
    services::citizens::bootstrap_province_admin(
        &app.state.services,
        "resident_id",
        &province,
        "省管理",
    )
    .await
    .expect("bootstrap");
    let (admin, _) = app.login(&province, "省管理").await;
    let (pages, _, _) = Pages::sign_in(&app, 4, "梁医生").await;
    let (status, page) = pages.get("/medical").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("您没有进行此操作的权限"),
        "not yet staff: {page}"
    );
    let (status, granted) = body(
        app.post_json_as(
            &admin,
            "/v1/medical-staff",
            &json!({"document": {"type": "resident_id", "number": resident(4)},
                    "name": "梁医生", "phone": "13800138001", "unit": "福田区人民医院", "position": "医师"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{granted}");
    let (citizen, _) = app.login(&resident(5), "杨小花").await;
    let feed = app.service_token("feed").await;
    let (status, fed) = body(
        app.post_json_as(
            &feed,
            "/v1/feed/batches",
            &json!({"records": [{"record_id": "p-1", "document": {"type": "resident_id", "number": resident(5)},
                "name": "杨小花", "reason": "home_quarantine", "action": "hit",
                "effective_at": "2026-03-01T10:00:00+08:00", "region": "440304"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    let code = app
        .get_json(
            &citizen,
            &format!("/v1/me/code?min_position={}", fed["position"]),
        )
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, scanned) = pages.post("/medical/scan", &[("token", &code)]).await;
    assert_eq!(status, 200, "{scanned}");
    assert!(
        scanned.contains(r#"<strong id="name">杨小花</strong>"#),
        "staff see the name: {scanned}"
    );
    assert!(scanned.contains("居家隔离人员"));
    let scan_id = scanned
        .split(r#"name="scan_id" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the scan id in the form")
        .to_owned();
    let (status, issued) = pages
        .post(
            "/medical/notice",
            &[
                ("scan_id", &scan_id),
                ("reasons", "home_quarantine"),
                ("observation_from", "2026-02-16"),
                ("observation_to", "2026-03-01"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    assert!(
        issued.contains(r#"<strong id="number">YK2026-000001</strong>"#),
        "{issued}"
    );
    let notice = issued
        .split(r#"href="/notices/"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the notice link")
        .to_owned();
    let (status, printable) = pages.get(&format!("/notices/{notice}")).await;
    assert_eq!(status, 200);
    assert!(
        printable.contains("YK2026-000001") && printable.contains("杨*花"),
        "{printable}"
    );
    let (_, list) = pages.get("/medical/issued").await;
    assert!(list.contains("YK2026-000001"));
    // The citizen sees it in their records and prints it too; the code is green.
    let (citizen_pages, _, _) = Pages::sign_in(&app, 5, "杨小花").await;
    let (_, records) = citizen_pages.get("/history?kind=notices").await;
    assert!(
        records.contains("解除医学观察电子告知书 YK2026-000001"),
        "{records}"
    );
    let (status, _) = citizen_pages.get(&format!("/notices/{notice}")).await;
    assert_eq!(status, 200);
    let (_, home) = citizen_pages.get("/").await;
    assert!(
        home.contains(r#"<p id="colour" class="colour green">绿码</p>"#),
        "{home}"
    );
    // Anyone else: not found.
    let (stranger, _, _) = Pages::sign_in(&app, 6, "路人甲").await;
    let (status, _) = stranger.get(&format!("/notices/{notice}")).await;
    assert_eq!(status, 404);
    app.stop().await;
}

async fn the_audit_page_is_for_auditors_only(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let province = resident(9);
    services::citizens::bootstrap_province_admin(
        &app.state.services,
        "resident_id",
        &province,
        "省管理",
    )
    .await
    .expect("bootstrap");
    let (admin, _) = app.login(&province, "省管理").await;
    let (pages, _, _) = Pages::sign_in(&app, 7, "审计员").await;
    let (status, _) = pages.get("/audit").await;
    assert_eq!(status, 403);
    let (status, granted) = body(
        app.post_json_as(
            &admin,
            "/v1/role-grants",
            &json!({"document": {"type": "resident_id", "number": resident(7)}, "role": "auditor"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let (status, page) = pages.get("/audit").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("health_codes"), "projections listed: {page}");
    assert!(!page.contains("重建"), "rebuilding is the analyst's");
    let (status, verified) = pages.post("/audit/verify", &[]).await;
    assert_eq!(status, 200);
    assert!(verified.contains("哈希链完整"), "{verified}");
    // The work page lists roles from the read models: once they show the grant.
    app.state
        .wait_for(granted["position"].as_u64())
        .await
        .expect("caught up");
    let (_, work) = pages.get("/work").await;
    assert!(work.contains(r#"href="/audit""#), "{work}");
    app.stop().await;
}

async fn an_org_admin_registers_sees_the_figures_downloads_and_edits_once_a_week(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (pages, _, _) = Pages::sign_in(&app, 8, "许校长").await;
    let (status, form) = pages.get("/org").await;
    assert_eq!(status, 200);
    assert!(form.contains("登记组织机构"));
    let (status, refused) = pages
        .post(
            "/org",
            &[
                ("name", ""),
                ("address", "福田"),
                ("level", "county"),
                ("phone", "1"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains(r#"id="name-error""#) && refused.contains(r#"id="phone-error""#),
        "{refused}"
    );
    let (status, dashboard) = pages
        .post(
            "/org",
            &[
                ("name", "福田中学"),
                ("address", "福田区 2 号"),
                ("level", "county"),
                ("phone", "13800138002"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{dashboard}");
    assert!(dashboard.contains(r#"id="org-code""#), "{dashboard}");
    assert!(
        dashboard.contains(r#"id="declared-series""#),
        "the 14-day chart"
    );
    let csv = app
        .client
        .get(app.url("/org/stats.csv?date=2026-03-02"))
        .header("cookie", &pages.cookies)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status().as_u16(), 200);
    let csv = csv.text().await.expect("text");
    assert!(csv.starts_with("date,members,declared,not_declared,declarations,fever,symptoms\n"));
    assert_eq!(csv.lines().count(), 15, "a header and 14 days: {csv}");
    let (status, edited) = pages
        .post(
            "/org/edit",
            &[
                ("name", "福田实验中学"),
                ("address", "福田区 2 号"),
                ("level", "county"),
                ("phone", "13800138002"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert!(edited.contains("福田实验中学"));
    assert!(
        edited.contains("下次可修改时间"),
        "the page says when: {edited}"
    );
    let (status, refused) = pages
        .post(
            "/org/edit",
            &[
                ("name", "福田第一中学"),
                ("address", "福田区 2 号"),
                ("level", "county"),
                ("phone", "13800138002"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("每个自然周只能修改一次"), "{refused}");
    app.stop().await;
}

async fn a_guardian_adds_a_child_shows_its_code_registers_an_entry_and_appeals(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (pages, guardian, guardian_id) = Pages::sign_in(&app, 30, "罗妈妈").await;
    // Without a development provider the page asks for the provider's assertion.
    let child = app.member_assertion(
        &guardian_id,
        "resident_id",
        &resident_id("440303201503", 1),
        "罗小宝",
        "household",
    );
    let (status, added) = pages
        .post("/family", &[("relation", "child"), ("assertion", &child)])
        .await;
    assert_eq!(status, 200, "{added}");
    assert!(
        added.contains("已添加") && added.contains("罗*宝"),
        "{added}"
    );
    let members = app.get_json(&guardian, "/v1/me/family").await;
    let child_id = members["items"][0]["person_id"]
        .as_str()
        .expect("child")
        .to_owned();
    let (_, home) = pages.get("/").await;
    assert!(
        home.contains(&format!("/?member={child_id}")),
        "the switcher: {home}"
    );
    let (status, child_code) = pages.get(&format!("/?member={child_id}")).await;
    assert_eq!(status, 200);
    assert!(child_code.contains(r#"<p id="colour" class="colour green">绿码</p>"#));
    assert!(!child_code.contains("对此原因申诉"));
    // A stranger's member id shows nothing of them.
    let (stranger, _, _) = Pages::sign_in(&app, 31, "路人乙").await;
    let (_, other) = stranger.get(&format!("/?member={child_id}")).await;
    assert!(!other.contains("qr"), "{other}");

    // An entry: errors beside their fields, then the history.
    let (status, refused) = pages
        .post(
            "/entry",
            &[
                ("origin", ""),
                ("transport", "flight"),
                ("trip_number", ""),
                ("arrival_date", "2026-03-01"),
                ("destination", "110101"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused.contains(r#"id="origin-error""#) && refused.contains(r#"id="destination-error""#),
        "{refused}"
    );
    let (status, entries) = pages
        .post(
            "/entry",
            &[
                ("origin", "湖南省长沙市"),
                ("transport", "train"),
                ("trip_number", "G1001"),
                ("arrival_date", "2026-03-01"),
                ("destination", "440303"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{entries}");
    assert!(
        entries.contains("湖南省长沙市") && entries.contains("G1001"),
        "{entries}"
    );

    // Red, the person appeals from the code page; the feed sees the appeal.
    let feed = app.service_token("feed").await;
    let (status, fed) = body(
        app.post_json_as(
            &feed,
            "/v1/feed/batches",
            &json!({"records": [{"record_id": "a-1", "document": {"type": "resident_id", "number": resident(30)},
                "name": "罗妈妈", "reason": "close_contact", "action": "hit",
                "effective_at": "2026-03-01T10:00:00+08:00", "region": "440303"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    app.state
        .wait_for(fed["position"].as_u64())
        .await
        .expect("caught up");
    let (_, red) = pages.get("/").await;
    assert!(red.contains("对此原因申诉"), "{red}");
    let (status, appealed) = pages.post("/appeal", &[("reason", "close_contact")]).await;
    assert_eq!(status, 200, "{appealed}");
    assert!(appealed.contains("申诉已提交"));
    let open = app.get_json(&feed, "/v1/feed/appeals").await;
    assert_eq!(open["items"].as_array().map(Vec::len), Some(1), "{open}");
    let (status, again) = pages.post("/appeal", &[("reason", "close_contact")]).await;
    assert_eq!(status, 409);
    assert!(again.contains("申诉正在处理中"), "{again}");
    app.stop().await;
}
