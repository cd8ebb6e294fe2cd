//! Black-box tests of one person across documents, on SQLite and PostgreSQL: the identity
//! provider's subject (`sub`) ties a resident ID, a passport and a permit to one person, so a
//! red reason recorded against any of them colours that person's code, and a release (a
//! feed record on any of their documents, a medical notice) applies to the person.

use event_store::testing::TestDatabase;
use serde_json::{json, Value};
use yuekang_tests::{body, TestApp};

use super::medical::{medical_scan, notice, province_admin, reasons_of, staff};

event_store::backend_tests!(
    red_on_the_resident_id_stays_red_signed_in_with_the_passport_of_the_same_subject,
    a_hit_on_a_document_before_it_is_attached_colours_the_person,
    releases_on_any_document_release_the_person,
    a_document_registered_to_someone_else_is_refused_for_a_known_subject,
);

const PASSPORT: &str = "E12345678";
const PERMIT: &str = "H12345678";

fn resident(n: u32) -> String {
    yuekang_tests::resident_id("440104198001", n)
}

/// Signs in with `doc_type`/`number` asserted for the provider's subject `sub`: (status,
/// answer).
async fn sign_in(app: &TestApp, doc_type: &str, number: &str, sub: &str) -> (u16, Value) {
    let assertion = app.subject_assertion(doc_type, number, "王小红", sub);
    body(
        app.post_json("/v1/sessions", &json!({ "assertion": assertion }))
            .await,
    )
    .await
}

/// Signs in as above, asserting success: (token, person id).
async fn signed_in(app: &TestApp, doc_type: &str, number: &str, sub: &str) -> (String, String) {
    let (status, session) = sign_in(app, doc_type, number, sub).await;
    assert_eq!(status, 201, "{session}");
    (
        session["token"].as_str().expect("token").to_owned(),
        session["person_id"].as_str().expect("person id").to_owned(),
    )
}

/// One feed record: `action` (hit or release) of `reason` against a document.
async fn feed(
    app: &TestApp,
    feed_token: &str,
    record_id: &str,
    document: (&str, &str),
    reason: &str,
    action: &str,
) -> Value {
    let (status, fed) = body(
        app.post_json_as(
            feed_token,
            "/v1/feed/batches",
            &json!({"records": [{
                "record_id": record_id,
                "document": {"type": document.0, "number": document.1},
                "name": "王小红",
                "reason": reason,
                "action": action,
                "effective_at": "2026-03-01T10:00:00+08:00",
                "region": "440104",
            }]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{fed}");
    fed
}

async fn code_after(app: &TestApp, token: &str, position: &Value) -> Value {
    app.get_json(token, &format!("/v1/me/code?min_position={position}"))
        .await
}

async fn red_on_the_resident_id_stays_red_signed_in_with_the_passport_of_the_same_subject(
    db: TestDatabase,
) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    let id = resident(1);
    let (_, person) = signed_in(&app, "resident_id", &id, "subject-1").await;
    let hit = feed(
        &app,
        &feed_token,
        "r-1",
        ("resident_id", &id),
        "close_contact",
        "hit",
    )
    .await;
    assert_eq!(hit["accepted"], json!(["r-1"]), "{hit}");

    let (status, session) = sign_in(&app, "passport", PASSPORT, "subject-1").await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["person_id"], person.as_str(), "the same person");
    let passport_token = session["token"].as_str().expect("token");
    let code = code_after(&app, passport_token, &hit["position"]).await;
    assert_eq!(code["colour"], "red", "{code}");
    assert_eq!(reasons_of(&code), ["close_contact"]);
    assert_eq!(code["reasons"][0]["source"], "r-1", "{code}");

    // Signing in again with either document answers the same person.
    let (_, again) = signed_in(&app, "passport", PASSPORT, "subject-1").await;
    assert_eq!(again, person);
    let (_, again) = signed_in(&app, "resident_id", &id, "subject-1").await;
    assert_eq!(again, person);

    // The same passport number under another subject is another person's document only
    // when it was never seen: a fresh document of a fresh subject is a new person, green.
    let (token, other) = signed_in(&app, "hk_macao_permit", PERMIT, "subject-2").await;
    assert_ne!(other, person);
    assert_eq!(app.get_json(&token, "/v1/me/code").await["colour"], "green");
}

async fn a_hit_on_a_document_before_it_is_attached_colours_the_person(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    let admin = province_admin(&app).await;
    let (doctor, _) = staff(&app, &admin, 7).await;
    let id = resident(2);
    let (token, person) = signed_in(&app, "resident_id", &id, "subject-3").await;
    // The passport is hit before anyone signed in with it.
    feed(
        &app,
        &feed_token,
        "r-2",
        ("passport", PASSPORT),
        "home_quarantine",
        "hit",
    )
    .await;
    assert_eq!(app.get_json(&token, "/v1/me/code").await["colour"], "green");
    let (_, attached) = signed_in(&app, "passport", PASSPORT, "subject-3").await;
    assert_eq!(attached, person);
    let code = app.get_json(&token, "/v1/me/code").await;
    assert_eq!(code["colour"], "red", "{code}");
    assert_eq!(reasons_of(&code), ["home_quarantine"]);

    // A scanner sees the person red with the label, whichever document they signed in with.
    let (status, scanned) =
        medical_scan(&app, &doctor, code["token"].as_str().expect("token")).await;
    assert_eq!(status, 200, "{scanned}");
    assert_eq!(scanned["colour"], "red", "{scanned}");
    assert_eq!(
        scanned["reason_labels"],
        json!(["居家隔离人员"]),
        "{scanned}"
    );
    assert_eq!(reasons_of(&scanned), ["home_quarantine"]);
}

async fn releases_on_any_document_release_the_person(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let feed_token = app.service_token("feed").await;
    let admin = province_admin(&app).await;
    let (doctor, _) = staff(&app, &admin, 8).await;
    let id = resident(3);
    let (token, _) = signed_in(&app, "resident_id", &id, "subject-4").await;
    signed_in(&app, "passport", PASSPORT, "subject-4").await;
    feed(
        &app,
        &feed_token,
        "r-3",
        ("resident_id", &id),
        "close_contact",
        "hit",
    )
    .await;
    let hit = feed(
        &app,
        &feed_token,
        "r-4",
        ("passport", PASSPORT),
        "centralised_quarantine",
        "hit",
    )
    .await;
    let code = code_after(&app, &token, &hit["position"]).await;
    assert_eq!(
        reasons_of(&code),
        ["centralised_quarantine", "close_contact"]
    );

    // The feed releases close contact on the passport: the resident ID's hit goes with it.
    let released = feed(
        &app,
        &feed_token,
        "r-5",
        ("passport", PASSPORT),
        "close_contact",
        "release",
    )
    .await;
    assert_eq!(released["accepted"], json!(["r-5"]), "{released}");
    let code = code_after(&app, &token, &released["position"]).await;
    assert_eq!(reasons_of(&code), ["centralised_quarantine"], "{code}");

    // A notice releases the quarantine recorded against the passport.
    let (status, scanned) =
        medical_scan(&app, &doctor, code["token"].as_str().expect("token")).await;
    assert_eq!(status, 200, "{scanned}");
    let (status, issued) = notice(
        &app,
        &doctor,
        &scanned["scan_id"],
        &["centralised_quarantine"],
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let code = code_after(&app, &token, &issued["position"]).await;
    assert_eq!(code["colour"], "green", "{code}");

    // Withdrawn, it comes back on the passport, and the person is red again.
    let notice_id = issued["notice_id"].as_str().expect("notice id");
    let (status, withdrawn) = body(
        app.post_json_as(
            &doctor,
            &format!("/v1/notices/{notice_id}/withdrawal"),
            &json!({"detail": "issued too early"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{withdrawn}");
    let code = code_after(&app, &token, &withdrawn["position"]).await;
    assert_eq!(reasons_of(&code), ["centralised_quarantine"], "{code}");

    // A release for a reason active on none of the documents is still refused.
    let refused = feed(
        &app,
        &feed_token,
        "r-6",
        ("passport", PASSPORT),
        "close_contact",
        "release",
    )
    .await;
    assert_eq!(
        refused["refused"][0]["code"], "feed.reason_not_active",
        "{refused}"
    );
}

async fn a_document_registered_to_someone_else_is_refused_for_a_known_subject(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let id = resident(4);
    let (_, first) = signed_in(&app, "resident_id", &id, "subject-5").await;
    // The passport was registered before the provider tied it to subject-5 (another subject).
    let (_, second) = signed_in(&app, "passport", PASSPORT, "subject-6").await;
    assert_ne!(first, second);
    let (status, problem) = sign_in(&app, "passport", PASSPORT, "subject-5").await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "identity.subject_conflict", "{problem}");
    // Nothing changed: each document still signs in as its own person.
    let (_, again) = signed_in(&app, "passport", PASSPORT, "subject-6").await;
    assert_eq!(again, second);
    let (_, again) = signed_in(&app, "resident_id", &id, "subject-5").await;
    assert_eq!(again, first);
}
