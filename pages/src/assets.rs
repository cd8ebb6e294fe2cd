//! The static files the pages use, compiled into the binary and served with long-lived
//! caching (their URLs carry a digest of their content, so a new version is a new URL).
//! Nothing is loaded from another host; no font is loaded at all (system fonts).

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

/// `(name, content type, content)` of every asset.
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "site.css",
        "text/css; charset=utf-8",
        include_str!("../assets/site.css"),
    ),
    (
        "scan.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/scan.js"),
    ),
];

fn digests() -> &'static Vec<(&'static str, String)> {
    static DIGESTS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    DIGESTS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(name, _, content)| {
                let digest = Sha256::digest(content.as_bytes());
                (*name, hex::encode(&digest[..6]))
            })
            .collect()
    })
}

/// The URL of asset `name`, with its content digest.
pub fn url(name: &str) -> String {
    let digest = digests()
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, d)| d.as_str());
    format!("/assets/{name}?v={digest}")
}

/// `GET /assets/{name}`.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, content_type, content)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*content),
        None => HttpResponse::NotFound().finish(),
    }
}
