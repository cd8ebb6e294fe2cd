//! The application state every request handler shares: the settings, the use cases, the
//! store and the projection runner; opening all of it and shutting it down in order.

use std::sync::Arc;

use anyhow::Context;
use commands::CommandBus;
use crypto::keys::Keys;
use event_store::{ChainKey, Clock, Database, EventStore, StoreOptions};
use projections::Runner;
use services::Services;
use time::OffsetDateTime;

use crate::config::Settings;
use crate::error::ApiError;
use crate::metrics::HttpMetrics;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    /// The use cases (command bus, read models, keys, vault).
    pub services: Services,
    pub store: EventStore,
    pub runner: Runner,
    pub clock: Arc<dyn Clock>,
    pub started_at: OffsetDateTime,
    pub(crate) http_metrics: HttpMetrics,
    /// The address serving `/metrics` alone without a token, once bound.
    metrics_address: std::sync::OnceLock<Option<std::net::SocketAddr>>,
    /// The scheduled job forgetting old idempotency answers.
    housekeeping: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl AppState {
    /// Opens the database (migrating it), the store and the projections, and starts the
    /// projections following the log.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let keys = Arc::new(load_keys(&settings)?);
        let db = connect(&settings).await?;
        if db.can_rewrite_log().await.unwrap_or(false) {
            tracing::warn!(
                "the server's database role can change or remove rows of the event log; \
                 run it as a least-privileged role with --db-owner (docs/postgres.md)"
            );
        }
        let store = EventStore::open(
            db.clone(),
            StoreOptions {
                clock: clock.clone(),
                chain_key: ChainKey::new(keys.chain_key),
                ..StoreOptions::default()
            },
        )
        .await
        .context("opening the event store")?;
        let runner = Runner::new(store.clone(), projections::registry())
            .await
            .context("installing the projections")?;
        runner.start();
        let services = Services::new(
            CommandBus::new(store.clone())
                .with_answer_seal(Arc::new(services::answers::SealedAnswers::new(&keys))),
            db,
            keys,
        )
        .with_limits(settings.limits.clone())
        .with_code_space(services::codes::CodeSpace::with_size(settings.code_space))
        .with_code_freshness(settings.code_freshness)
        .with_k_anonymity(settings.k_anonymity)
        .with_retention_days(settings.retention_days);
        let housekeeping = tokio::spawn(housekeeping_now_and_then(
            services.clone(),
            settings.idempotency_ttl,
        ));
        Ok(Self {
            housekeeping: std::sync::Mutex::new(Some(housekeeping)),
            started_at: clock.now(),
            services,
            settings,
            store,
            runner,
            clock,
            http_metrics: HttpMetrics::default(),
            metrics_address: std::sync::OnceLock::new(),
        })
    }

    /// Records the metrics address actually bound (once, at start).
    pub(crate) fn set_metrics_address(&self, address: Option<std::net::SocketAddr>) {
        let _ = self.metrics_address.set(address);
    }

    /// Whether a request arrived on the address serving `/metrics` alone without a token.
    pub fn on_metrics_address(&self, req: &actix_web::HttpRequest) -> bool {
        self.metrics_address.get().copied().flatten() == Some(req.app_config().local_addr())
    }

    /// Read-your-writes: waits until every projection has applied `min_position`.
    pub async fn wait_for(&self, min_position: Option<u64>) -> Result<(), ApiError> {
        match min_position {
            None | Some(0) => Ok(()),
            Some(position) => self
                .runner
                .wait_for(position, self.settings.min_position_wait)
                .await
                .map_err(|_| ApiError::Lagging { position }),
        }
    }

    /// What the pages share: the same use cases and projections; with `--dev`, the
    /// development identity provider whose assertions the sign-in page mints.
    pub fn pages(&self) -> yuekang_pages::PagesState {
        let dev_provider = if self.settings.dev {
            crypto::keys::DevProvider::load(&self.settings.data_dir)
                .map_err(
                    |e| tracing::warn!(error = %e, "no development provider for the sign-in page"),
                )
                .ok()
        } else {
            None
        };
        yuekang_pages::PagesState {
            services: self.services.clone(),
            runner: self.runner.clone(),
            dev_provider,
            wait: self.settings.min_position_wait,
        }
    }

    /// Stops the projections, commits what the writer holds, closes the database.
    /// Forgets the answers to commands older than the idempotency TTL now (the server also
    /// does this every ten minutes); how many were forgotten.
    pub async fn forget_old_answers(&self) -> Result<u64, ApiError> {
        Ok(services::answers::forget_old(
            &self.store,
            self.clock.now(),
            self.settings.idempotency_ttl,
        )
        .await?)
    }

    pub async fn shutdown(&self) {
        if let Some(job) = self
            .housekeeping
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            job.abort();
        }
        self.runner.stop().await;
        self.store.shutdown().await;
        self.services.db.close().await;
    }
}

/// Every ten minutes (and at start): forgets the answers remembered under idempotency keys
/// for commands older than `ttl`, and shreds the link keys of days past the retention period
/// (a failure is logged and tried again next time).
async fn housekeeping_now_and_then(services: Services, ttl: time::Duration) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match services::answers::forget_old(services.bus.store(), services.now(), ttl).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(forgotten = n, "forgot old idempotency answers"),
            Err(e) => tracing::warn!(error = %e, "forgetting old idempotency answers failed"),
        }
        if let Err(e) = services::links::run_retention(&services).await {
            tracing::warn!(error = %e, "shredding expired link keys failed");
        }
    }
}

/// The secrets and keys: with `--dev`, created in the data directory when missing and the
/// development identity provider trusted; otherwise read from the keys file.
pub fn load_keys(settings: &Settings) -> anyhow::Result<Keys> {
    if settings.dev {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let (keys, _provider) = Keys::load_or_create_dev(&settings.data_dir)?;
        Ok(keys)
    } else {
        Ok(Keys::load(&settings.keys_file)?)
    }
}

/// Connects to the configured database (creating the data directory for the embedded
/// default) and applies the migrations.
pub async fn connect(settings: &Settings) -> anyhow::Result<Database> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let open = |url: &str| {
        let url = url.to_owned();
        async move {
            Database::connect(&url)
                .await
                .with_context(|| format!("connecting to {}", event_store::redact_url(&url)))
        }
    };
    let db = open(&settings.database_url).await?;
    if settings
        .database_url
        .to_ascii_lowercase()
        .contains("synchronous=normal")
    {
        tracing::warn!(
            "SQLite synchronous=normal: a power loss or an operating-system crash may lose the \
             last acknowledged commands"
        );
    }
    match &settings.database_owner_url {
        Some(_) if db.backend() != event_store::Backend::Postgres => {
            anyhow::bail!("--db-owner applies to PostgreSQL only (SQLite has no roles)")
        }
        Some(owner_url) => {
            // Migrations and grants as the schema's owner; the server keeps the least.
            let owner = open(owner_url).await?;
            owner.migrate().await.context("applying migrations")?;
            let role = db
                .current_role()
                .await
                .context("reading the server's database role")?;
            owner
                .grant_least_privilege(&role)
                .await
                .with_context(|| format!("granting the role {role} what the server needs"))?;
            owner.close().await;
        }
        None => db.migrate().await.context("applying migrations")?,
    }
    Ok(db)
}
