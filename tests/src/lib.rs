//! Black-box test helpers: the real server on port 0 against a throw-away SQLite file or a
//! fresh PostgreSQL database, with a clock the test controls.

pub mod webdriver;

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::web;
use crypto::assertion::{self, IdentityClaims};
use crypto::keys::DevProvider;
use event_store::testing::TestDatabase;
use event_store::{Clock, ManualClock};
use time::macros::datetime;
use yuekang_api::{AppState, Application, Settings};

pub use event_store::testing::TestDatabase as Db;

/// A running server and the means to drive it.
#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics address, when the settings asked for one.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub state: web::Data<AppState>,
    pub handle: ServerHandle,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub db: TestDatabase,
    data_dir: std::path::PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl TestApp {
    /// Starts the server on `db` with the clock at 2026-03-02 09:00 CST.
    pub async fn spawn(db: TestDatabase) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    /// Starts the server after letting the test adjust its settings.
    pub async fn spawn_with(db: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> Self {
        let url = db.url.clone();
        Self::spawn_with_url(db, url, adjust).await
    }

    /// Starts the server on `db` reached through `url` (another role, TLS options, …).
    pub async fn spawn_with_url(
        db: TestDatabase,
        url: String,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let clock = ManualClock::new(datetime!(2026-03-02 09:00 +08:00));
        let data_dir = std::env::temp_dir().join(format!("yuekang-app-{}", uuid::Uuid::new_v4()));
        let mut settings = Settings::for_database(url, &data_dir);
        // Suites of other things sign many people in from one address at a frozen clock; the
        // rate-limit tests set the limits they test.
        settings.limits = services::limits::Limits::relaxed();
        let data_dir_kept = data_dir.clone();
        adjust(&mut settings);
        // The keys a `serve --dev` would have made; without dev mode the server reads the
        // keys file but does not trust the development provider.
        crypto::keys::Keys::load_or_create_dev(&data_dir_kept).expect("development keys");
        let app = Application::build_with(settings, Arc::new(clock.clone()), false)
            .await
            .expect("build the application");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let state = app.state();
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        Self {
            address,
            metrics_address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            clock,
            state,
            handle,
            server: Some(server),
            db,
            data_dir: data_dir_kept,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Creates a service account with `role` and waits until the server knows it.
    pub async fn service_token(&self, role: &str) -> String {
        let created = services::service_accounts::create(
            &self.state.services.bus,
            role,
            &format!("test {role}"),
        )
        .await
        .expect("create a service account");
        self.state
            .wait_for(Some(created.position))
            .await
            .expect("projections caught up");
        created.token
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    /// POST without a body, with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("POST")
    }

    /// An identity assertion from the development provider, issued now by the test clock.
    pub fn assertion(&self, doc_type: &str, doc_number: &str, name: &str, method: &str) -> String {
        self.assertion_with(doc_type, doc_number, name, Some("13912345678"), method)
    }

    /// An assertion with a chosen phone (or none).
    pub fn assertion_with(
        &self,
        doc_type: &str,
        doc_number: &str,
        name: &str,
        phone: Option<&str>,
        method: &str,
    ) -> String {
        self.assertion_for(doc_type, doc_number, name, phone, method, None)
    }

    /// An assertion for adding a member to `guardian`'s family (`aud = family:<guardian>`).
    pub fn member_assertion(
        &self,
        guardian: &str,
        doc_type: &str,
        doc_number: &str,
        name: &str,
        method: &str,
    ) -> String {
        let aud = format!("family:{guardian}");
        self.assertion_for(doc_type, doc_number, name, None, method, Some(&aud))
    }

    /// An assertion with every claim chosen.
    pub fn assertion_for(
        &self,
        doc_type: &str,
        doc_number: &str,
        name: &str,
        phone: Option<&str>,
        method: &str,
        aud: Option<&str>,
    ) -> String {
        self.assertion_claiming(doc_type, doc_number, name, phone, method, aud, None)
    }

    /// A face assertion for logging in that names the provider's subject `sub`: two documents
    /// asserted for one subject are one person.
    pub fn subject_assertion(
        &self,
        doc_type: &str,
        doc_number: &str,
        name: &str,
        sub: &str,
    ) -> String {
        self.assertion_claiming(doc_type, doc_number, name, None, "face", None, Some(sub))
    }

    #[allow(clippy::too_many_arguments)]
    fn assertion_claiming(
        &self,
        doc_type: &str,
        doc_number: &str,
        name: &str,
        phone: Option<&str>,
        method: &str,
        aud: Option<&str>,
        sub: Option<&str>,
    ) -> String {
        let provider = DevProvider::load(&self.data_dir).expect("the dev provider exists");
        let iat = self.clock.now().unix_timestamp();
        assertion::mint(
            &provider,
            &IdentityClaims {
                iss: provider.issuer.clone(),
                jti: uuid::Uuid::new_v4().to_string(),
                iat,
                exp: iat + assertion::DEFAULT_LIFETIME_SECS,
                doc_type: doc_type.into(),
                doc_number: doc_number.into(),
                name: name.into(),
                phone: phone.map(Into::into),
                method: method.into(),
                aud: aud.map(Into::into),
                sub: sub.map(Into::into),
            },
        )
    }

    /// Logs in with a fresh face assertion for a resident ID; answers (token, person id).
    pub async fn login(&self, resident_id: &str, name: &str) -> (String, String) {
        let assertion = self.assertion("resident_id", resident_id, name, "face");
        let response = self
            .post_json(
                "/v1/sessions",
                &serde_json::json!({ "assertion": assertion }),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201, "login");
        let body: serde_json::Value = response.json().await.expect("json");
        (
            body["token"].as_str().expect("token").to_owned(),
            body["person_id"].as_str().expect("person_id").to_owned(),
        )
    }

    /// POST a JSON body with a bearer token.
    pub async fn post_json_as(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.json_as(reqwest::Method::POST, token, path, body).await
    }

    /// PATCH a JSON body with a bearer token.
    /// PUT a JSON body with a bearer token.
    pub async fn put_json_as(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.json_as(reqwest::Method::PUT, token, path, body).await
    }

    pub async fn patch_json_as(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.json_as(reqwest::Method::PATCH, token, path, body)
            .await
    }

    async fn json_as(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .request(method.clone(), self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// DELETE with a bearer token.
    pub async fn delete_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("DELETE")
    }

    /// GET with a bearer token, answering the JSON body after asserting 200.
    pub async fn get_json(&self, token: &str, path: &str) -> serde_json::Value {
        let response = self.get_as(token, path).await;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The data directory (the SQLite file lives here for SQLite tests' keys).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Stops the server gracefully and waits for its shutdown (writer flushed).
    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server result");
        }
    }
}

/// A response's status and its body as JSON (or as a JSON string when it is not JSON).
pub async fn body(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Everything logged in this test process since the first call, at debug level and below for
/// our crates (and sqlx's statements): installs a global subscriber writing to memory on the
/// first call. Tests read it to prove what never reaches a log line.
pub fn captured_logs() -> String {
    use std::sync::{Mutex, OnceLock};
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    #[derive(Clone, Copy)]
    struct Sink(&'static Mutex<Vec<u8>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut logs) = self.0.lock() {
                logs.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let filter = tracing_subscriber::EnvFilter::new(
            "warn,yuekang_api=trace,services=trace,commands=trace,event_store=trace,projections=trace,crypto=trace,sqlx=debug",
        );
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || Sink(logs))
            .try_init()
            .expect("the log capture is the process's only subscriber");
        logs
    });
    logs.lock()
        .map(|l| String::from_utf8_lossy(&l).into_owned())
        .unwrap_or_default()
}

/// A valid resident ID (MOD 11-2 check character) whose first 12 characters are `prefix`
/// (region and birth year and month), with a day and serial from `n`.
pub fn resident_id(prefix: &str, n: u32) -> String {
    let first17 = format!("{prefix}{:02}{:03}", 1 + n % 28, n % 1000);
    let mut digits = [0u8; 17];
    for (i, c) in first17.chars().enumerate() {
        digits[i] = c.to_digit(10).expect("digit") as u8;
    }
    format!(
        "{first17}{}",
        domain::document::resident_id_check_char(&digits)
    )
}
