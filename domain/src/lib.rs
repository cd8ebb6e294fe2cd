//! The pure domain: value types, commands, events and deciders. No I/O, no async.
//!
//! Aggregates are [`Decider`]s: `decide` turns a command and the current state into events
//! (or a typed refusal), `evolve` folds an event into the state. Both are pure; time, ids and
//! anything looked up arrive inside the command. Events carry a stable wire name and a schema
//! version ([`DomainEvent`]); old versions are read through [`DomainEvent::upcast`].

pub mod access;
pub mod assertion;
pub mod claim;
pub mod code;
pub mod decider;
pub mod demographics;
pub mod divisions;
pub mod document;
pub mod event;
pub mod feed;
pub mod grid;
pub mod handover;
pub mod health;
pub mod health_code;
pub mod identity;
pub mod medical;
pub mod org;
pub mod person;
pub mod refusal;
pub mod region;
pub mod role_grant;
pub mod sealed;
pub mod service_account;
pub mod session;
pub mod streams;
pub mod subject;
pub mod venue;
pub mod week;

pub use decider::{Decider, Given};
pub use event::{DomainEvent, EncodedEvent, EventDecodeError};
pub use refusal::{Refusal, RefusalKind};
