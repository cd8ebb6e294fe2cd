//! The Yuekang server and command-line tool: HTTP routes, configuration, telemetry, and the
//! one mapping from errors to RFC 9457 problem documents.

pub mod aggregates;
pub mod auth;
pub mod citizens;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod error;
pub mod export;
pub mod feed_import;
pub mod idempotency;
mod metrics;
pub mod openapi;
pub mod orgs;
mod routes;
pub mod server;
pub mod service_accounts;
pub mod telemetry;
pub mod venues;

pub use config::Settings;
pub use error::ApiError;
pub use server::{AppState, Application};
