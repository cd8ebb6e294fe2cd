//! Black-box tests of the rate limits, on SQLite and PostgreSQL: a script walking the binding
//! codes is stopped after ten misses (`429 rate.limited` with `Retry-After`), long before it
//! could find a code; ordinary use — a family checking in together, a burst of twenty scans,
//! sixteen concurrent attempts at one command, a shared address signing many people in — is
//! never limited; limits are configurable (a service account's, set low here).

use domain::code::{BindingCode, CodeKind};
use event_store::testing::TestDatabase;
use serde_json::json;
use services::limits::{Limits, Rate};
use yuekang_tests::{body, resident_id, TestApp};

event_store::backend_tests!(
    a_code_walker_is_stopped_long_before_finding_a_code,
    ordinary_use_is_never_limited,
    service_accounts_and_sign_ins_have_their_own_limits,
);

fn resident(n: u32) -> String {
    resident_id("440307198702", n)
}

async fn app(db: TestDatabase) -> TestApp {
    TestApp::spawn_with(db, |s| s.limits = Limits::default()).await
}

async fn a_code_walker_is_stopped_long_before_finding_a_code(db: TestDatabase) {
    let app = app(db).await;
    let (walker, _) = app.login(&resident(1), "试码人").await;
    let mut misses = 0;
    let mut stopped = None;
    for serial in 0..1_000 {
        let code = BindingCode::new(CodeKind::Venue, 100_000 + serial).to_string();
        let response = app
            .post_json_as(&walker, "/v1/venue-bindings", &json!({"code": code}))
            .await;
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, problem) = body(response).await;
        match status {
            404 => misses += 1,
            429 => {
                assert_eq!(problem["code"], "rate.limited", "{problem}");
                assert_eq!(retry_after.as_deref(), Some("600"));
                stopped = Some(serial);
                break;
            }
            other => panic!("unexpected {other}: {problem}"),
        }
    }
    assert_eq!(misses, 10, "ten misses, then stopped");
    assert_eq!(stopped, Some(10));
    // A real code is refused too while the walker waits; after the wait, one more try.
    let (admin, _) = app.login(&resident(2), "店主").await;
    let (status, venue) = body(
        app.post_json_as(
            &admin,
            "/v1/venues",
            &json!({"region": "440304001", "address": "龙岗 1 号", "type": "retail", "name": "龙岗商店", "phone": "13800138000"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{venue}");
    let bind = |token: String| {
        let app = &app;
        let code = venue["code"].clone();
        async move {
            body(
                app.post_json_as(&token, "/v1/venue-bindings", &json!({"code": code}))
                    .await,
            )
            .await
            .0
        }
    };
    assert_eq!(bind(walker.clone()).await, 429);
    app.clock.advance(time::Duration::minutes(10));
    assert_eq!(bind(walker.clone()).await, 201);
    // Another person at the same address binds: the address has room for thirty misses.
    let (other, _) = app.login(&resident(3), "检测员").await;
    assert_eq!(bind(other).await, 201);
    app.stop().await;
}

async fn ordinary_use_is_never_limited(db: TestDatabase) {
    let app = app(db).await;
    let (guardian, guardian_id) = app.login(&resident(10), "家长").await;
    let mut family = Vec::new();
    for n in 0..4 {
        let assertion = app.member_assertion(
            &guardian_id,
            "resident_id",
            &resident_id("440307201001", n),
            "孩子",
            "household",
        );
        let (status, added) = body(
            app.post_json_as(
                &guardian,
                "/v1/me/family",
                &json!({"assertion": assertion, "relation": "child"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{added}");
        family.push(added["person_id"].clone());
    }
    let (admin, _) = app.login(&resident(11), "店主").await;
    let (_, venue) = body(
        app.post_json_as(
            &admin,
            "/v1/venues",
            &json!({"region": "440304001", "address": "龙岗 2 号", "type": "dining", "name": "龙岗饭店", "phone": "13800138001"}),
        )
        .await,
    )
    .await;
    let venue_id = venue["venue_id"].as_str().expect("venue").to_owned();
    let poster = app
        .get_json(&admin, &format!("/v1/venues/{venue_id}/poster"))
        .await["token"]
        .clone();
    // The family checks in together.
    let (status, _) = body(
        app.post_json_as(&guardian, "/v1/checkins", &json!({"poster_token": poster}))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    for member in &family {
        let (status, answer) = body(
            app.post_json_as(
                &guardian,
                "/v1/checkins",
                &json!({"poster_token": poster, "subject_id": member}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    // Sixteen concurrent attempts at one command (one idempotency key).
    let attempts = (0..16).map(|_| {
        app.client
            .post(app.url("/v1/checkins"))
            .bearer_auth(&guardian)
            .header("Idempotency-Key", "one-check-in")
            .json(&json!({"poster_token": poster}))
            .send()
    });
    for response in futures_util::future::join_all(attempts).await {
        let status = response.expect("sent").status().as_u16();
        assert!(
            status == 201 || status == 409,
            "no attempt is limited: {status}"
        );
    }
    // A burst of twenty scans by one inspector.
    let code = venue["code"].as_str().expect("code").to_owned();
    let (inspector, _) = app.login(&resident(12), "检测员").await;
    let (status, _) = body(
        app.post_json_as(&inspector, "/v1/venue-bindings", &json!({"code": code}))
            .await,
    )
    .await;
    assert_eq!(status, 201);
    let token = app.get_json(&guardian, "/v1/me/code").await["token"].clone();
    for _ in 0..20 {
        let (status, answer) = body(
            app.post_json_as(
                &inspector,
                "/v1/scans",
                &json!({"token": token, "context": {"venue_id": venue_id}}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    app.stop().await;
}

async fn service_accounts_and_sign_ins_have_their_own_limits(db: TestDatabase) {
    let app = TestApp::spawn_with(db, |s| {
        s.limits = Limits {
            service: Rate {
                burst: 3,
                per_minute: 1.0,
            },
            ..Limits::default()
        }
    })
    .await;
    let feed = app.service_token("feed").await;
    for _ in 0..3 {
        assert_eq!(
            body(app.get_as(&feed, "/v1/feed/appeals").await).await.0,
            200
        );
    }
    let limited = app.get_as(&feed, "/v1/feed/appeals").await;
    assert_eq!(
        limited
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    let (status, problem) = body(limited).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (429, Some("rate.limited"))
    );
    // Sixty sign-ins from one address (an office) pass; the sixty-first waits.
    for n in 0..60 {
        app.login(&resident(100 + n), "同事").await;
    }
    let assertion = app.assertion("resident_id", &resident(200), "同事", "face");
    let (status, problem) = body(
        app.post_json("/v1/sessions", &json!({"assertion": assertion}))
            .await,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (429, Some("rate.limited"))
    );
    app.stop().await;
}
