//! Page tests in a real headless Chromium (Debian's `chromium` and `chromium-driver`) against
//! the real server on SQLite: what a person sees. Screenshots of each page at 360 px and
//! 1280 px wide go to `target/screenshots/`.

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use yuekang_tests::webdriver::{self, Browser};
use yuekang_tests::{body, resident_id, TestApp};

fn resident(n: u32) -> String {
    resident_id("440304199105", n)
}

async fn app() -> TestApp {
    TestApp::spawn_with(TestDatabase::sqlite().await, |settings| settings.dev = true).await
}

/// Saves the page at both widths (`target/screenshots/<name>-360.png`, `-1280.png`) and
/// checks it loaded and links nothing from another host.
async fn capture(browser: &Browser, app: &TestApp, name: &str) {
    let origin = app.url("");
    let foreign = browser.foreign_requests(&origin).await;
    assert!(
        foreign.is_empty(),
        "{name} asks another host for {foreign:?}"
    );
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    for (width, height) in [(360, 800), (1280, 900)] {
        browser.resize(width, height).await;
        browser
            .screenshot(&folder.join(format!("{name}-{width}.png")))
            .await;
    }
    browser.resize(1280, 900).await;
}

/// Signs in through the development form.
async fn sign_in(browser: &Browser, app: &TestApp, n: u32, name: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#doc_number", &resident(n)).await;
    browser.fill("#name", name).await;
    browser.fill("#phone", "13912345678").await;
    browser.click("#sign-in").await;
    browser.wait_for("#colour").await;
}

async fn sign_out(browser: &Browser) {
    browser.click("form[action='/logout'] button").await;
    browser.wait_for("#sign-in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_sees_the_code_turn_red_after_a_feed_hit() {
    if !webdriver::available() {
        return;
    }
    let app = app().await;
    let browser = Browser::start(1280, 900).await;
    browser.goto(&app.url("/")).await;
    assert!(
        browser.current_url().await.ends_with("/login"),
        "sent to sign in"
    );
    capture(&browser, &app, "login").await;
    sign_in(&browser, &app, 1, "陈小明").await;
    assert_eq!(browser.text("#colour").await, "绿码");
    assert_eq!(browser.count(".qr svg").await, 1, "the QR is shown");
    capture(&browser, &app, "code-green").await;

    let feed = app.service_token("feed").await;
    let (status, fed) = body(
        app.post_json_as(
            &feed,
            "/v1/feed/batches",
            &json!({"records": [{
                "record_id": "browser-1",
                "document": {"type": "resident_id", "number": resident(1)},
                "name": "陈小明", "reason": "close_contact", "action": "hit",
                "effective_at": "2026-03-01T10:00:00+08:00", "region": "440304",
            }]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    app.state
        .wait_for(fed["position"].as_u64())
        .await
        .expect("caught up");
    browser.click("#refresh").await;
    browser.wait_for(".reason .label").await;
    assert_eq!(browser.text("#colour").await, "红码");
    assert!(browser.text(".reason .label").await.contains("密切接触者"));
    capture(&browser, &app, "code-red").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_day_seen_by_its_admin_and_recorded_by_its_inspector() {
    if !webdriver::available() {
        return;
    }
    let app = app().await;
    let browser = Browser::start(1280, 900).await;

    // The admin registers the venue; a form error appears next to its field.
    sign_in(&browser, &app, 10, "林场主").await;
    browser.goto(&app.url("/venue")).await;
    capture(&browser, &app, "venue-register").await;
    browser.fill("#name", "").await;
    browser.fill("#region", "123").await;
    browser.click("#register").await;
    browser.wait_for("#region-error").await;
    let beside: Value = browser
        .script(
            "const e = document.getElementById('region-error'); \
             const f = document.getElementById('region'); \
             return e !== null && e.parentElement === f.parentElement \
                 && f.getAttribute('aria-describedby') === 'region-error' ? e.textContent : null;",
        )
        .await;
    assert_eq!(
        beside,
        json!("请填写 9 位镇（街道）区划代码"),
        "the error sits by its field"
    );
    assert_eq!(browser.count("#name-error").await, 1);
    capture(&browser, &app, "venue-register-errors").await;
    browser.fill("#name", "南山茶餐厅").await;
    browser.fill("#region", "440305001").await;
    browser.fill("#address", "南头街道 1 号").await;
    browser.fill("#phone", "13800138000").await;
    browser.click("#register").await;
    browser.wait_for("#venue-code").await;
    let code = browser.text("#venue-code").await;
    assert_eq!(code.len(), 8, "the venue's binding code: {code}");
    sign_out(&browser).await;

    // The inspector binds with the code, pastes a citizen's code and records a fever.
    let (citizen, _) = app.login(&resident(11), "黄小红").await;
    let token = app.get_json(&citizen, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    sign_in(&browser, &app, 12, "吴检测").await;
    browser.goto(&app.url("/inspect")).await;
    browser.fill("#code", &code).await;
    browser.click("#bind").await;
    browser.wait_for("#token").await;
    capture(&browser, &app, "inspector-scan").await;
    browser.fill("#token", &token).await;
    browser.click("#scan").await;
    browser.wait_for("#band-fever").await;
    assert_eq!(browser.text("#colour").await, "绿码");
    assert_eq!(browser.text("#name").await, "黄*红");
    capture(&browser, &app, "inspector-answer").await;
    browser.click("#band-fever").await;
    browser.wait_for("#recorded").await;
    assert!(browser.text("#recorded").await.contains("已记录：发热"));
    // Where the browser has BarcodeDetector (not desktop Linux Chromium: stood in for here by
    // a detector that reads the second citizen's code), a picture of the code is uploaded.
    let (second, _) = app.login(&resident(17), "钱小青").await;
    let second_token = app.get_json(&second, "/v1/me/code").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    browser.click("main a.button").await;
    browser.wait_for("#token").await;
    assert_eq!(
        browser
            .script("return document.getElementById('upload').hidden && document.getElementById('camera').hidden;")
            .await,
        json!(true),
        "without BarcodeDetector only pasting is offered"
    );
    browser
        .script(&format!(
            "window.BarcodeDetector = class {{ constructor(o) {{}} async detect(i) {{ return [{{ rawValue: {second_token:?} }}]; }} }};\
             const s = document.createElement('script'); \
             s.src = document.querySelector('script[src*=scan]').src; document.body.appendChild(s); return true;"
        ))
        .await;
    browser.wait_for("#upload:not([hidden])").await;
    // Any picture will do for the stand-in detector: a screenshot of this page.
    let picture = std::env::temp_dir().join(format!("yuekang-code-{}.png", uuid::Uuid::new_v4()));
    browser.screenshot(&picture).await;
    browser.upload("#upload input", &picture).await;
    browser.wait_for("#band-normal").await;
    assert_eq!(browser.text("#name").await, "钱*青");
    browser.click("#band-normal").await;
    browser.wait_for("#recorded").await;
    let head = app.state.store.last_position().await.expect("head");
    let checks = app
        .get_json(&citizen, &format!("/v1/me/checks?min_position={head}"))
        .await;
    assert_eq!(checks["items"][0]["band"], "fever", "{checks}");
    sign_out(&browser).await;

    // More of the day through the API: a normal check and two quick check-ins.
    let (inspector, _) = app.login(&resident(12), "吴检测").await;
    let (admin, _) = app.login(&resident(10), "林场主").await;
    let venue_id = app.get_json(&inspector, "/v1/me/venues").await["items"][0]["venue_id"]
        .as_str()
        .expect("venue")
        .to_owned();
    let (other, _) = app.login(&resident(13), "周小白").await;
    let other_token = app.get_json(&other, "/v1/me/code").await["token"].clone();
    let (status, scanned) = body(
        app.post_json_as(
            &inspector,
            "/v1/scans",
            &json!({"token": other_token, "context": {"venue_id": venue_id}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{scanned}");
    let (status, _) = body(
        app.post_json_as(
            &inspector,
            &format!("/v1/venues/{venue_id}/checks"),
            &json!({"scan_id": scanned["scan_id"], "band": "normal"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let poster = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}/poster"))
        .await["token"]
        .clone();
    for n in [14, 15] {
        let (walker, _) = app.login(&resident(n), "路人").await;
        let (status, _) = body(
            app.post_json_as(&walker, "/v1/checkins", &json!({"poster_token": poster}))
                .await,
        )
        .await;
        assert_eq!(status, 201);
    }
    let head = app.state.store.last_position().await.expect("head");
    let stats = app
        .get_json(
            &admin,
            &format!("/v1/venues/{venue_id}/stats?date=2026-03-02&min_position={head}"),
        )
        .await;

    // The dashboard shows the same figures, its charts the same data.
    sign_in(&browser, &app, 10, "林场主").await;
    browser.goto(&app.url("/venue?date=2026-03-02")).await;
    let figure = |id: &'static str| {
        let browser = &browser;
        async move {
            browser
                .text(&format!("#{id} .n"))
                .await
                .parse::<i64>()
                .expect("a number")
        }
    };
    assert_eq!(
        figure("checks-today").await,
        stats["checks_today"].as_i64().expect("n")
    );
    assert_eq!(
        figure("persons-today").await,
        stats["persons_today"].as_i64().expect("n")
    );
    assert_eq!(
        figure("fever-today").await,
        stats["fever_today"].as_i64().expect("n")
    );
    assert_eq!(stats["checks_today"], 5, "{stats}");
    let data = |id: &'static str| {
        let browser = &browser;
        async move {
            browser
                .script(&format!(
                    "return document.querySelector('#{id} svg').getAttribute('data-values');"
                ))
                .await
                .as_str()
                .expect("data")
                .split(',')
                .map(|v| v.parse::<i64>().expect("number"))
                .collect::<Vec<_>>()
        }
    };
    let hourly: Vec<i64> = stats["hourly"]
        .as_array()
        .expect("hourly")
        .iter()
        .map(|v| v.as_i64().expect("n"))
        .collect();
    assert_eq!(data("hourly").await, hourly);
    assert_eq!(
        data("sex").await,
        vec![
            stats["sex"]["male"].as_i64().expect("n"),
            stats["sex"]["female"].as_i64().expect("n")
        ]
    );
    let bands = &stats["age_bands"];
    assert_eq!(
        data("age").await,
        ["0-17", "18-39", "40-59", "60+"]
            .iter()
            .map(|b| bands[b].as_i64().expect("n"))
            .collect::<Vec<_>>()
    );
    capture(&browser, &app, "venue-dashboard").await;
    browser.goto(&app.url("/venue/poster")).await;
    assert_eq!(browser.count(".poster .qr svg").await, 1);
    capture(&browser, &app, "venue-poster").await;

    // The poster's check-in page, as a phone opens it: signed out, it asks to sign in first,
    // then comes back to the check-in.
    sign_out(&browser).await;
    let poster = poster.as_str().expect("poster token");
    browser
        .goto(&app.url(&format!("/checkin?t={poster}")))
        .await;
    browser.wait_for("#sign-in").await;
    browser.fill("#doc_number", &resident(16)).await;
    browser.fill("#name", "郑过客").await;
    browser.click("#sign-in").await;
    capture(&browser, &app, "checkin").await;
    browser.click("#check-in").await;
    browser.wait_for("#venue-name").await;
    assert_eq!(browser.text("#venue-name").await, "南山茶餐厅");
    app.stop().await;
}

/// Without the anti-forgery token, or from another origin, a form post is refused and
/// changes nothing; with it, it goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_anti_forgery_token_is_refused() {
    let app = app().await;
    let (session, _) = app.login(&resident(20), "蔡场主").await;
    let cookies = format!("yk_session={session}; yk_csrf={}", "c".repeat(48));
    let post = |form: &'static str, origin: Option<&'static str>| {
        let mut request = app
            .client
            .post(app.url("/venue"))
            .header("cookie", cookies.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let venue = "name=%E8%8C%B6&type=dining&region=440305001&address=1&phone=13800138000";
    let head = app.state.store.last_position().await.expect("head");
    for (form, origin) in [
        (venue, None),
        (
            "csrf=dddddddddddddddddddddddddddddddddddddddddddddddd&name=x",
            None,
        ),
    ] {
        let refused = post(form, origin).await.expect("post");
        assert_eq!(refused.status().as_u16(), 403);
        assert!(refused.text().await.expect("page").contains("csrf.refused"));
    }
    let with_token: &'static str =
        Box::leak(format!("csrf={}&{venue}", "c".repeat(48)).into_boxed_str());
    let refused = post(with_token, Some("http://evil.example"))
        .await
        .expect("post");
    assert_eq!(refused.status().as_u16(), 403, "another origin");
    assert_eq!(
        app.state.store.last_position().await.expect("head"),
        head,
        "nothing was recorded"
    );
    let accepted = post(with_token, None).await.expect("post");
    assert_eq!(
        accepted.status().as_u16(),
        303,
        "the same form with its token"
    );
    app.stop().await;
}

/// Every page, as a person holding every role sees it: a screenshot at both widths, and not
/// one request to another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_at_both_widths_asks_nothing_of_another_host() {
    if !webdriver::available() {
        return;
    }
    let app = app().await;
    let me = resident(30);
    services::citizens::bootstrap_province_admin(&app.state.services, "resident_id", &me, "全角色")
        .await
        .expect("bootstrap");
    let (token, _) = app.login(&me, "全角色").await;
    let document = json!({"type": "resident_id", "number": me});
    for (path, body_json) in [
        (
            "/v1/medical-staff",
            json!({"document": document, "name": "全角色", "phone": "13800138000", "unit": "人民医院", "position": "医师"}),
        ),
        (
            "/v1/role-grants",
            json!({"document": document, "role": "auditor"}),
        ),
        (
            "/v1/role-grants",
            json!({"document": document, "role": "analyst"}),
        ),
        (
            "/v1/orgs",
            json!({"name": "全角色单位", "address": "福田区 3 号", "level": "county", "phone": "13800138000"}),
        ),
        (
            "/v1/grids",
            json!({"region": "440304001", "name": "全角色网格"}),
        ),
    ] {
        let (status, answer) = body(app.post_json_as(&token, path, &body_json).await).await;
        assert!(status == 201, "{path}: {answer}");
    }
    let head = app.state.store.last_position().await.expect("head");
    app.state.wait_for(Some(head)).await.expect("caught up");
    let browser = Browser::start(1280, 900).await;
    sign_in(&browser, &app, 30, "全角色").await;
    for (name, path, shown) in [
        ("declare", "/declare", "#declare"),
        ("history", "/history", "#items"),
        ("history-access", "/history?kind=access", "#items"),
        ("family", "/family", "#add-member"),
        ("entry", "/entry", "#register-entry"),
        ("bind", "/bind", "#bind"),
        ("work", "/work", "#roles"),
        ("org", "/org", "#org-code"),
        ("inspect", "/inspect", "#bind"),
        ("grid", "/grid", "#grid-code"),
        ("grid-work", "/grid/work", "main"),
        ("grid-accept", "/grid/accept", "#accept"),
        ("region", "/region", "#appoint"),
        ("medical", "/medical", "#scan"),
        ("medical-issued", "/medical/issued", "main"),
        ("audit", "/audit", "#verify"),
        ("audit-events", "/audit/events", "#events"),
    ] {
        browser.goto(&app.url(path)).await;
        browser.wait_for(shown).await;
        capture(&browser, &app, name).await;
    }
    app.stop().await;
}
