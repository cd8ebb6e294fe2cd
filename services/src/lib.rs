//! The use cases of Yuekang, one folder per area: each authorises, loads the facts it needs,
//! decides through a pure decider and appends through `commands`, or reads a read model.
//! Shared by the HTTP routes and the command line; knows nothing of HTTP (refusals are
//! [`ServiceError`] kinds with stable codes).

pub mod analysis;
pub mod answers;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod citizens;
pub mod codes;
pub mod error;
pub mod feed;
pub mod figures;
pub mod grids;
pub mod limits;
pub mod links;
pub mod medical;
pub mod orgs;
pub mod page;
pub mod province;
pub mod regions;
pub mod role_grants;
pub mod scan_declarations;
pub mod service_accounts;
pub mod streams;
mod support;
pub mod venues;

use std::sync::Arc;

use commands::CommandBus;
use crypto::keys::Keys;
use crypto::vault::Vault;
use event_store::Database;
use time::OffsetDateTime;

pub use error::{FieldError, ServiceError, ServiceResult};
pub use support::Done;

/// How long a code token is fresh by default.
pub const DEFAULT_CODE_FRESH_FOR: time::Duration = time::Duration::minutes(5);

/// What every use case works with: the command bus (store and clock), the read models'
/// database, the keys and the personal-data vault.
#[derive(Clone)]
pub struct Services {
    pub bus: CommandBus,
    pub db: Database,
    pub keys: Arc<Keys>,
    pub vault: Vault,
    /// The rate limits' buckets (one set per process).
    pub limiter: Arc<limits::Limiter>,
    /// The binding-code space and its counters (one per process).
    pub codes: Arc<codes::CodeSpace>,
    /// How long after issue a health-code token is fresh: enough for reason labels, checks,
    /// visits and declaration views (SPEC §3; default 5 minutes).
    pub code_fresh_for: time::Duration,
    /// Figures for regions, grids and analysts show counts of 1 to k-1 people as `<k`.
    pub k_anonymity: i64,
    /// How many days after its day a check-in, scan, check or grid visit still names its
    /// person (default 28; `links`).
    pub retention_days: u32,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    /// Use cases over `bus` (whose store lives in `db`), with `keys` and a vault over `db`.
    pub fn new(bus: CommandBus, db: Database, keys: Arc<Keys>) -> Self {
        let vault = Vault::new(db.clone(), keys.master_key);
        Self {
            bus,
            db,
            keys,
            vault,
            limiter: Arc::new(limits::Limiter::new(limits::Limits::default())),
            codes: Arc::new(codes::CodeSpace::default()),
            code_fresh_for: DEFAULT_CODE_FRESH_FOR,
            k_anonymity: figures::DEFAULT_K,
            retention_days: links::DEFAULT_RETENTION_DAYS,
        }
    }

    /// The same use cases keeping links to people for `days` days.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    /// The same use cases with this k for the figures (1 shows every count as it is).
    pub fn with_k_anonymity(mut self, k: i64) -> Self {
        self.k_anonymity = k.max(1);
        self
    }

    /// `n` people as shown in figures for regions, grids and analysts.
    pub fn figure(&self, n: i64) -> figures::Figure {
        figures::Figure::of(n, self.k_anonymity)
    }

    /// The same use cases with this freshness window for code tokens.
    pub fn with_code_freshness(mut self, window: time::Duration) -> Self {
        self.code_fresh_for = window;
        self
    }

    /// The same use cases drawing binding codes from `space`.
    pub fn with_code_space(mut self, space: codes::CodeSpace) -> Self {
        self.codes = Arc::new(space);
        self
    }

    /// The same use cases with these rate limits.
    pub fn with_limits(mut self, limits: limits::Limits) -> Self {
        self.limiter = Arc::new(limits::Limiter::new(limits));
        self
    }

    /// The clock's now.
    pub fn now(&self) -> OffsetDateTime {
        self.bus.clock().now()
    }
}
