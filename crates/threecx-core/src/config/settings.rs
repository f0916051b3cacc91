//! The validated settings ([`Config`]), their defaults and limits.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::api_root::ApiRoot;

/// Environment variable holding the PBX URL, read by [`Config::from_env`].
pub const ENV_URL: &str = "THREECX_URL";
/// Environment variable holding the API client's ID, read by [`Config::from_env`].
pub const ENV_CLIENT_ID: &str = "THREECX_CLIENT_ID";
/// Environment variable holding the API client's secret, read by [`Config::from_env`].
pub const ENV_CLIENT_SECRET: &str = "THREECX_CLIENT_SECRET";

/// Default time allowed for one HTTP exchange (request sent and whole answer read).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed to open a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time before a token's expiry at which a new one is fetched (capped at 10% of the
/// token's lifetime, see [`ConfigBuilder::refresh_margin`](crate::ConfigBuilder::refresh_margin)).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Default number of attempts per call, the first one included (see
/// [`ConfigBuilder::max_attempts`](crate::ConfigBuilder::max_attempts)).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default base of the exponential backoff between attempts (see [`ConfigBuilder::backoff`](crate::ConfigBuilder::backoff)).
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Default cap of the exponential backoff between attempts (see [`ConfigBuilder::backoff`](crate::ConfigBuilder::backoff)).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Default longest `Retry-After` that is waited for (see [`ConfigBuilder::max_retry_after`](crate::ConfigBuilder::max_retry_after)).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Default share of successful calls that retries may add (see [`ConfigBuilder::retry_budget`](crate::ConfigBuilder::retry_budget)).
pub const DEFAULT_RETRY_BUDGET_RATIO: f64 = 0.2;
/// Default number of retries allowed without earlier successes (see
/// [`ConfigBuilder::retry_budget`](crate::ConfigBuilder::retry_budget)).
pub const DEFAULT_RETRY_BUDGET_FLOOR: u32 = 10;
/// Default wait after the first failed token request (see [`ConfigBuilder::token_backoff`](crate::ConfigBuilder::token_backoff)).
pub const DEFAULT_TOKEN_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Default longest wait between failed token requests (see [`ConfigBuilder::token_backoff`](crate::ConfigBuilder::token_backoff)).
pub const DEFAULT_TOKEN_BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);
/// Default most token requests per rolling minute once they fail (see
/// [`ConfigBuilder::token_requests_per_minute`](crate::ConfigBuilder::token_requests_per_minute)).
pub const DEFAULT_TOKEN_REQUESTS_PER_MINUTE: u32 = 6;
/// The default of [`ConfigBuilder::max_response_bytes`](crate::ConfigBuilder::max_response_bytes): most bytes of a successful answer
/// held in memory (a page of JSON, a small file). Larger pages are refused with a clear error:
/// page with `$top`; large files go through [`crate::Client::download_to`].
pub const MAX_RESPONSE_BODY: usize = 128 * 1024 * 1024;
/// Longest wait for the lock of the token cache file (see [`ConfigBuilder::token_cache_dir`](crate::ConfigBuilder::token_cache_dir)):
/// another process holds it while it fetches a token, normally for well under a second. After
/// this long (or the timeout plus the connect timeout, if shorter) the call goes on with a token
/// kept in memory, and a warning is logged, so a stuck process cannot stall every call.
pub const TOKEN_CACHE_LOCK_WAIT: Duration = Duration::from_secs(5);
/// Most attempts per call that can be configured.
pub(crate) const MAX_ATTEMPTS_LIMIT: u32 = 10;
/// Longest duration any setting may have (timeouts, margins, backoffs): 7 days. Far beyond
/// any real use, and far enough from the limits of clocks and `Duration` arithmetic that no
/// deadline computed from a setting can overflow (`--timeout 1e19` used to crash the CLI).
pub const MAX_DURATION_SETTING: Duration = Duration::from_secs(7 * 24 * 3600);

/// How the `expires_in` of a token answer is read.
///
/// 3CX before 20.0.9 sent `60` meaning minutes; from 20.0.9 on it sends `3600` seconds. Both mean
/// one hour. A JWT `exp` claim, when the token has one, takes precedence over `expires_in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExpiresInUnit {
    /// Values up to 60 are minutes, larger values are seconds (no 3CX token lives a minute or less).
    #[default]
    Auto,
    /// Always seconds (RFC 6749).
    Seconds,
    /// Always minutes (3CX before 20.0.9).
    Minutes,
}

/// Validated connection settings for a [`crate::Client`].
///
/// Built with [`Config::builder`] or [`Config::from_env`]. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Config {
    // Set by `ConfigBuilder::build` (a sibling module), after its checks.
    pub(super) root: ApiRoot,
    pub(super) client_id: String,
    pub(super) client_secret: SecretString,
    pub(super) timeout: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) ca_bundle: Option<PathBuf>,
    pub(super) insecure: bool,
    pub(super) refresh_margin: Duration,
    pub(super) expires_in_unit: ExpiresInUnit,
    pub(super) user_agent: String,
    pub(super) retry: RetrySettings,
    pub(super) call_timeout: Duration,
    pub(super) token_cache_dir: Option<PathBuf>,
    pub(super) isolated_token_cache: bool,
    pub(super) max_response_bytes: usize,
}

/// The retry and backoff settings, shared by [`Config`] and [`ConfigBuilder`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RetrySettings {
    pub(super) max_attempts: u32,
    pub(super) backoff_base: Duration,
    pub(super) backoff_max: Duration,
    pub(super) max_retry_after: Duration,
    pub(super) budget_ratio: f64,
    pub(super) budget_floor: u32,
    pub(super) token_backoff_base: Duration,
    pub(super) token_backoff_max: Duration,
    pub(super) token_requests_per_minute: u32,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            budget_ratio: DEFAULT_RETRY_BUDGET_RATIO,
            budget_floor: DEFAULT_RETRY_BUDGET_FLOOR,
            token_backoff_base: DEFAULT_TOKEN_BACKOFF_BASE,
            token_backoff_max: DEFAULT_TOKEN_BACKOFF_MAX,
            token_requests_per_minute: DEFAULT_TOKEN_REQUESTS_PER_MINUTE,
        }
    }
}

impl Config {
    /// The normalised base URL, without a trailing `/`: `https://pbx.example.com:5001`.
    pub fn base_url(&self) -> &str {
        self.root.base_url()
    }

    /// The API root every request path is relative to: `<base>/xapi/v1`.
    pub fn api_root(&self) -> &str {
        self.root.as_str()
    }

    /// The PBX's API root as a value: base URL, API root, token endpoint, full URLs of requests.
    pub fn root(&self) -> &ApiRoot {
        &self.root
    }

    /// The OAuth2 token endpoint: `<base>/connect/token`.
    pub fn token_url(&self) -> &str {
        self.root.token_url()
    }

    /// The API client's ID (3CX admin console > Integrations > API).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The API client's secret; expose it only to send it to the token endpoint.
    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// Time allowed for one HTTP exchange.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Time allowed to open a connection.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// PEM bundle of extra trusted CA certificates, if any.
    pub fn ca_bundle(&self) -> Option<&Path> {
        self.ca_bundle.as_deref()
    }

    /// Whether TLS certificates are accepted without verification.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// The configured refresh margin (before the 10%-of-lifetime cap).
    pub fn refresh_margin(&self) -> Duration {
        self.refresh_margin
    }

    /// How `expires_in` is read.
    pub fn expires_in_unit(&self) -> ExpiresInUnit {
        self.expires_in_unit
    }

    /// The `User-Agent` sent with every request.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Most attempts per call, the first one included (1 = no retries).
    pub fn max_attempts(&self) -> u32 {
        self.retry.max_attempts
    }

    /// Base of the exponential backoff between attempts.
    pub fn backoff_base(&self) -> Duration {
        self.retry.backoff_base
    }

    /// Cap of the exponential backoff between attempts.
    pub fn backoff_max(&self) -> Duration {
        self.retry.backoff_max
    }

    /// Longest `Retry-After` that is waited for; a longer one ends the call with the error.
    pub fn max_retry_after(&self) -> Duration {
        self.retry.max_retry_after
    }

    /// Share of successful calls that retries may add (the retry budget).
    pub fn retry_budget_ratio(&self) -> f64 {
        self.retry.budget_ratio
    }

    /// Retries allowed without earlier successes (the retry budget's floor and capacity).
    pub fn retry_budget_floor(&self) -> u32 {
        self.retry.budget_floor
    }

    /// Wait after the first failed token request; it doubles with each further failure.
    pub fn token_backoff_base(&self) -> Duration {
        self.retry.token_backoff_base
    }

    /// Longest wait between failed token requests.
    pub fn token_backoff_max(&self) -> Duration {
        self.retry.token_backoff_max
    }

    /// Most token requests per rolling minute while they fail.
    pub fn token_requests_per_minute(&self) -> u32 {
        self.retry.token_requests_per_minute
    }

    /// Time allowed for a whole call: every attempt, token request and backoff sleep.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// Most bytes of a successful answer held in memory (see
    /// [`ConfigBuilder::max_response_bytes`](crate::ConfigBuilder::max_response_bytes)).
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The folder of the on-disk token cache, if it is on.
    pub fn token_cache_dir(&self) -> Option<&Path> {
        self.token_cache_dir.as_deref()
    }

    /// Whether the PBX is on this machine (`localhost`, `127.0.0.0/8`, `::1`): the only hosts
    /// plain `http://` is accepted for. Such a PBX is reached directly, never through a proxy
    /// from `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`: a proxy could not reach this machine's
    /// loopback anyway, and over plain http it would read the client secret in clear.
    pub fn is_loopback(&self) -> bool {
        self.root.is_loopback()
    }

    /// Whether this client keeps its token to itself instead of sharing the process-wide cache
    /// (testing only).
    pub(crate) fn isolated_token_cache(&self) -> bool {
        self.isolated_token_cache
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.root.base_url())
            .field("client_id", &self.client_id)
            .field("client_secret", &Redacted)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("ca_bundle", &self.ca_bundle)
            .field("insecure", &self.insecure)
            .field("refresh_margin", &self.refresh_margin)
            .field("expires_in_unit", &self.expires_in_unit)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("call_timeout", &self.call_timeout)
            .field("token_cache_dir", &self.token_cache_dir)
            .finish()
    }
}

/// Prints `[REDACTED]` in place of a secret.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
