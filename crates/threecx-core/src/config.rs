//! Connection settings: where the PBX is, the API client's credentials, timeouts, retries, the
//! token cache and TLS.
//!
//! A [`Config`] is validated once when built, so a [`crate::Client`] never starts with settings
//! that cannot work; every validation error is an [`Error::Config`](crate::Error::Config)
//! naming the field and the fix. The PBX URL rules are [`crate::ApiRoot`]'s.

mod builder;
mod checks;
mod settings;
#[cfg(test)]
mod tests;

pub use builder::ConfigBuilder;
pub(crate) use settings::Redacted;
pub use settings::{
    Config, ExpiresInUnit, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_AFTER, DEFAULT_REFRESH_MARGIN,
    DEFAULT_RETRY_BUDGET_FLOOR, DEFAULT_RETRY_BUDGET_RATIO, DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_BACKOFF_BASE, DEFAULT_TOKEN_BACKOFF_MAX, DEFAULT_TOKEN_REQUESTS_PER_MINUTE,
    ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_URL, MAX_DURATION_SETTING, MAX_RESPONSE_BODY,
    TOKEN_CACHE_LOCK_WAIT,
};
