//! The checks of [`ConfigBuilder::build`](crate::ConfigBuilder::build), in the order it runs
//! them: every failure is an [`Error::Config`] naming the field and an example of a good value.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::config::settings::{RetrySettings, MAX_ATTEMPTS_LIMIT, MAX_DURATION_SETTING};
use crate::error::{Error, Result};

/// The client ID (trimmed) and the secret, both required.
pub(super) fn credentials(
    client_id: Option<String>,
    client_secret: Option<SecretString>,
) -> Result<(String, SecretString)> {
    let client_id = client_id.unwrap_or_default().trim().to_owned();
    if client_id.is_empty() {
        return Err(Error::Config {
            field: "client_id",
            message: "not set; give the API client's ID (3CX admin console > Integrations > \
                      API)"
                .to_owned(),
        });
    }
    match client_secret {
        Some(s) if !s.expose_secret().is_empty() => Ok((client_id, s)),
        _ => Err(Error::Config {
            field: "client_secret",
            message: "not set; give the API client's secret (shown once when the API client is \
                      created in the 3CX admin console)"
                .to_owned(),
        }),
    }
}

/// Time limits: none zero, none beyond [`MAX_DURATION_SETTING`] (so no deadline computed from
/// them can overflow).
pub(super) fn durations(
    timeout: Duration,
    connect_timeout: Duration,
    call_timeout: Option<Duration>,
    refresh_margin: Duration,
    retry: &RetrySettings,
) -> Result<()> {
    if timeout.is_zero() {
        return Err(Error::Config {
            field: "timeout",
            message: "must be more than zero, e.g. 30 s".to_owned(),
        });
    }
    for (field, value) in [
        ("timeout", Some(timeout)),
        ("connect_timeout", Some(connect_timeout)),
        ("call_timeout", call_timeout),
        ("refresh_margin", Some(refresh_margin)),
        ("backoff", Some(retry.backoff_base.max(retry.backoff_max))),
        ("max_retry_after", Some(retry.max_retry_after)),
        (
            "token_backoff",
            Some(retry.token_backoff_base.max(retry.token_backoff_max)),
        ),
    ] {
        if value.is_some_and(|v| v > MAX_DURATION_SETTING) {
            return Err(Error::Config {
                field,
                message: format!(
                    "must be at most 7 days ({} s); got {:.0} s",
                    MAX_DURATION_SETTING.as_secs(),
                    value.unwrap_or_default().as_secs_f64()
                ),
            });
        }
    }
    if connect_timeout.is_zero() {
        return Err(Error::Config {
            field: "connect_timeout",
            message: "must be more than zero, e.g. 10 s".to_owned(),
        });
    }
    Ok(())
}

/// Attempts, backoff, retry budget and the token endpoint's pace.
pub(super) fn retries(retry: &RetrySettings) -> Result<()> {
    if !(1..=MAX_ATTEMPTS_LIMIT).contains(&retry.max_attempts) {
        return Err(Error::Config {
            field: "max_attempts",
            message: format!(
                "must be 1 to {MAX_ATTEMPTS_LIMIT} (1 turns retries off), e.g. 3; got {}",
                retry.max_attempts
            ),
        });
    }
    if retry.backoff_max < retry.backoff_base {
        return Err(Error::Config {
            field: "backoff",
            message: "the cap must be at least the base, e.g. base 100 ms, cap 5 s".to_owned(),
        });
    }
    if !(0.0..=1.0).contains(&retry.budget_ratio) {
        return Err(Error::Config {
            field: "retry_budget",
            message: "the ratio must be between 0 and 1, e.g. 0.2".to_owned(),
        });
    }
    if retry.token_backoff_base < Duration::from_millis(1)
        || retry.token_backoff_max < retry.token_backoff_base
    {
        return Err(Error::Config {
            field: "token_backoff",
            message: "the base must be at least 1 ms and the cap at least the base, e.g. base \
                      1 s, cap 5 min (3CX blocks IPs that fail to log in repeatedly)"
                .to_owned(),
        });
    }
    if retry.token_requests_per_minute == 0 {
        return Err(Error::Config {
            field: "token_requests_per_minute",
            message: "must be at least 1, e.g. 6".to_owned(),
        });
    }
    Ok(())
}

/// The whole call's limit: as given, or `2 × timeout × max_attempts` (room for a token request
/// and a request per attempt).
pub(super) fn call_timeout(
    call_timeout: Option<Duration>,
    timeout: Duration,
    max_attempts: u32,
) -> Result<Duration> {
    let call_timeout = call_timeout.unwrap_or_else(|| timeout.saturating_mul(2 * max_attempts));
    if call_timeout.is_zero() {
        return Err(Error::Config {
            field: "call_timeout",
            message: "must be more than zero, e.g. 120 s".to_owned(),
        });
    }
    Ok(call_timeout)
}

/// Paths, when given, must not be empty.
pub(super) fn paths(token_cache_dir: Option<&Path>, ca_bundle: Option<&Path>) -> Result<()> {
    if token_cache_dir.is_some_and(|dir| dir.as_os_str().is_empty()) {
        return Err(Error::Config {
            field: "token_cache_dir",
            message: "the path is empty; give a folder private to the user, e.g. \
                      ~/.cache/threecx"
                .to_owned(),
        });
    }
    if ca_bundle.is_some_and(|path| path.as_os_str().is_empty()) {
        return Err(Error::Config {
            field: "ca_bundle",
            message: "the path is empty; give the path of a PEM file of CA certificates".to_owned(),
        });
    }
    Ok(())
}

/// A `User-Agent` HTTP accepts.
pub(super) fn user_agent(user_agent: &str) -> Result<()> {
    if user_agent.trim().is_empty() || reqwest::header::HeaderValue::from_str(user_agent).is_err() {
        return Err(Error::Config {
            field: "user_agent",
            message: "must be non-empty visible ASCII, e.g. threecx/0.1".to_owned(),
        });
    }
    Ok(())
}
