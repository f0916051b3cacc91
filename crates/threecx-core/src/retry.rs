//! When a failed attempt is tried again, and after how long. Pure decisions (no I/O, no clock
//! of their own), so the rules of `RELIABILITY.md` are unit-tested here; the loop that applies
//! them is `Client::send`.
//!
//! The rules in one sentence: a request is sent again only when nothing reached the PBX, or when
//! its template says repeating it is harmless (GET, DELETE, PATCH, PUT and the POSTs the codegen
//! config declares safe), and then only for failures that may pass, within `max_attempts`, the
//! call's time limit and the client's retry budget.
//!
//! The schedule is "full jitter" (a random delay between zero and the capped exponential), a
//! three-line formula: `backon` only adds jitter on top of the exponential and `backoff` is no
//! longer maintained, so neither fits better than these lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::config::Config;

/// Statuses that may pass: request timeout, too many requests, and the server-side failures a
/// restart or an overloaded PBX produces.
pub(crate) const TRANSIENT_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// What went wrong in one attempt, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// Nothing reached the PBX (connection refused, DNS failure, connect timeout, TLS handshake):
    /// sending again is safe for any request.
    NotSent,
    /// The request may have reached the PBX, then the exchange broke: a timeout, a connection
    /// reset, a truncated or stalled answer, or a 2xx answer that cannot be read (invalid JSON,
    /// an HTML page where JSON was expected).
    Lost,
    /// The PBX answered with one of [`TRANSIENT_STATUSES`]; `Retry-After` as given on a 429 or 503.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The token request failed after it may have reached the token endpoint: the token backoff
    /// decides when to ask again, not this loop (3CX blocks IPs that fail to log in repeatedly).
    Token,
    /// Anything else (4xx, 3xx, bad input): trying again would give the same result.
    Final,
}

/// The outcome of [`Policy::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Sleep this long, then send again (if the retry budget allows).
    Retry { delay: Duration },
    /// Return the error; the reason is logged.
    Stop { reason: &'static str },
}

/// The retry settings of one client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) max_attempts: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) max_retry_after: Duration,
}

impl Policy {
    pub(crate) fn from_config(config: &Config) -> Self {
        Policy {
            max_attempts: config.max_attempts(),
            backoff_base: config.backoff_base(),
            backoff_max: config.backoff_max(),
            max_retry_after: config.max_retry_after(),
        }
    }

    /// Whether and when attempt `attempt + 1` is made after attempt `attempt` (1-based) failed
    /// with `fault`. `retry_safe` is the request's own flag; `remaining` is what is left of the
    /// call's time limit; `jitter` is a random number in `[0, 1)`.
    pub(crate) fn decide(
        &self,
        fault: FailureClass,
        retry_safe: bool,
        attempt: u32,
        remaining: Duration,
        jitter: f64,
    ) -> Decision {
        let stop = |reason| Decision::Stop { reason };
        match fault {
            FailureClass::Final => return stop("the failure will not pass by trying again"),
            FailureClass::Token => {
                return stop("failed token requests are paced by the token backoff")
            }
            FailureClass::Lost | FailureClass::Status { .. } if !retry_safe => {
                return stop(
                    "the request may have reached the PBX and is not safe to send twice \
                     (retry_safe is false)",
                )
            }
            _ => {}
        }
        if attempt >= self.max_attempts {
            return stop("no attempts left (max_attempts)");
        }
        let delay = match fault {
            FailureClass::Status {
                retry_after: Some(wait),
                ..
            } => {
                if wait > self.max_retry_after {
                    return stop("the PBX asked to wait longer than max_retry_after");
                }
                wait
            }
            _ => full_jitter(self.backoff_base, self.backoff_max, attempt, jitter),
        };
        if delay >= remaining {
            return stop("the wait would end after the call's time limit (call_timeout)");
        }
        Decision::Retry { delay }
    }
}

/// The sleep before retry number `retry` (1-based): uniform in `[0, min(max, base × 2^(retry-1)))`.
pub(crate) fn full_jitter(base: Duration, max: Duration, retry: u32, jitter: f64) -> Duration {
    let exponent = retry.saturating_sub(1).min(30);
    let ceiling = base.saturating_mul(1u32 << exponent).min(max);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// A `Retry-After` value: delay seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00
/// GMT`), as a wait from `now`. A date in the past is no wait; anything else is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A token bucket of retries, shared by one client and its clones: it starts with `floor`
/// retries and holds at most `max(floor, 1)`; each retry takes one, each successful call gives
/// back `ratio`. A PBX that is down drains it, and then every call makes one attempt only.
///
/// Atomic, not locked: every successful call credits it, from every task of a client, and a
/// full bucket (the usual state) is then only read, so calls on different threads do not take
/// turns at a lock or pass its cache line back and forth.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    /// In thousandths of a retry, so that 5 × 0.2 is exactly one.
    balance: AtomicU64,
    ratio: u64,
    capacity: u64,
}

/// One retry, in the budget's unit.
const ONE: u64 = 1000;

impl RetryBudget {
    pub(crate) fn new(ratio: f64, floor: u32) -> Self {
        RetryBudget {
            balance: AtomicU64::new(u64::from(floor) * ONE),
            ratio: (ratio.clamp(0.0, 1.0) * ONE as f64).round() as u64,
            capacity: u64::from(floor.max(1)) * ONE,
        }
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub(crate) fn try_withdraw(&self) -> bool {
        self.balance
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(ONE))
            .is_ok()
    }

    /// Credits a successful call.
    pub(crate) fn deposit(&self) {
        if self.balance.load(Ordering::Relaxed) >= self.capacity {
            return;
        }
        // Err only when it is full by now: nothing to add then.
        let _ = self
            .balance
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                (b < self.capacity).then(|| (b + self.ratio).min(self.capacity))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const LONG: Duration = Duration::from_secs(3600);

    fn policy() -> Policy {
        Policy {
            max_attempts: 3,
            backoff_base: 100 * MS,
            backoff_max: 5000 * MS,
            max_retry_after: Duration::from_secs(30),
        }
    }

    fn status(status: u16) -> FailureClass {
        FailureClass::Status {
            status,
            retry_after: None,
        }
    }

    /// The decision table of RELIABILITY.md, row by row.
    #[test]
    fn decision_table() {
        let p = policy();
        let retries =
            |fault, safe| matches!(p.decide(fault, safe, 1, LONG, 0.5), Decision::Retry { .. });
        // Not sent: any request, POST actions included.
        assert!(retries(FailureClass::NotSent, true));
        assert!(retries(FailureClass::NotSent, false));
        // May have been sent: only requests safe to repeat.
        assert!(retries(FailureClass::Lost, true));
        assert!(!retries(FailureClass::Lost, false));
        for s in TRANSIENT_STATUSES {
            assert!(retries(status(s), true), "{s}");
            assert!(!retries(status(s), false), "{s}");
        }
        // Never: final answers and token endpoint failures.
        assert!(!retries(FailureClass::Final, true));
        assert!(!retries(FailureClass::Token, true));
        assert!(!retries(FailureClass::Token, false));
    }

    #[test]
    fn attempts_are_bounded() {
        let p = policy();
        assert!(matches!(
            p.decide(FailureClass::NotSent, true, 2, LONG, 0.5),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            p.decide(FailureClass::NotSent, true, 3, LONG, 0.5),
            Decision::Stop { .. }
        ));
        let once = Policy {
            max_attempts: 1,
            ..p
        };
        assert!(matches!(
            once.decide(FailureClass::NotSent, true, 1, LONG, 0.5),
            Decision::Stop { .. }
        ));
    }

    #[test]
    fn retry_after_replaces_the_backoff_up_to_its_cap() {
        let p = policy();
        let after = |secs| FailureClass::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            p.decide(after(7), true, 1, LONG, 0.0),
            Decision::Retry {
                delay: Duration::from_secs(7)
            }
        );
        assert!(matches!(
            p.decide(after(31), true, 1, LONG, 0.0),
            Decision::Stop { .. }
        ));
        // Not enough time left in the call.
        assert!(matches!(
            p.decide(after(7), true, 1, Duration::from_secs(5), 0.0),
            Decision::Stop { .. }
        ));
    }

    #[test]
    fn full_jitter_grows_exponentially_up_to_the_cap() {
        let (base, max) = (100 * MS, 5000 * MS);
        assert_eq!(full_jitter(base, max, 1, 0.0), Duration::ZERO);
        assert_eq!(full_jitter(base, max, 1, 1.0), 100 * MS);
        assert_eq!(full_jitter(base, max, 2, 1.0), 200 * MS);
        assert_eq!(full_jitter(base, max, 3, 0.5), 200 * MS);
        assert_eq!(full_jitter(base, max, 7, 1.0), 5000 * MS);
        assert_eq!(full_jitter(base, max, 1000, 1.0), 5000 * MS);
        for _ in 0..100 {
            let d = full_jitter(base, max, 2, fastrand::f64());
            assert!(d < 200 * MS, "{d:?}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // Obsolete RFC 850 form, also valid.
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn the_budget_runs_out_and_successes_refill_it() {
        let b = RetryBudget::new(0.2, 2);
        assert!(b.try_withdraw());
        assert!(b.try_withdraw());
        assert!(!b.try_withdraw());
        for _ in 0..4 {
            b.deposit();
        }
        assert!(!b.try_withdraw(), "4 × 0.2 is less than one retry");
        b.deposit();
        assert!(b.try_withdraw(), "5 successes earn one retry");
        // Capped at the floor: a long quiet success streak does not bank a storm of retries.
        for _ in 0..1000 {
            b.deposit();
        }
        assert!(b.try_withdraw());
        assert!(b.try_withdraw());
        assert!(!b.try_withdraw());
    }
}
