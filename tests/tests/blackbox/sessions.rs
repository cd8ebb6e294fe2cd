//! Black-box tests of ending sessions and revoking service accounts, on SQLite and
//! PostgreSQL: signing out ends that session at once and only that one; a shredded person's
//! sessions stop working; a revoked service account's token is refused from the revocation
//! on, by route or by the operator's command, without waiting for any read model; a session
//! ended by another process on the same database is refused soon after, though the server
//! keeps the session stream in memory.

use event_store::testing::TestDatabase;
use yuekang_tests::{body, resident_id, TestApp};

event_store::backend_tests!(
    signing_out_ends_that_session_at_once,
    a_shredded_persons_sessions_stop_working,
    a_revoked_service_account_is_refused_at_once,
    a_sign_out_by_another_process_reaches_the_server,
);

fn resident(n: u32) -> String {
    resident_id("440306199211", n)
}

async fn me(app: &TestApp, token: &str) -> (u16, serde_json::Value) {
    body(app.get_as(token, "/v1/me").await).await
}

async fn signing_out_ends_that_session_at_once(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (phone, _) = app.login(&resident(1), "欧阳明").await;
    let (laptop, _) = app.login(&resident(1), "欧阳明").await;
    let (status, out) = body(app.delete_as(&phone, "/v1/sessions/current").await).await;
    assert_eq!(status, 200, "{out}");
    assert!(out["position"].as_u64().is_some());
    let (status, problem) = me(&app, &phone).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("session.ended"))
    );
    let (status, _) = me(&app, &laptop).await;
    assert_eq!(status, 200, "the other session goes on");
    let (status, _) = body(app.delete_as(&phone, "/v1/sessions/current").await).await;
    assert_eq!(status, 200, "signing out twice changes nothing");
    let (status, _) = body(
        app.delete_as("yk_s_forged.tag", "/v1/sessions/current")
            .await,
    )
    .await;
    assert_eq!(status, 401);

    // The pages' sign-out ends the cookie's session too.
    let csrf = "f".repeat(48);
    let response = app
        .client
        .post(app.url("/logout"))
        .header("cookie", format!("yk_session={laptop}; yk_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status().as_u16(), 303);
    let (status, problem) = me(&app, &laptop).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("session.ended"))
    );
    let (fresh, _) = app.login(&resident(1), "欧阳明").await;
    assert_eq!(me(&app, &fresh).await.0, 200, "signing in again works");
    app.stop().await;
}

async fn a_shredded_persons_sessions_stop_working(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let (token, _) = app.login(&resident(2), "司马光").await;
    assert_eq!(me(&app, &token).await.0, 200);
    let document = domain::document::Document::parse(
        "resident_id",
        &resident(2),
        domain::week::today(app.state.services.now()),
    )
    .expect("document");
    let digest =
        services::citizens::digest_of(&app.state.services.keys, &document).expect("digest");
    services::citizens::shred(&app.state.services, "operator", &digest)
        .await
        .expect("shred");
    let (status, problem) = me(&app, &token).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("session.ended"))
    );
    app.stop().await;
}

async fn a_revoked_service_account_is_refused_at_once(db: TestDatabase) {
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
    let (citizen, _) = app.login(&resident(3), "诸葛亮").await;
    let feed = services::service_accounts::create(&app.state.services.bus, "feed", "test feed")
        .await
        .expect("create");
    app.state
        .wait_for(Some(feed.position))
        .await
        .expect("caught up");
    let appeals = |token: String| {
        let app = &app;
        async move { body(app.get_as(&token, "/v1/feed/appeals").await).await.0 }
    };
    assert_eq!(appeals(feed.token.clone()).await, 200);
    let path = format!("/v1/service-accounts/{}", feed.account_id);
    let (status, _) = body(app.delete_as(&citizen, &path).await).await;
    assert_eq!(status, 403, "only the province admin revokes");
    let (status, revoked) = body(app.delete_as(&admin, &path).await).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(appeals(feed.token.clone()).await, 401, "refused at once");
    let (status, problem) = body(app.delete_as(&admin, &path).await).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("service_account.revoked"))
    );
    let unknown = format!("/v1/service-accounts/{}", uuid::Uuid::now_v7());
    let (status, problem) = body(app.delete_as(&admin, &unknown).await).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("service_account.unknown"))
    );

    // The operator's command (what `yuekang service-account revoke ID` runs) alike.
    let auditor =
        services::service_accounts::create(&app.state.services.bus, "auditor", "test auditor")
            .await
            .expect("create");
    app.state
        .wait_for(Some(auditor.position))
        .await
        .expect("caught up");
    let verify = |token: String| {
        let app = &app;
        async move {
            body(app.post_as(&token, "/v1/audit/verification").await)
                .await
                .0
        }
    };
    assert_eq!(verify(auditor.token.clone()).await, 200);
    services::service_accounts::revoke(
        &app.state.services.bus,
        "operator",
        &auditor.account_id.to_string(),
    )
    .await
    .expect("revoke");
    assert_eq!(verify(auditor.token.clone()).await, 401, "refused at once");
    app.stop().await;
}

async fn a_sign_out_by_another_process_reaches_the_server(db: TestDatabase) {
    // The server keeps the streams it reads in memory (decision 0025), the caller's session
    // stream among them. Another process on the same database (a second server, here its
    // own store, bus and use cases) ends the session: this server must refuse the token soon
    // after, without a restart and without appending anything itself (SQLite: the head poll;
    // PostgreSQL: the notification). No read model is involved: sessions are checked on the
    // log alone.
    let app = TestApp::spawn(db).await;
    let (phone, _) = app.login(&resident(5), "司马光").await;
    let (laptop, _) = app.login(&resident(6), "王安石").await;
    assert_eq!(
        me(&app, &phone).await.0,
        200,
        "the session stream is kept now"
    );
    let db = event_store::Database::connect(&app.db.url)
        .await
        .expect("another process connects");
    let other = event_store::EventStore::open(
        db.clone(),
        event_store::StoreOptions {
            chain_key: event_store::ChainKey::new(app.state.services.keys.chain_key),
            // The same (test) clock as the server's.
            clock: app.state.services.bus.clock().clone(),
            ..Default::default()
        },
    )
    .await
    .expect("another process opens the store");
    let elsewhere = services::Services::new(
        commands::CommandBus::new(other.clone()),
        db,
        app.state.services.keys.clone(),
    );
    services::citizens::sign_out(&elsewhere, &phone)
        .await
        .expect("signed out by the other process");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match me(&app, &phone).await.0 {
            401 => break,
            200 if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            other => panic!("the ended session still answered {other} after 3 s"),
        }
    }
    // Nothing else was disturbed: another person's session still works.
    assert_eq!(me(&app, &laptop).await.0, 200);
    other.shutdown().await;
    app.stop().await;
}
