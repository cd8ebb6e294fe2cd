//! The pages people use, served by the same server as the JSON API and calling the same use
//! cases: server-rendered HTML in Chinese with the seed's own labels, mobile-first, working
//! offline (every style, script and image comes from this binary), signed in with an HttpOnly
//! session cookie, every form and state-changing request guarded against cross-site forgery.
//!
//! Templates are `maud` macros, checked at compile time. Charts are SVG drawn here (no
//! JavaScript); the one script (`scan.js`) reads a code with the camera where the browser has
//! `BarcodeDetector`, and the pages work without it.

mod assets;
mod charts;
mod checkin;
mod citizen;
mod context;
mod inspector;
mod layout;
mod messages;
mod sign_in;
mod venue;

use actix_web::web;
use crypto::keys::DevProvider;
use projections::Runner;
use services::Services;

pub use context::{CSRF_COOKIE, SESSION_COOKIE};

/// What the pages share: the use cases, the projections (to wait for what a form just did
/// before showing it), and the development identity provider when the server runs `--dev`.
#[derive(Debug, Clone)]
pub struct PagesState {
    pub services: Services,
    pub runner: Runner,
    /// Present with `serve --dev`: the sign-in page mints development assertions.
    pub dev_provider: Option<DevProvider>,
    /// How long a page waits for the read models to show what a form just did.
    pub wait: std::time::Duration,
}

/// Registers every page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(citizen::code_page))
        .route("/login", web::get().to(sign_in::page))
        .route("/login", web::post().to(sign_in::submit))
        .route("/logout", web::post().to(sign_in::sign_out))
        .route("/venue", web::get().to(venue::page))
        .route("/venue", web::post().to(venue::create))
        .route("/venue/poster", web::get().to(venue::poster))
        .route("/inspect", web::get().to(inspector::venues))
        .route("/inspect/bind", web::post().to(inspector::bind))
        .route("/inspect/{venue_id}", web::get().to(inspector::page))
        .route("/inspect/{venue_id}/scan", web::post().to(inspector::scan))
        .route(
            "/inspect/{venue_id}/check",
            web::post().to(inspector::check),
        )
        .route("/checkin", web::get().to(checkin::page))
        .route("/checkin", web::post().to(checkin::submit))
        .route("/assets/{name}", web::get().to(assets::serve));
}
