//! The write side: load the streams a command needs, decide, append with the versions seen
//! at load; bounded retry on conflict; idempotency keys; the clock.
//!
//! A command handler hands [`CommandBus::execute`] the streams to load and a pure `decide`
//! closure over what was loaded. The bus appends the decided events with each stream's
//! loaded version as the expected version, so a concurrent change is a conflict decided by
//! the database. On conflict the bus reloads and decides again (the rules are checked again
//! on fresh state), a bounded number of times.

mod bus;
mod context;

pub use bus::{AnswerSeal, CommandBus, CommandError, Decision, Loaded, LoadedStream, Outcome};
pub use context::{CommandContext, IdempotencyKey};
pub use event_store::{Clock, ManualClock, SystemClock};
