//! Fault injection: answers a real PBX (or the network in front of it) sometimes gives, on
//! demand and reproducibly.

use std::time::Duration;

use crate::gen::hash;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The answer is delayed by this long (the request is then served normally; latency rules
    /// add up and combine with one other fault).
    Latency(Duration),
    /// An error answer with this status and a 3CX-shaped JSON error; `retry_after` (seconds)
    /// adds a `Retry-After` header.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// The connection is closed without any answer.
    ConnectionReset,
    /// The real answer, announced with its full `Content-Length` but cut in half, then the
    /// connection closed.
    TruncatedBody,
    /// An HTML page (`text/html`) with this status, as a proxy in front of the PBX would send.
    NonJsonBody { status: u16 },
    /// `200` with `Content-Type: application/json` and a body that is not valid JSON.
    MalformedJson,
}

impl Fault {
    /// `429 Too Many Requests` with `Retry-After: secs`.
    pub fn too_many_requests(retry_after_secs: u64) -> Fault {
        Fault::Status {
            status: 429,
            retry_after: Some(retry_after_secs),
        }
    }

    /// `500 Internal Server Error`.
    pub fn internal_error() -> Fault {
        Fault::Status {
            status: 500,
            retry_after: None,
        }
    }

    /// `503 Service Unavailable`.
    pub fn unavailable() -> Fault {
        Fault::Status {
            status: 503,
            retry_after: None,
        }
    }

    /// A short name for logs.
    pub fn label(&self) -> String {
        match self {
            Fault::Latency(d) => format!("latency {}ms", d.as_millis()),
            Fault::Status { status, .. } => format!("status {status}"),
            Fault::ConnectionReset => "connection reset".to_owned(),
            Fault::TruncatedBody => "truncated body".to_owned(),
            Fault::NonJsonBody { status } => format!("html {status}"),
            Fault::MalformedJson => "malformed json".to_owned(),
        }
    }
}

/// When a rule fires, counted over the requests the rule applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    Always,
    /// Only the n-th (1-based) request.
    Nth(u64),
    /// Every n-th request (n, 2n, 3n...).
    EveryNth(u64),
    /// A share of the requests (0.0..=1.0), chosen by the sandbox seed: the same seed and
    /// request order give the same requests.
    Rate(f64),
}

/// One fault, when it happens and to which requests.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub fault: Fault,
    pub trigger: Trigger,
    /// Only requests whose path (and query) starts with this, e.g. `/xapi/v1/Users` or
    /// `/connect/token`; `None`: every request, the token endpoint included.
    pub path_prefix: Option<String>,
    /// Only requests with this method (case-insensitive); `None`: any.
    pub method: Option<String>,
    /// Fire at most this many times.
    pub limit: Option<u64>,
}

impl FaultRule {
    /// A rule firing on every request, until narrowed with the other builder methods.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            trigger: Trigger::Always,
            path_prefix: None,
            method: None,
            limit: None,
        }
    }

    /// Only the n-th (1-based) matching request.
    pub fn nth(mut self, n: u64) -> Self {
        self.trigger = Trigger::Nth(n);
        self
    }

    /// Every n-th matching request.
    pub fn every(mut self, n: u64) -> Self {
        self.trigger = Trigger::EveryNth(n);
        self
    }

    /// A seeded share of the matching requests.
    pub fn rate(mut self, rate: f64) -> Self {
        self.trigger = Trigger::Rate(rate);
        self
    }

    /// Only requests whose path starts with `prefix`.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Only requests to the API (`/xapi/v1`), not the token endpoint.
    pub fn api_only(self) -> Self {
        self.path_prefix("/xapi/v1/")
    }

    /// Only requests with `method`.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Fire at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    fn applies(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

/// The fault rules of a sandbox.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    pub rules: Vec<FaultRule>,
}

impl FaultConfig {
    pub fn with(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }
}

/// Rules with their counters.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    rules: Vec<(FaultRule, u64, u64)>,
    seed: u64,
}

/// What to do to one request.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Decision {
    pub latency: Duration,
    pub fault: Option<Fault>,
}

impl FaultState {
    pub fn new(config: &FaultConfig, seed: u64) -> Self {
        let mut s = FaultState {
            rules: Vec::new(),
            seed,
        };
        s.set(config);
        s
    }

    pub fn set(&mut self, config: &FaultConfig) {
        self.rules = config.rules.iter().map(|r| (r.clone(), 0, 0)).collect();
    }

    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push((rule, 0, 0));
    }

    /// Counts the request against every rule that applies and says which faults fire.
    pub fn decide(&mut self, method: &str, path: &str) -> Decision {
        let mut d = Decision::default();
        for (k, (rule, seen, fired)) in self.rules.iter_mut().enumerate() {
            if !rule.applies(method, path) {
                continue;
            }
            *seen += 1;
            if rule.limit.is_some_and(|l| *fired >= l) {
                continue;
            }
            let fires = match rule.trigger {
                Trigger::Always => true,
                Trigger::Nth(n) => *seen == n,
                Trigger::EveryNth(n) => n > 0 && *seen % n == 0,
                Trigger::Rate(p) => {
                    let u = (hash(&[self.seed, 0xFA17, k as u64, *seen]) >> 11) as f64
                        / (1u64 << 53) as f64;
                    u < p
                }
            };
            if !fires {
                continue;
            }
            match &rule.fault {
                Fault::Latency(l) => {
                    *fired += 1;
                    d.latency += *l;
                }
                other if d.fault.is_none() => {
                    *fired += 1;
                    d.fault = Some(other.clone());
                }
                _ => {}
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_every_limit_and_prefix() {
        let config = FaultConfig::default()
            .with(
                FaultRule::new(Fault::internal_error())
                    .nth(2)
                    .path_prefix("/xapi/v1/Users"),
            )
            .with(
                FaultRule::new(Fault::unavailable())
                    .every(3)
                    .method("post")
                    .times(1),
            );
        let mut s = FaultState::new(&config, 1);
        assert_eq!(s.decide("GET", "/xapi/v1/Users").fault, None);
        assert_eq!(s.decide("GET", "/xapi/v1/Groups").fault, None);
        assert_eq!(
            s.decide("GET", "/xapi/v1/Users(1)").fault,
            Some(Fault::internal_error())
        );
        assert_eq!(s.decide("GET", "/xapi/v1/Users").fault, None);
        for _ in 0..2 {
            assert_eq!(s.decide("POST", "/x").fault, None);
        }
        assert_eq!(s.decide("POST", "/x").fault, Some(Fault::unavailable()));
        for _ in 0..6 {
            assert_eq!(s.decide("POST", "/x").fault, None, "limited to one");
        }
    }

    #[test]
    fn rates_are_seeded() {
        let config = FaultConfig::default().with(FaultRule::new(Fault::internal_error()).rate(0.3));
        let run = |seed| {
            let mut s = FaultState::new(&config, seed);
            (0..1000)
                .map(|_| s.decide("GET", "/").fault.is_some())
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        let hits = a.iter().filter(|h| **h).count();
        assert!((230..370).contains(&hits), "{hits}");
    }

    #[test]
    fn latency_adds_up_and_combines() {
        let config = FaultConfig::default()
            .with(FaultRule::new(Fault::Latency(Duration::from_millis(5))))
            .with(FaultRule::new(Fault::Latency(Duration::from_millis(7))))
            .with(FaultRule::new(Fault::MalformedJson));
        let d = FaultState::new(&config, 0).decide("GET", "/");
        assert_eq!(d.latency, Duration::from_millis(12));
        assert_eq!(d.fault, Some(Fault::MalformedJson));
    }
}
