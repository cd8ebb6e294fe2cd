//! The Yuekang server and command-line tool: HTTP routes, request extractors, configuration,
//! telemetry, OpenAPI, and the one mapping from use-case refusals to RFC 9457 problem
//! documents. No business rule lives here: the use cases are in the `services` crate.

pub mod answer;
pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod idempotency;
mod metrics;
pub mod openapi;
pub mod paging;
mod routes;
pub mod server;
pub mod state;
pub mod telemetry;

pub use config::Settings;
pub use error::ApiError;
pub use server::Application;
pub use state::AppState;
