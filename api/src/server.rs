//! Building and running the HTTP server over the application state; shutting it down in
//! order.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use event_store::Clock;

use crate::config::Settings;
use crate::openapi;
use crate::state::AppState;
use crate::{routes, telemetry};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
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
        let metrics_listener = settings
            .metrics_listen
            .map(|addr| {
                TcpListener::bind(addr).with_context(|| format!("binding {addr} for /metrics"))
            })
            .transpose()?;
        let metrics_addr = metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let state = web::Data::new(AppState::open(settings, clock).await?);
        state.set_metrics_address(metrics_addr);
        let app_state = state.clone();
        let pages_state = web::Data::new(state.pages());
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(pages_state.clone())
                .wrap(middleware::from_fn(telemetry::log_requests))
                .wrap(middleware::from_fn(metrics_address_serves_metrics_alone))
                .route("/docs", web::get().to(docs_redirect))
                .service(
                    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi::ApiDoc::openapi()),
                )
                .configure(yuekang_pages::configure)
                .configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(10);
        if let Some(metrics_listener) = metrics_listener {
            server = server.listen(metrics_listener)?;
        }
        if !handle_signals {
            server = server.disable_signals().workers(2);
        }
        Ok(Self {
            port,
            metrics_port: metrics_addr.map(|a| a.port()),
            server: server.run(),
            state,
        })
    }

    /// The port of the metrics address, when one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
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

/// On the metrics address only `/metrics` is served (404 for everything else).
async fn metrics_address_serves_metrics_alone(
    req: actix_web::dev::ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let on_metrics_address = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.on_metrics_address(req.request()));
    if on_metrics_address && req.path() != "/metrics" {
        let response = crate::error::ApiError::NotFound {
            code: "route.not_found",
            detail: "the metrics address serves /metrics alone".into(),
        };
        return Ok(req.error_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// `/docs` without the slash: the interactive docs live under `/docs/`.
async fn docs_redirect() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}
