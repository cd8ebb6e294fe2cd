//! Rate limits: token buckets per action and per who (a person, a client address, a service
//! account), kept in memory by the process. Ordinary use never meets them (a family checking in
//! together, a burst of twenty requests from one person, sixteen concurrent attempts at one
//! command); a script walking the binding-code space is stopped after a handful of misses.
//! Refused requests answer `429 rate.limited` with `Retry-After`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::ServiceError;

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Signing in, per client address.
    SignIn,
    /// A binding attempt with a code nobody was given, per person.
    BindingMiss,
    /// The same, per client address (many people may share one).
    BindingMissAddress,
    /// Quick check-ins, per person.
    CheckIn,
    /// Scans of codes, per person.
    Scan,
    /// Any request of a service account (the feed, auditors, analysts), per account.
    Service,
}

/// A bucket's shape: up to `burst` at once, `per_minute` more each minute.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: f64,
}

/// Every limit (configurable: `[limits]` in the config file, each `{ burst, per_minute }`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub sign_in: Rate,
    pub binding_miss: Rate,
    pub binding_miss_address: Rate,
    pub check_in: Rate,
    pub scan: Rate,
    pub service: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A shared address (an office, a campus NAT) signs many people in.
            sign_in: Rate {
                burst: 60,
                per_minute: 30.0,
            },
            // Ten misses, then one every six minutes: 10^6 codes take years.
            binding_miss: Rate {
                burst: 10,
                per_minute: 0.1,
            },
            // One machine with many identities: thirty misses, then one a minute.
            binding_miss_address: Rate {
                burst: 30,
                per_minute: 1.0,
            },
            check_in: Rate {
                burst: 30,
                per_minute: 30.0,
            },
            // An inspector at a queue scans one person every few seconds.
            scan: Rate {
                burst: 60,
                per_minute: 60.0,
            },
            // Feed batches and audit pages.
            service: Rate {
                burst: 600,
                per_minute: 600.0,
            },
        }
    }
}

impl Limits {
    /// No practical limit (tests of other things, embedding).
    pub fn relaxed() -> Self {
        let free = Rate {
            burst: 1_000_000,
            per_minute: 1_000_000.0,
        };
        Self {
            sign_in: free,
            binding_miss: free,
            binding_miss_address: free,
            check_in: free,
            scan: free,
            service: free,
        }
    }

    fn rate(&self, action: Action) -> Rate {
        match action {
            Action::SignIn => self.sign_in,
            Action::BindingMiss => self.binding_miss,
            Action::BindingMissAddress => self.binding_miss_address,
            Action::CheckIn => self.check_in,
            Action::Scan => self.scan,
            Action::Service => self.service,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

/// The buckets of one process.
#[derive(Debug, Default)]
pub struct Limiter {
    limits: Limits,
    buckets: Mutex<HashMap<(Action, String), Bucket>>,
}

/// Buckets kept before full ones are forgotten.
const PRUNE_AT: usize = 100_000;

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` on the bucket of `who` for `action`, refilled up to `now`.
    fn with<R>(
        &self,
        action: Action,
        who: &str,
        now: OffsetDateTime,
        f: impl FnOnce(&mut f64, Rate) -> R,
    ) -> R {
        let rate = self.limits.rate(action);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_AT {
            buckets.retain(|(a, _), b| {
                let r = self.limits.rate(*a);
                b.tokens + minutes(now - b.at) * r.per_minute < f64::from(r.burst)
            });
        }
        let bucket = buckets.entry((action, who.to_owned())).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        });
        let elapsed = minutes(now - bucket.at).max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate.per_minute).min(f64::from(rate.burst));
        bucket.at = now;
        f(&mut bucket.tokens, rate)
    }

    /// Takes one from the bucket: `429` (with the seconds until one is back) when it is empty.
    pub fn take(&self, action: Action, who: &str, now: OffsetDateTime) -> Result<(), ServiceError> {
        self.with(action, who, now, |tokens, rate| {
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                Ok(())
            } else {
                Err(limited(*tokens, rate))
            }
        })
    }

    /// `429` when the bucket is empty, taking nothing (for what only failures spend).
    pub fn ensure(
        &self,
        action: Action,
        who: &str,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        self.with(action, who, now, |tokens, rate| {
            if *tokens >= 1.0 {
                Ok(())
            } else {
                Err(limited(*tokens, rate))
            }
        })
    }

    /// Takes one, or nothing when the bucket is empty.
    pub fn spend(&self, action: Action, who: &str, now: OffsetDateTime) {
        self.with(action, who, now, |tokens, _| {
            *tokens = (*tokens - 1.0).max(0.0);
        });
    }
}

fn minutes(d: time::Duration) -> f64 {
    d.as_seconds_f64() / 60.0
}

fn limited(tokens: f64, rate: Rate) -> ServiceError {
    let wait = if rate.per_minute > 0.0 {
        ((1.0 - tokens) / rate.per_minute * 60.0).ceil()
    } else {
        3600.0
    };
    ServiceError::RateLimited {
        retry_after_secs: (wait as u64).max(1),
    }
}

/// A binding attempt by `person` from `client`: refused while either has missed too often; a
/// miss (a code nobody was given) spends from both.
pub async fn binding<T>(
    services: &crate::Services,
    person: domain::identity::PersonId,
    client: &str,
    attempt: impl Future<Output = Result<T, ServiceError>>,
) -> Result<T, ServiceError> {
    let limiter = &services.limiter;
    let person = person.to_string();
    limiter.ensure(Action::BindingMiss, &person, services.now())?;
    limiter.ensure(Action::BindingMissAddress, client, services.now())?;
    let result = attempt.await;
    if let Err(ServiceError::NotFound { code, .. }) = &result {
        if code.ends_with(".unknown_code") {
            limiter.spend(Action::BindingMiss, &person, services.now());
            limiter.spend(Action::BindingMissAddress, client, services.now());
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-02 09:00 +8);

    #[test]
    fn a_bucket_empties_then_refills_with_time() {
        let limiter = Limiter::new(Limits::default());
        for _ in 0..30 {
            assert!(limiter.take(Action::CheckIn, "p", NOW).is_ok());
        }
        match limiter.take(Action::CheckIn, "p", NOW) {
            Err(ServiceError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 2),
            other => panic!("limited expected, got {other:?}"),
        }
        assert!(
            limiter.take(Action::CheckIn, "other", NOW).is_ok(),
            "per who"
        );
        assert!(limiter.take(Action::Scan, "p", NOW).is_ok(), "per action");
        assert!(limiter
            .take(Action::CheckIn, "p", NOW + time::Duration::seconds(2))
            .is_ok());
    }

    #[test]
    fn ensure_takes_nothing_and_spend_never_goes_below_empty() {
        let limiter = Limiter::new(Limits::default());
        for _ in 0..25 {
            assert!(limiter.ensure(Action::BindingMiss, "p", NOW).is_ok());
        }
        for _ in 0..12 {
            limiter.spend(Action::BindingMiss, "p", NOW);
        }
        match limiter.ensure(Action::BindingMiss, "p", NOW) {
            Err(ServiceError::RateLimited { retry_after_secs }) => {
                assert_eq!(retry_after_secs, 600)
            }
            other => panic!("limited expected, got {other:?}"),
        }
        assert!(limiter
            .ensure(Action::BindingMiss, "p", NOW + time::Duration::minutes(10))
            .is_ok());
    }
}
