//! The pages over HTTP (no browser), on SQLite and PostgreSQL: the citizen's declaration form
//! (errors beside their fields, the history after), binding by code, the medical staff's scan
//! and notice with its printable page, and the auditor's page — each as the signed-in person's
//! cookie sees it, each form with its anti-forgery token.

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::json;
use yuekang_tests::{body, resident_id, TestApp};

event_store::backend_tests!(
    a_citizen_declares_and_reads_their_records_on_the_pages,
    a_member_binds_with_an_org_code_and_declares_for_the_org,
    medical_staff_issue_and_print_a_notice_from_the_pages,
    the_audit_page_is_for_auditors_only,
    an_org_admin_registers_sees_the_figures_downloads_and_edits_once_a_week,
    a_guardian_adds_a_child_shows_its_code_registers_an_entry_and_appeals,
    a_grid_is_created_confirmed_worked_and_dissolved_from_the_pages,
    a_venue_admin_edits_unbinds_and_hands_over_and_an_inspector_reads_the_declaration,
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
    assert!(
        !page.contains(r#"action="/audit/rebuild""#),
        "rebuilding is the analyst's"
    );
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
    // The log, filtered, with personal fields sealed; a stream as of now, recorded.
    let (status, events) = pages
        .get("/audit/events?stream=&type=PersonRegistered")
        .await;
    assert_eq!(status, 200, "{events}");
    assert!(events.contains("PersonRegistered"), "{events}");
    assert!(!events.contains("省管理"), "names stay sealed: {events}");
    let (citizen, citizen_id) = app.login(&resident(8), "市民丁").await;
    let (status, stream) = pages
        .get(&format!("/audit/stream?stream=person-{citizen_id}"))
        .await;
    assert_eq!(status, 200, "{stream}");
    assert!(stream.contains(r#"<pre id="state">"#), "{stream}");
    let head = app.state.store.last_position().await.expect("head");
    let log = app
        .get_json(&citizen, &format!("/v1/me/access-log?min_position={head}"))
        .await;
    assert_eq!(log["items"][0]["accessor"]["kind"], "auditor", "{log}");
    // Granted the analyst role too: a rebuild from the page, its progress in the table.
    let (status, _) = body(
        app.post_json_as(
            &admin,
            "/v1/role-grants",
            &json!({"document": {"type": "resident_id", "number": resident(7)}, "role": "analyst"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let (status, rebuilding) = pages
        .post("/audit/rebuild", &[("name", "health_codes")])
        .await;
    assert_eq!(status, 200, "{rebuilding}");
    assert!(
        rebuilding.contains("已开始重建 health_codes"),
        "{rebuilding}"
    );
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

async fn a_grid_is_created_confirmed_worked_and_dissolved_from_the_pages(db: TestDatabase) {
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
    let (province_pages, _, _) = {
        let (token, id) = app.login(&province, "省管理").await;
        (
            Pages {
                app: &app,
                cookies: format!("yk_session={token}; yk_csrf={CSRF}"),
            },
            token,
            id,
        )
    };
    // The province admin appoints Shenzhen's admin from the back office; Shenzhen its district.
    let (city_pages, _, _) = Pages::sign_in(&app, 40, "深圳管理").await;
    let (status, appointed) = province_pages
        .post(
            "/region/admins",
            &[
                ("region", "4403"),
                ("number", &resident(40)),
                ("name", "深圳管理"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{appointed}");
    assert!(appointed.contains("已任命"));

    // A grid admin creates a grid; it waits for confirmation.
    let (admin_pages, _, _) = Pages::sign_in(&app, 41, "网格长").await;
    let (status, refused) = admin_pages
        .post("/grid", &[("name", ""), ("region", "4403")])
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains(r#"id="region-error""#), "{refused}");
    let (status, grid) = admin_pages
        .post(
            "/grid",
            &[("name", "桃源村一网格"), ("region", "440305005")],
        )
        .await;
    assert_eq!(status, 200, "{grid}");
    assert!(
        grid.contains(r#"<span id="grid-status">待确认</span>"#),
        "{grid}"
    );
    let code = grid
        .split(r#"<strong id="grid-code">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("grid code")
        .to_owned();

    // The city admin confirms it from the back office.
    let (status, office) = city_pages.get("/region").await;
    assert_eq!(status, 200, "{office}");
    assert!(
        office.contains("桃源村一网格") && office.contains(&format!(r#"id="confirm-{code}""#)),
        "{office}"
    );
    let grid_id = office
        .split(r#"action="/region/grids/"#)
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("grid id")
        .to_owned();
    let (status, confirmed) = city_pages
        .post(&format!("/region/grids/{grid_id}/confirmation"), &[])
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert!(confirmed.contains("网格已确认"));

    // A worker binds with the code, scans a resident and records a fever; and one by hand.
    let (worker_pages, _, worker_id) = Pages::sign_in(&app, 42, "网格员").await;
    let (status, bound) = worker_pages.post("/bind", &[("code", &code)]).await;
    assert_eq!(status, 200, "{bound}");
    let (resident_token, _) = app.login(&resident(43), "居民甲").await;
    let token = app.get_json(&resident_token, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, scanned) = worker_pages
        .post(&format!("/grid/{grid_id}/scan"), &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{scanned}");
    assert!(
        scanned.contains(r#"<strong id="name">居*甲</strong>"#),
        "{scanned}"
    );
    let scan_id = scanned
        .split(r#"name="scan_id" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("scan id")
        .to_owned();
    let (status, visited) = worker_pages
        .post(
            &format!("/grid/{grid_id}/visit"),
            &[
                ("mode", "scan"),
                ("scan_id", &scan_id),
                ("band", "fever"),
                ("symptoms", "cough"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{visited}");
    assert!(visited.contains("走访已登记"), "{visited}");
    let (status, manual) = worker_pages
        .post(
            &format!("/grid/{grid_id}/visit"),
            &[
                ("mode", "manual"),
                ("name", "孙大爷"),
                ("doc_type", "resident_id"),
                ("doc_number", &resident_id("440305195001", 3)),
                ("address", "桃源村 3 号"),
                ("band", "normal"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{manual}");

    // The admin sees the figures, authorises the worker; key persons list the feverish one.
    let (_, dashboard) = admin_pages.get("/grid").await;
    assert!(
        dashboard.contains(r#"<span id="grid-status">已确认</span>"#),
        "{dashboard}"
    );
    assert!(
        dashboard.contains(r#"<div class="figure" id="visits-today"><span class="n">&lt;5</span>"#),
        "two people visited are shown as fewer than five: {dashboard}"
    );
    let (status, authorised) = admin_pages
        .post(&format!("/grid/workers/{worker_id}/authorise"), &[])
        .await;
    assert_eq!(status, 200, "{authorised}");
    assert!(authorised.contains("已授权"));
    let (_, key) = admin_pages.get("/grid/key-persons").await;
    assert!(key.contains("居*甲") && key.contains("发热"), "{key}");
    assert!(!key.contains("居民甲"), "masked only");
    let declarations = key
        .split(r#"<a href=""#)
        .find(|r| r.starts_with("/grid/persons/"))
        .and_then(|r| r.split('"').next())
        .expect("a link to the person's declarations")
        .replace("&amp;", "&");
    let (status, listed) = admin_pages.get(&declarations).await;
    assert_eq!(status, 200, "{listed}");
    assert!(listed.contains("暂无健康申报"), "{listed}");
    // Handover: a token shown once.
    let (status, offered) = admin_pages
        .post(
            "/grid/handover",
            &[
                ("successor_name", "接任者"),
                ("successor_number", &resident(44)),
            ],
        )
        .await;
    assert_eq!(status, 200, "{offered}");
    assert!(
        offered.contains(r#"<code id="handover-token">yk_gh_"#),
        "{offered}"
    );
    let handover_token = offered
        .split(r#"<code id="handover-token">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("the handover token")
        .to_owned();
    // Dissolution: the wrong code changes nothing; the grid's code dissolves it.
    let (status, refused) = admin_pages
        .post("/grid/dissolution", &[("confirm_code", "12345678")])
        .await;
    assert_eq!(status, 422, "{refused}");
    // The successor, signed in with the named document, accepts and administers the grid.
    let (successor_pages, _, _) = Pages::sign_in(&app, 44, "接任者").await;
    let (status, refused) = successor_pages
        .post("/grid/accept", &[("token", "yk_gh_nope")])
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, accepted) = successor_pages
        .post("/grid/accept", &[("token", &handover_token)])
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert!(
        accepted.contains("桃源村一网格") && accepted.contains(r#"id="grid-code""#),
        "{accepted}"
    );
    let (status, dissolved) = successor_pages
        .post("/grid/dissolution", &[("confirm_code", &code)])
        .await;
    assert_eq!(status, 200, "{dissolved}");
    assert!(
        dissolved.contains("网格已解散") && dissolved.contains("创建网格"),
        "{dissolved}"
    );
    app.stop().await;
}

async fn a_venue_admin_edits_unbinds_and_hands_over_and_an_inspector_reads_the_declaration(
    db: TestDatabase,
) {
    let app = TestApp::spawn(db).await;
    let (admin, _, _) = Pages::sign_in(&app, 50, "店长").await;
    let (status, dashboard) = admin
        .post(
            "/venue",
            &[
                ("name", "福田书店"),
                ("type", "retail"),
                ("region", "440304001"),
                ("address", "福华路 1 号"),
                ("phone", "13800138005"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{dashboard}");
    let code = dashboard
        .split(r#"<strong id="venue-code">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("code")
        .to_owned();
    let (inspector, _, _) = Pages::sign_in(&app, 51, "检测员乙").await;
    let (status, form) = inspector.post("/inspect/bind", &[("code", &code)]).await;
    assert_eq!(status, 200, "{form}");
    let (citizen, _) = app.login(&resident(52), "市民丙").await;
    let (status, filed) = body(
        app.post_json_as(
            &citizen,
            "/v1/declarations",
            &json!({"band": "normal", "symptoms": ["cough"], "contact_14d": false, "visited": [], "region": "440304"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    app.state
        .wait_for(filed["position"].as_u64())
        .await
        .expect("caught up");
    let token = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let venue_id = form
        .split(r#"action="/inspect/"#)
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("venue id")
        .to_owned();
    let (status, answer) = inspector
        .post(&format!("/inspect/{venue_id}/scan"), &[("token", &token)])
        .await;
    assert_eq!(status, 200, "{answer}");
    let link = answer
        .split(r#"<a href=""#)
        .find(|r| r.contains("/declaration?scan="))
        .and_then(|r| r.split('"').next())
        .expect("the declaration link")
        .to_owned();
    let (status, latest) = inspector.get(&link).await;
    assert_eq!(status, 200, "{latest}");
    assert!(latest.contains("症状：咳嗽"), "{latest}");

    // The admin sees the inspector by masked name and unbinds them.
    let (_, dashboard) = admin.get("/venue").await;
    assert!(dashboard.contains("检**乙"), "{dashboard}");
    let inspector_id = dashboard
        .split(r#"action="/venue/inspectors/"#)
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("inspector id")
        .to_owned();
    let (status, unbound) = admin
        .post(&format!("/venue/inspectors/{inspector_id}/unbind"), &[])
        .await;
    assert_eq!(status, 200);
    assert!(
        unbound.contains("已解绑") && !unbound.contains("检**乙"),
        "{unbound}"
    );
    // Edit once; the second edit that week is refused, saying when.
    let edit = |name: &'static str| {
        [
            ("name", name),
            ("type", "retail"),
            ("region", "440304001"),
            ("address", "福华路 1 号"),
            ("phone", ""),
        ]
    };
    let (_, edited) = admin.post("/venue/edit", &edit("福田书城")).await;
    assert!(
        edited.contains("已保存") && edited.contains("福田书城"),
        "{edited}"
    );
    let (_, refused) = admin.post("/venue/edit", &edit("福田大书城")).await;
    assert!(
        refused.contains("场所信息每个自然周只能修改一次（下次可修改时间：2026-03-09 00:00）"),
        "{refused}"
    );
    // Hand over: a one-time token for the successor, who accepts it signed in with the named
    // document; until then the admin keeps the venue.
    let (_, offered) = admin
        .post("/venue/handover", &[("successor", &resident(53))])
        .await;
    assert!(
        offered.contains(r#"<code id="handover-token">yk_vh_"#),
        "{offered}"
    );
    let handover_token = offered
        .split(r#"<code id="handover-token">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the handover token")
        .to_owned();
    let (_, still) = admin.get("/venue").await;
    assert!(!still.contains("登记公共场所"), "still the admin: {still}");
    let (successor, _, _) = Pages::sign_in(&app, 53, "接任店长").await;
    let (_, form) = successor.get("/venue/accept").await;
    assert!(form.contains(r#"action="/venue/accept""#), "{form}");
    let (status, accepted) = successor
        .post("/venue/accept", &[("token", &handover_token)])
        .await;
    assert_eq!(status, 200, "{accepted}");
    assert!(
        !accepted.contains("登记公共场所"),
        "the successor's venue: {accepted}"
    );
    let (_, handed) = admin.get("/venue").await;
    assert!(handed.contains("登记公共场所"), "{handed}");
    app.stop().await;
}
