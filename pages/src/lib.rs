//! The pages people use, served by the same server as the JSON API and calling the same use
//! cases: server-rendered HTML in Chinese with the seed's own labels, mobile-first, working
//! offline (every style, script and image comes from this binary), signed in with an HttpOnly
//! session cookie, every form and state-changing request guarded against cross-site forgery.
//!
//! Templates are `maud` macros, checked at compile time. Charts are SVG drawn here (no
//! JavaScript); the one script (`scan.js`) reads a code with the camera where the browser has
//! `BarcodeDetector`, and the pages work without it.

mod assets;
mod audit;
mod bind;
mod charts;
mod checkin;
mod citizen;
mod context;
mod declare;
mod entry;
mod family;
mod gate;
mod grid;
mod history;
mod inspector;
mod layout;
mod medical;
mod messages;
mod org;
pub mod printable;
mod region;
mod sign_in;
mod venue;
mod work;

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
        .route("/venue/edit", web::post().to(venue::edit))
        .route("/venue/handover", web::post().to(venue::hand_over))
        .route("/venue/accept", web::get().to(grid::accept_page))
        .route("/venue/accept", web::post().to(grid::accept))
        .route(
            "/venue/inspectors/{person_id}/unbind",
            web::post().to(venue::unbind),
        )
        .route(
            "/inspect/{venue_id}/declaration",
            web::get().to(inspector::declaration),
        )
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
        .route("/declare", web::get().to(declare::page))
        .route("/declare", web::post().to(declare::submit))
        .route("/history", web::get().to(history::page))
        .route("/notices/{notice_id}", web::get().to(history::notice))
        .route("/bind", web::get().to(bind::page))
        .route("/bind", web::post().to(bind::submit))
        .route("/work", web::get().to(work::page))
        .route("/grid", web::get().to(grid::admin))
        .route("/grid", web::post().to(grid::create))
        .route(
            "/grid/workers/{person_id}/{action}",
            web::post().to(grid::worker_action),
        )
        .route("/grid/handover", web::post().to(grid::handover))
        .route("/grid/dissolution", web::post().to(grid::dissolve))
        .route("/grid/key-persons", web::get().to(grid::key_persons))
        .route("/grid/work", web::get().to(grid::work))
        .route("/grid/current", web::post().to(grid::choose_current))
        .route("/grid/accept", web::get().to(grid::accept_page))
        .route("/grid/accept", web::post().to(grid::accept))
        .route(
            "/grid/persons/{person_id}/declarations",
            web::get().to(grid::person_declarations),
        )
        .route("/grid/{grid_id}/scan", web::post().to(grid::scan))
        .route("/grid/{grid_id}/visit", web::post().to(grid::visit))
        .route("/region", web::get().to(region::page))
        .route(
            "/region/grids/{grid_id}/confirmation",
            web::post().to(region::confirm),
        )
        .route("/region/admins", web::post().to(region::appoint))
        .route("/family", web::get().to(family::page))
        .route("/family", web::post().to(family::add))
        .route("/family/{person_id}/remove", web::post().to(family::remove))
        .route("/entry", web::get().to(entry::page))
        .route("/entry", web::post().to(entry::submit))
        .route("/appeal", web::post().to(citizen::appeal))
        .route("/code/reset", web::post().to(citizen::reset_code))
        .route("/org", web::get().to(org::page))
        .route("/org", web::post().to(org::register))
        .route("/org/edit", web::post().to(org::edit))
        .route("/org/stats.csv", web::get().to(org::csv))
        .route("/medical", web::get().to(medical::page))
        .route("/medical/scan", web::post().to(medical::scan))
        .route("/medical/notice", web::post().to(medical::issue))
        .route("/medical/issued", web::get().to(medical::issued))
        .route("/audit", web::get().to(audit::page))
        .route("/audit/verify", web::post().to(audit::verify))
        .route("/audit/events", web::get().to(audit::events))
        .route("/audit/stream", web::get().to(audit::stream))
        .route("/audit/rebuild", web::post().to(audit::rebuild))
        .route("/assets/{name}", web::get().to(assets::serve));
}
