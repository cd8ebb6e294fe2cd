//! Black-box tests of region admins, on SQLite and PostgreSQL: the province admin appoints
//! city admins, a city its counties (and in Dongguan its towns), a county its towns; only the
//! admin of the enclosing region appoints or revokes; the appointee must have signed in;
//! `GET /v1/me` lists each region role with its scope.

use event_store::testing::TestDatabase;
use event_store::EventReader;
use serde_json::{json, Value};
use yuekang_tests::{body, TestApp};

event_store::backend_tests!(
    admins_are_appointed_down_the_regions,
    only_the_enclosing_regions_admin_appoints_or_revokes,
    appointees_must_have_signed_in_and_seats_hold_one_admin,
);

/// A valid resident ID (MOD 11-2 check character) born in 1980 with serial `n`.
fn resident(n: u32) -> String {
    yuekang_tests::resident_id("440106198001", n)
}

/// Bootstraps the province admin and signs them in.
async fn province_admin(app: &TestApp) -> String {
    let id = resident(1);
    services::citizens::bootstrap_province_admin(&app.state.services, "resident_id", &id, "张省")
        .await
        .expect("bootstrap");
    app.login(&id, "张省").await.0
}

async fn appoint(app: &TestApp, by: &str, region: &str, id: &str, name: &str) -> (u16, Value) {
    body(
        app.post_json_as(
            by,
            &format!("/v1/regions/{region}/admins"),
            &json!({"document": {"type": "resident_id", "number": id}, "name": name}),
        )
        .await,
    )
    .await
}

/// Signs in a new person with serial `n` and appoints them over `region` by `by`.
async fn appointed(app: &TestApp, by: &str, region: &str, n: u32) -> (String, String) {
    let id = resident(n);
    let (token, person_id) = app.login(&id, "王官").await;
    let (status, answer) = appoint(app, by, region, &id, "王官").await;
    assert_eq!(status, 201, "{region}: {answer}");
    assert_eq!(answer["region"], region);
    assert_eq!(answer["person_id"], person_id.as_str());
    (token, person_id)
}

fn region_roles(me: &Value) -> Vec<String> {
    me["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|r| r["role"] == "region_admin")
        .map(|r| r["scope"].as_str().expect("scope").to_owned())
        .collect()
}

async fn admins_are_appointed_down_the_regions(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let province = province_admin(&app).await;
    let (shenzhen, _) = appointed(&app, &province, "4403", 2).await;
    let (nanshan, _) = appointed(&app, &shenzhen, "440305", 3).await;
    let (town, _) = appointed(&app, &nanshan, "440305001", 4).await;
    // Dongguan's towns sit directly under the city: its city admin appoints them.
    let (dongguan, _) = appointed(&app, &province, "4419", 5).await;
    let (dongcheng, _) = appointed(&app, &dongguan, "441900003", 6).await;
    // Zhongshan alike.
    let (zhongshan, _) = appointed(&app, &province, "4420", 15).await;
    let (shiqi, _) = appointed(&app, &zhongshan, "442000001", 16).await;
    // The province admin does not skip a level.
    let skipped = resident(17);
    app.login(&skipped, "跳级").await;
    let (status, _) = appoint(&app, &province, "440305", &skipped, "跳级").await;
    assert_eq!(status, 403);
    for (token, scope) in [
        (&shenzhen, "4403"),
        (&nanshan, "440305"),
        (&town, "440305001"),
        (&dongguan, "4419"),
        (&dongcheng, "441900003"),
        (&zhongshan, "4420"),
        (&shiqi, "442000001"),
    ] {
        let me = wait_for_role(&app, token, scope).await;
        assert_eq!(region_roles(&me), vec![scope.to_owned()]);
    }
    app.stop().await;
}

/// `GET /v1/me` once the read models show `scope` (they follow the log).
async fn wait_for_role(app: &TestApp, token: &str, scope: &str) -> Value {
    let head = app.state.store.last_position().await.expect("head");
    let me = app
        .get_json(token, &format!("/v1/me?min_position={head}"))
        .await;
    assert!(
        region_roles(&me).contains(&scope.to_owned()),
        "{scope} listed: {me}"
    );
    me
}

async fn only_the_enclosing_regions_admin_appoints_or_revokes(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let province = province_admin(&app).await;
    let (guangzhou, _) = appointed(&app, &province, "4401", 2).await;
    let (tianhe, _) = appointed(&app, &guangzhou, "440106", 3).await;
    let (shenzhen, _) = appointed(&app, &province, "4403", 4).await;
    let someone = resident(7);
    app.login(&someone, "赵民").await;
    // A Guangzhou district admin cannot appoint in Shenzhen, nor a Shenzhen district.
    for (region, by) in [
        ("440305001", &tianhe),
        ("440305", &tianhe),
        ("440305", &guangzhou),
    ] {
        let (status, problem) = appoint(&app, by, region, &someone, "赵民").await;
        assert_eq!(status, 403, "{region}: {problem}");
        assert_eq!(problem["code"], "auth.forbidden");
    }
    // Nobody appoints the province admin over HTTP, nor a city-itself code.
    let (status, _) = appoint(&app, &province, "44", &someone, "赵民").await;
    assert_eq!(status, 403);
    let (status, _) = appoint(&app, &province, "441900", &someone, "赵民").await;
    assert_eq!(status, 403);
    // Unknown and malformed regions.
    let (status, problem) = appoint(&app, &province, "4499", &someone, "赵民").await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("region.unknown"))
    );
    let (status, _) = appoint(&app, &province, "44x", &someone, "赵民").await;
    assert_eq!(status, 422);
    // Revoking: only the enclosing admin; the role disappears; the seat can be filled again.
    let (nanshan, nanshan_id) = appointed(&app, &shenzhen, "440305", 8).await;
    wait_for_role(&app, &nanshan, "440305").await;
    let path = format!("/v1/regions/440305/admins/{nanshan_id}");
    let (status, problem) = body(app.delete_as(&guangzhou, &path).await).await;
    assert_eq!(status, 403, "{problem}");
    let (status, revoked) = body(app.delete_as(&shenzhen, &path).await).await;
    assert_eq!(status, 200, "{revoked}");
    let me = app
        .get_json(
            &nanshan,
            &format!("/v1/me?min_position={}", revoked["position"]),
        )
        .await;
    assert!(region_roles(&me).is_empty(), "{me}");
    let (status, problem) = body(app.delete_as(&shenzhen, &path).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("region.no_admin"))
    );
    appointed(&app, &shenzhen, "440305", 9).await;
    let (status, problem) = body(app.delete_as(&shenzhen, &path).await).await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("region.not_the_admin"))
    );
    app.stop().await;
}

async fn appointees_must_have_signed_in_and_seats_hold_one_admin(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let province = province_admin(&app).await;
    let stranger = resident(11);
    let (status, problem) = appoint(&app, &province, "4403", &stranger, "钱民").await;
    assert_eq!(
        (status, problem["code"].clone()),
        (404, json!("person.unknown"))
    );
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("signs in once"),
        "{problem}"
    );
    let (status, problem) = appoint(&app, &province, "4403", "440106198001010011", "钱民").await;
    assert_eq!(status, 422, "a bad check character: {problem}");
    appointed(&app, &province, "4403", 12).await;
    // The same appointment again changes nothing; another person is refused.
    let again = resident(12);
    let (status, _) = appoint(&app, &province, "4403", &again, "王官").await;
    assert_eq!(status, 201);
    let other = resident(13);
    app.login(&other, "孙民").await;
    let (status, problem) = appoint(&app, &province, "4403", &other, "孙民").await;
    assert_eq!(
        (status, problem["code"].clone()),
        (409, json!("region.admin_already_appointed"))
    );
    // A citizen without a region role appoints nobody, and learns nothing of whether a
    // document is registered.
    let (citizen, _) = app.login(&resident(14), "周民").await;
    let (status, _) = appoint(&app, &citizen, "440305", &other, "孙民").await;
    assert_eq!(status, 403);
    let (status, _) = appoint(&app, &citizen, "440305", &resident(15), "孙民").await;
    assert_eq!(status, 403);
    app.stop().await;
}
