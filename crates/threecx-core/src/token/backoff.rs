//! The token backoff: after failed token requests that reached the PBX, the next one waits
//! longer each time, and at most `token_requests_per_minute` go out per rolling minute.

use crate::config::Config;

/// The window of [`Config::token_requests_per_minute`].
pub(super) const MINUTE_MS: u64 = 60_000;

/// The token backoff: failed token requests (that reached the PBX) in a row, and when the recent
/// ones went out. Wall-clock milliseconds, so that processes can share it through the token file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Backoff {
    /// Failed token requests in a row.
    pub(crate) consecutive: u32,
    /// Unix time (ms) of the last failed request.
    pub(crate) last_ms: u64,
    /// Unix times (ms) of the failed requests of the last minute, oldest first.
    pub(crate) recent_ms: Vec<u64>,
}

impl Backoff {
    pub(super) fn record_failure(&mut self, now_ms: u64) {
        self.consecutive = self.consecutive.saturating_add(1);
        self.last_ms = now_ms;
        self.recent_ms
            .retain(|&t| t.saturating_add(MINUTE_MS) > now_ms);
        self.recent_ms.push(now_ms);
    }

    /// The backoff with its times made believable at `now_ms`: it may come from the token file
    /// (which anything that can write the folder can plant) or predate a clock change. A
    /// failure cannot lie in the future, so later times count as now; entries that left the
    /// minute are dropped. So whatever was read, the next request waits at most
    /// `max(token_backoff_max, 1 min)` (the minute of `token_requests_per_minute`).
    pub(crate) fn sanitized(mut self, now_ms: u64) -> Backoff {
        self.last_ms = self.last_ms.min(now_ms);
        for t in &mut self.recent_ms {
            *t = (*t).min(now_ms);
        }
        self.recent_ms
            .retain(|&t| t.saturating_add(MINUTE_MS) > now_ms);
        self.recent_ms.sort_unstable();
        self
    }

    /// Whether any time of the record lies after `now_ms` (a planted record, or a clock that
    /// went back).
    pub(crate) fn has_future_times(&self, now_ms: u64) -> bool {
        self.last_ms > now_ms || self.recent_ms.iter().any(|&t| t > now_ms)
    }

    /// When the next token request may be sent (unix ms); `None` when there is no backoff.
    pub(crate) fn next_allowed_ms(&self, config: &Config, now_ms: u64) -> Option<u64> {
        if self.consecutive == 0 {
            return None;
        }
        let exponent = (self.consecutive - 1).min(30);
        let cooldown = config
            .token_backoff_base()
            .saturating_mul(1u32 << exponent)
            .min(config.token_backoff_max());
        let cooldown_ms = cooldown.as_millis().min(u128::from(u64::MAX)) as u64;
        let last = self.last_ms.min(now_ms);
        let mut at = last.saturating_add(cooldown_ms);
        // At most N requests in any minute: the next waits until the oldest of the last N leaves
        // the window.
        let per_minute = config.token_requests_per_minute() as usize;
        if self.recent_ms.len() >= per_minute {
            let oldest = self.recent_ms[self.recent_ms.len() - per_minute].min(now_ms);
            at = at.max(oldest.saturating_add(MINUTE_MS));
        }
        // Never further away than the longest wait the settings allow (see `sanitized`).
        let longest = cooldown_ms.max(MINUTE_MS);
        Some(at.min(now_ms.saturating_add(longest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_hostile_backoff_record_waits_at_most_the_longest_configured_wait() {
        let config = Config::builder()
            .base_url("https://pbx")
            .client_id("id")
            .client_secret("x")
            .build()
            .unwrap();
        let now = 1_700_000_000_000;
        let max = config.token_backoff_max().as_millis() as u64;
        for backoff in [
            Backoff {
                consecutive: u32::MAX,
                last_ms: u64::MAX,
                recent_ms: vec![u64::MAX; 10],
            },
            Backoff {
                consecutive: 1,
                last_ms: now + 24 * 3600 * 1000,
                recent_ms: vec![now + 24 * 3600 * 1000],
            },
            Backoff {
                consecutive: 7,
                last_ms: 0,
                recent_ms: vec![0, u64::MAX, 5, now],
            },
        ] {
            // Even before sanitizing: bounded, no overflow.
            let at = backoff.next_allowed_ms(&config, now).unwrap();
            assert!(at <= now + max, "{backoff:?}: {at}");
            let mut clean = backoff.clone().sanitized(now);
            assert!(!clean.has_future_times(now), "{clean:?}");
            assert!(clean.last_ms <= now && clean.recent_ms.iter().all(|&t| t <= now));
            let at = clean.next_allowed_ms(&config, now).unwrap();
            assert!(at <= now + max, "{clean:?}: {at}");
            clean.record_failure(now);
            clean.record_failure(u64::MAX);
        }
        // A per-minute limit longer than the cooldown still ends within the minute.
        let quick = Config::builder()
            .base_url("https://pbx")
            .client_id("id")
            .client_secret("x")
            .token_backoff(Duration::from_millis(1), Duration::from_millis(10))
            .build()
            .unwrap();
        let full = Backoff {
            consecutive: 9,
            last_ms: u64::MAX,
            recent_ms: vec![u64::MAX; 9],
        };
        let at = full.next_allowed_ms(&quick, now).unwrap();
        assert_eq!(at, now + MINUTE_MS);
    }
}
