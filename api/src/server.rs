//! Building and running the HTTP server over one store, one command bus and the projection
//! runner; shutting all of it down in order.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use commands::CommandBus;
use event_store::{Clock, Database, EventStore, StoreOptions};
use projections::Runner;
use time::OffsetDateTime;

use crate::config::Settings;
use crate::crypto::keys::Keys;
use crate::crypto::vault::Vault;
use crate::error::ApiError;
use crate::metrics::HttpMetrics;
use crate::{routes, telemetry};

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    pub settings: Settings,
    pub db: Database,
    pub store: EventStore,
    pub bus: CommandBus,
    pub runner: Runner,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<Keys>,
    pub vault: Vault,
    pub started_at: OffsetDateTime,
    pub(crate) http_metrics: HttpMetrics,
}

impl AppState {
    /// Opens the database (migrating it), the store and the projections, and starts the
    /// projections following the log.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let keys = Arc::new(load_keys(&settings)?);
        let db = connect(&settings).await?;
        let vault = Vault::new(db.clone(), keys.master_key);
        let store = EventStore::open(
            db.clone(),
            StoreOptions {
                clock: clock.clone(),
                ..StoreOptions::default()
            },
        )
        .await
        .context("opening the event store")?;
        let runner = Runner::new(store.clone(), projections::registry())
            .await
            .context("installing the projections")?;
        runner.start();
        Ok(Self {
            started_at: clock.now(),
            bus: CommandBus::new(store.clone()),
            keys,
            vault,
            settings,
            db,
            store,
            runner,
            clock,
            http_metrics: HttpMetrics::default(),
        })
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

    /// Stops the projections, commits what the writer holds, closes the database.
    pub async fn shutdown(&self) {
        self.runner.stop().await;
        self.store.shutdown().await;
        self.db.close().await;
    }
}

/// Connects to the configured database (creating the data directory for the embedded
/// default) and applies the migrations.
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

pub async fn connect(settings: &Settings) -> anyhow::Result<Database> {
    if settings.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let db = Database::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "connecting to {}",
                event_store::redact_url(&settings.database_url)
            )
        })?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens everything and binds `settings.listen`; handles SIGINT/SIGTERM gracefully.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::build_with(settings, clock, true).await
    }

    /// As [`Application::build`], without signal handling (for tests and embedding).
    pub async fn build_with(
        settings: Settings,
        clock: Arc<dyn Clock>,
        handle_signals: bool,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState::open(settings, clock).await?);
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(middleware::from_fn(telemetry::log_requests))
                .configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(10);
        if !handle_signals {
            server = server.disable_signals().workers(2);
        }
        Ok(Self {
            port,
            server: server.run(),
            state,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (signal or handle), then shuts down in order: in-flight requests
    /// finish, the projections stop, the writer commits what it holds.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.state.shutdown().await;
        tracing::info!("shut down cleanly");
        result
    }
}
