//! Audit: reading the log and the state of a stream as of an instant, and the pseudonymised
//! export.

pub mod export;
