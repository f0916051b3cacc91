//! Connection settings: where the PBX is, the API client's credentials, timeouts, retries, the
//! token cache and TLS.
//!
//! A [`Config`] is validated once when built, so a [`crate::Client`] never starts with settings
//! that cannot work; every validation error is an [`Error::Config`] naming the field and the fix.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::{Error, Result};

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
/// token's lifetime, see [`ConfigBuilder::refresh_margin`]).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Default number of attempts per call, the first one included (see
/// [`ConfigBuilder::max_attempts`]).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default base of the exponential backoff between attempts (see [`ConfigBuilder::backoff`]).
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Default cap of the exponential backoff between attempts (see [`ConfigBuilder::backoff`]).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Default longest `Retry-After` that is waited for (see [`ConfigBuilder::max_retry_after`]).
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Default share of successful calls that retries may add (see [`ConfigBuilder::retry_budget`]).
pub const DEFAULT_RETRY_BUDGET_RATIO: f64 = 0.2;
/// Default number of retries allowed without earlier successes (see
/// [`ConfigBuilder::retry_budget`]).
pub const DEFAULT_RETRY_BUDGET_FLOOR: u32 = 10;
/// Default wait after the first failed token request (see [`ConfigBuilder::token_backoff`]).
pub const DEFAULT_TOKEN_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Default longest wait between failed token requests (see [`ConfigBuilder::token_backoff`]).
pub const DEFAULT_TOKEN_BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);
/// Default most token requests per rolling minute once they fail (see
/// [`ConfigBuilder::token_requests_per_minute`]).
pub const DEFAULT_TOKEN_REQUESTS_PER_MINUTE: u32 = 6;
/// The default of [`ConfigBuilder::max_response_bytes`]: most bytes of a successful answer
/// held in memory (a page of JSON, a small file). Larger pages are refused with a clear error:
/// page with `$top`; large files go through [`crate::Client::download_to`].
pub const MAX_RESPONSE_BODY: usize = 128 * 1024 * 1024;
/// Longest wait for the lock of the token cache file (see [`ConfigBuilder::token_cache_dir`]):
/// another process holds it while it fetches a token, normally for well under a second. After
/// this long (or the timeout plus the connect timeout, if shorter) the call goes on with a token
/// kept in memory, and a warning is logged, so a stuck process cannot stall every call.
pub const TOKEN_CACHE_LOCK_WAIT: Duration = Duration::from_secs(5);
/// Most attempts per call that can be configured.
const MAX_ATTEMPTS_LIMIT: u32 = 10;
/// Longest duration any setting may have (timeouts, margins, backoffs): 7 days. Far beyond
/// any real use, and far enough from the limits of clocks and `Duration` arithmetic that no
/// deadline computed from a setting can overflow (`--timeout 1e19` used to crash the CLI).
pub const MAX_DURATION_SETTING: Duration = Duration::from_secs(7 * 24 * 3600);

/// The API root below the base URL.
const API_PATH: &str = "/xapi/v1";
/// The OAuth2 token endpoint below the base URL.
const TOKEN_PATH: &str = "/connect/token";

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
    base_url: String,
    api_root: String,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    timeout: Duration,
    connect_timeout: Duration,
    ca_bundle: Option<PathBuf>,
    insecure: bool,
    refresh_margin: Duration,
    expires_in_unit: ExpiresInUnit,
    user_agent: String,
    retry: RetrySettings,
    call_timeout: Duration,
    token_cache_dir: Option<PathBuf>,
    isolated_token_cache: bool,
    loopback: bool,
    max_response_bytes: usize,
}

/// The retry and backoff settings, shared by [`Config`] and [`ConfigBuilder`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct RetrySettings {
    max_attempts: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    max_retry_after: Duration,
    budget_ratio: f64,
    budget_floor: u32,
    token_backoff_base: Duration,
    token_backoff_max: Duration,
    token_requests_per_minute: u32,
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
    /// A builder with the defaults (30 s timeout, 10 s connect timeout, 60 s refresh margin,
    /// 3 attempts per call where retrying is safe, TLS verified against the built-in web roots,
    /// no token cache on disk).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Settings from `THREECX_URL`, `THREECX_CLIENT_ID` and `THREECX_CLIENT_SECRET`, with defaults
    /// for everything else. A missing or empty variable is an [`Error::Config`] naming it.
    pub fn from_env() -> Result<Config> {
        ConfigBuilder::from_env()?.build()
    }

    /// The normalised base URL, without a trailing `/`: `https://pbx.example.com:5001`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API root every request path is relative to: `<base>/xapi/v1`.
    pub fn api_root(&self) -> &str {
        &self.api_root
    }

    /// The OAuth2 token endpoint: `<base>/connect/token`.
    pub fn token_url(&self) -> &str {
        &self.token_url
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
    /// [`ConfigBuilder::max_response_bytes`]).
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
        self.loopback
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
            .field("base_url", &self.base_url)
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

/// Builder of a [`Config`]; `build` validates everything at once.
#[derive(Clone)]
pub struct ConfigBuilder {
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    timeout: Duration,
    connect_timeout: Duration,
    ca_bundle: Option<PathBuf>,
    insecure: bool,
    refresh_margin: Duration,
    expires_in_unit: ExpiresInUnit,
    user_agent: String,
    retry: RetrySettings,
    call_timeout: Option<Duration>,
    token_cache_dir: Option<PathBuf>,
    isolated_token_cache: bool,
    max_response_bytes: usize,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            base_url: None,
            client_id: None,
            client_secret: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            ca_bundle: None,
            insecure: false,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            expires_in_unit: ExpiresInUnit::Auto,
            user_agent: concat!("threecx/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetrySettings::default(),
            call_timeout: None,
            token_cache_dir: None,
            isolated_token_cache: false,
            max_response_bytes: MAX_RESPONSE_BODY,
        }
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| Redacted),
            )
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

impl ConfigBuilder {
    /// A builder with URL, client ID and secret from `THREECX_URL`, `THREECX_CLIENT_ID` and
    /// `THREECX_CLIENT_SECRET`; other settings can still be changed before `build`.
    pub fn from_env() -> Result<ConfigBuilder> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ConfigBuilder::from_env`] over any variable source (tests must not mutate the process
    /// environment: other threads read it).
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ConfigBuilder> {
        let get = |name: &'static str, what: &str| -> Result<String> {
            match lookup(name) {
                Some(v) if !v.trim().is_empty() => Ok(v),
                Some(_) => Err(Error::Config {
                    field: name,
                    message: format!("the environment variable is empty; set it to {what}"),
                }),
                None => Err(Error::Config {
                    field: name,
                    message: format!("the environment variable is not set; set it to {what}"),
                }),
            }
        };
        let url = get(ENV_URL, "the PBX URL, e.g. https://pbx.example.com")?;
        let id = get(
            ENV_CLIENT_ID,
            "the API client's ID (3CX admin console > Integrations > API)",
        )?;
        let secret = get(ENV_CLIENT_SECRET, "the API client's secret")?;
        Ok(ConfigBuilder::default()
            .base_url(url)
            .client_id(id)
            .client_secret(secret))
    }

    /// The PBX URL: `https://pbx.example.com`, `https://pbx.example.com:5001`; a trailing `/` or
    /// `/xapi/v1` is tolerated, and `https://` is assumed when no scheme is given. Plain `http://`
    /// is accepted only for loopback hosts (local simulators and tests): the secret must not
    /// cross a network unencrypted.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API client's ID.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The API client's secret.
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Time allowed for one HTTP exchange (default 30 s): one attempt, from connecting until the
    /// whole answer body is read, so a PBX that sends headers and then stalls is an
    /// [`Error::Timeout`] after this long, not a hang. The token request has the same limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// A PEM file of extra CA certificates to trust (one or several), for a PBX whose certificate
    /// comes from a private CA. The built-in web roots stay trusted.
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_bundle = Some(path.into());
        self
    }

    /// Accept any TLS certificate, i.e. no protection against a man in the middle. For tests
    /// against a PBX with a self-signed certificate only; prefer [`ConfigBuilder::ca_bundle`].
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// How long before its expiry a token is replaced (default 60 s). Never more than 10% of the
    /// token's lifetime is used, so short-lived tokens are not refreshed on every call.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// How the token answer's `expires_in` is read (default [`ExpiresInUnit::Auto`]).
    pub fn expires_in_unit(mut self, unit: ExpiresInUnit) -> Self {
        self.expires_in_unit = unit;
        self
    }

    /// The `User-Agent` header (default `threecx/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Most attempts per call, the first one included (default 3; 1 turns retries off; at most
    /// 10). Only failures that may pass are retried, and only where sending again is safe: see
    /// `RELIABILITY.md`. A POST action not marked safe to repeat is never sent a second time once
    /// it may have reached the PBX.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts;
        self
    }

    /// The exponential backoff between attempts (default 100 ms base, 5 s cap): before retry
    /// *n* (1, 2, ...) the client sleeps a random time between zero and
    /// `min(max, base × 2^(n-1))` ("full jitter", so many clients hit by one outage do not come
    /// back in lockstep). A `Retry-After` of the PBX replaces this delay.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.retry.backoff_base = base;
        self.retry.backoff_max = max;
        self
    }

    /// Longest `Retry-After` (in seconds or as an HTTP date, on a 429 or 503) that is waited for
    /// before the next attempt (default 30 s). When the PBX asks for a longer wait the call ends
    /// with its error at once, rather than retrying earlier than asked or blocking for minutes.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.retry.max_retry_after = max;
        self
    }

    /// The retry budget shared by all calls of one [`crate::Client`] and its clones (default
    /// ratio 0.2, floor 10): the budget starts with `floor` retries and holds at most that many
    /// (at least 1); every retry takes one, every successful call gives back `ratio`. So retries
    /// add at most about 20% to successful traffic plus the floor, and a PBX that is down gets
    /// one attempt per call, not `max_attempts`, once the budget is spent. `ratio` is 0 to 1.
    pub fn retry_budget(mut self, ratio: f64, floor: u32) -> Self {
        self.retry.budget_ratio = ratio;
        self.retry.budget_floor = floor;
        self
    }

    /// Backoff of the token endpoint after failed token requests (default 1 s base, 5 min cap):
    /// after *n* failures in a row no token request is sent for `min(max, base × 2^(n-1))`; calls
    /// in that time fail at once with the last error, which says when the next request will be
    /// sent. This keeps a wrong secret from tripping 3CX's anti-hacking rules, which block an IP
    /// after repeated failed logins. Requests that never reached the PBX (connection refused)
    /// do not count. `base` must be at least 1 ms.
    pub fn token_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.retry.token_backoff_base = base;
        self.retry.token_backoff_max = max;
        self
    }

    /// Most token requests per rolling minute once token requests fail (default 6; at least 1),
    /// on top of [`ConfigBuilder::token_backoff`].
    pub fn token_requests_per_minute(mut self, requests: u32) -> Self {
        self.retry.token_requests_per_minute = requests;
        self
    }

    /// Time allowed for a whole call across all attempts, token requests and backoff sleeps
    /// (default `2 × timeout × max_attempts`, i.e. 180 s with the defaults: room for a token
    /// request and a request per attempt). When it runs out the call ends with an
    /// [`Error::Timeout`]; a backoff sleep that would end after it is not started.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// Most bytes of a successful answer held in memory (default 128 MiB): a larger page is
    /// refused with [`Error::Decode`] before it is read whole (page with `$top` instead), and
    /// files of any size go through [`crate::Client::download_to`], which this does not limit.
    /// Error answers are always read only up to a 64 KiB excerpt.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes.max(1024);
        self
    }

    /// Keeps the access token in a file in `dir` as well (default: off, memory only), so that
    /// several processes using the same API client share one token instead of invalidating each
    /// other's (3CX keeps only one active token per client) and a short-lived CLI run does not
    /// log in every time.
    ///
    /// One file per API root, client ID and secret, named after a SHA-256 of them (the name and
    /// the file never contain the secret; the file holds the access token and its expiry, and
    /// the state of the token backoff). The folder is created with mode 0700 and the file with
    /// 0600; processes take an advisory lock on the file while they read it and fetch a token,
    /// and wait at most [`TOKEN_CACHE_LOCK_WAIT`] (5 s) for another process to let go of it
    /// (then the call goes on with a token in memory, and a warning is logged). A corrupt file
    /// is ignored and replaced. The folder should be private to the user, e.g.
    /// `~/.cache/threecx`: an existing folder other users can write to loses their write
    /// permission (with a warning) if it is the user's own, and is not used at all if it is
    /// another user's or a shared sticky folder like `/tmp` (the token then stays in memory).
    pub fn token_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.token_cache_dir = Some(dir.into());
        self
    }

    /// Gives the client a token cache of its own instead of the process-wide one, as if it ran
    /// in another process. For tests of the on-disk token cache only.
    #[doc(hidden)]
    pub fn isolated_token_cache(mut self, isolated: bool) -> Self {
        self.isolated_token_cache = isolated;
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<Config> {
        use secrecy::ExposeSecret;

        let raw_url = self.base_url.ok_or_else(|| Error::Config {
            field: "base_url",
            message: "not set; give the PBX URL, e.g. https://pbx.example.com or \
                      https://pbx.example.com:5001"
                .to_owned(),
        })?;
        let (base_url, loopback) = normalize_base_url(&raw_url)?;

        let client_id = self.client_id.unwrap_or_default().trim().to_owned();
        if client_id.is_empty() {
            return Err(Error::Config {
                field: "client_id",
                message: "not set; give the API client's ID (3CX admin console > Integrations > \
                          API)"
                    .to_owned(),
            });
        }
        let client_secret = match self.client_secret {
            Some(s) if !s.expose_secret().is_empty() => s,
            _ => {
                return Err(Error::Config {
                    field: "client_secret",
                    message: "not set; give the API client's secret (shown once when the API \
                              client is created in the 3CX admin console)"
                        .to_owned(),
                })
            }
        };
        if self.timeout.is_zero() {
            return Err(Error::Config {
                field: "timeout",
                message: "must be more than zero, e.g. 30 s".to_owned(),
            });
        }
        let retry = self.retry;
        for (field, value) in [
            ("timeout", Some(self.timeout)),
            ("connect_timeout", Some(self.connect_timeout)),
            ("call_timeout", self.call_timeout),
            ("refresh_margin", Some(self.refresh_margin)),
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
        if self.connect_timeout.is_zero() {
            return Err(Error::Config {
                field: "connect_timeout",
                message: "must be more than zero, e.g. 10 s".to_owned(),
            });
        }
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
                message: "the base must be at least 1 ms and the cap at least the base, e.g. \
                          base 1 s, cap 5 min (3CX blocks IPs that fail to log in repeatedly)"
                    .to_owned(),
            });
        }
        if retry.token_requests_per_minute == 0 {
            return Err(Error::Config {
                field: "token_requests_per_minute",
                message: "must be at least 1, e.g. 6".to_owned(),
            });
        }
        let call_timeout = self
            .call_timeout
            .unwrap_or_else(|| self.timeout.saturating_mul(2 * retry.max_attempts));
        if call_timeout.is_zero() {
            return Err(Error::Config {
                field: "call_timeout",
                message: "must be more than zero, e.g. 120 s".to_owned(),
            });
        }
        if let Some(dir) = &self.token_cache_dir {
            if dir.as_os_str().is_empty() {
                return Err(Error::Config {
                    field: "token_cache_dir",
                    message: "the path is empty; give a folder private to the user, e.g. \
                              ~/.cache/threecx"
                        .to_owned(),
                });
            }
        }
        if let Some(path) = &self.ca_bundle {
            if path.as_os_str().is_empty() {
                return Err(Error::Config {
                    field: "ca_bundle",
                    message: "the path is empty; give the path of a PEM file of CA certificates"
                        .to_owned(),
                });
            }
        }
        if self.user_agent.trim().is_empty()
            || reqwest::header::HeaderValue::from_str(&self.user_agent).is_err()
        {
            return Err(Error::Config {
                field: "user_agent",
                message: "must be non-empty visible ASCII, e.g. threecx/0.1".to_owned(),
            });
        }

        Ok(Config {
            api_root: format!("{base_url}{API_PATH}"),
            token_url: format!("{base_url}{TOKEN_PATH}"),
            base_url,
            client_id,
            client_secret,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            ca_bundle: self.ca_bundle,
            insecure: self.insecure,
            refresh_margin: self.refresh_margin,
            expires_in_unit: self.expires_in_unit,
            user_agent: self.user_agent,
            retry,
            call_timeout,
            max_response_bytes: self.max_response_bytes,
            token_cache_dir: self.token_cache_dir,
            isolated_token_cache: self.isolated_token_cache,
            loopback,
        })
    }
}

/// `https://pbx:5001/xapi/v1/` → `https://pbx:5001`, and whether the host is loopback. A path
/// prefix other than `/xapi/v1` is kept (a reverse proxy may mount the PBX below one).
fn normalize_base_url(raw: &str) -> Result<(String, bool)> {
    let bad = |message: String| Error::Config {
        field: "base_url",
        message,
    };
    let trimmed = raw.trim();
    // Never echo a URL that may carry credentials (`https://user:pw@host`).
    let shown = if trimmed.contains('@') {
        "the URL"
    } else {
        trimmed
    };
    if trimmed.is_empty() {
        return Err(bad(
            "empty; give the PBX URL, e.g. https://pbx.example.com".to_owned()
        ));
    }
    // `pbx.example.com:5001` would otherwise parse as scheme `pbx.example.com`.
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        bad(format!(
            "\"{shown}\" is not a URL ({e}); give e.g. https://pbx.example.com"
        ))
    })?;
    let host = match url.host() {
        Some(h) => h,
        None => return Err(bad(format!("\"{shown}\" has no host name"))),
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(bad(format!(
                "\"{shown}\" uses plain http, which would send the client secret unencrypted; \
                 use https:// (3CX serves the API over HTTPS only)"
            )))
        }
        other => return Err(bad(format!("unsupported scheme \"{other}\"; use https://"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not contain a user name or password; give the API client's ID and secret \
             separately"
                .to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(format!(
            "\"{shown}\" must not have a query or fragment; give e.g. https://pbx.example.com"
        )));
    }

    let mut path = url.path().trim_end_matches('/').to_owned();
    if let Some(prefix) = path.strip_suffix(API_PATH) {
        path = prefix.trim_end_matches('/').to_owned();
    }
    // `Url` drops the default port (443 for https), so the normalised form is canonical.
    let mut base = format!("{}://{}", url.scheme(), host_for_url(&host));
    if let Some(port) = url.port() {
        base.push_str(&format!(":{port}"));
    }
    base.push_str(&path);
    Ok((base, is_loopback(&host)))
}

fn host_for_url(host: &url::Host<&str>) -> String {
    match host {
        url::Host::Domain(d) => (*d).to_owned(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn config(url: &str) -> Result<Config> {
        Config::builder()
            .base_url(url)
            .client_id("id")
            .client_secret("s3cr3t-XYZ")
            .build()
    }

    #[test]
    fn base_url_forms_normalise() {
        for (input, base) in [
            ("https://pbx.example.com", "https://pbx.example.com"),
            ("https://pbx.example.com/", "https://pbx.example.com"),
            ("https://pbx.example.com/xapi/v1", "https://pbx.example.com"),
            (
                "https://pbx.example.com/xapi/v1/",
                "https://pbx.example.com",
            ),
            ("https://pbx:5001", "https://pbx:5001"),
            ("https://pbx:5001/xapi/v1", "https://pbx:5001"),
            ("https://PBX.Example.com:443/", "https://pbx.example.com"),
            ("pbx.example.com:5001", "https://pbx.example.com:5001"),
            ("  https://pbx.example.com  ", "https://pbx.example.com"),
            (
                "https://proxy.example.com/3cx/",
                "https://proxy.example.com/3cx",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:8080/xapi/v1", "http://localhost:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            let c = config(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(c.base_url(), base, "{input}");
            let loopback = ["127.0.0.1", "localhost", "[::1]"]
                .iter()
                .any(|h| base.contains(h));
            assert_eq!(c.is_loopback(), loopback, "{input}");
        }
        let c = config("https://pbx:5001/").unwrap();
        assert_eq!(c.api_root(), "https://pbx:5001/xapi/v1");
        assert_eq!(c.token_url(), "https://pbx:5001/connect/token");
    }

    #[test]
    fn bad_urls_name_the_field() {
        for input in [
            "",
            "http://pbx.example.com",
            "ftp://pbx.example.com",
            "https://user:pw@pbx.example.com",
            "https://pbx.example.com/?x=1",
            "https://",
        ] {
            match config(input) {
                Err(Error::Config { field, message }) => {
                    assert_eq!(field, "base_url", "{input}");
                    assert!(!message.is_empty());
                }
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_values_are_config_errors() {
        let e = Config::builder().build().unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: "base_url",
                    ..
                }
            ),
            "{e}"
        );
        let e = Config::builder()
            .base_url("https://pbx")
            .client_secret("x")
            .build()
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: "client_id",
                    ..
                }
            ),
            "{e}"
        );
        let e = Config::builder()
            .base_url("https://pbx")
            .client_id("id")
            .client_secret("")
            .build()
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: "client_secret",
                    ..
                }
            ),
            "{e}"
        );
        let e = Config::builder()
            .base_url("https://pbx")
            .client_id("id")
            .client_secret("x")
            .timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: "timeout",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn defaults() {
        let c = config("https://pbx").unwrap();
        assert_eq!(c.timeout(), Duration::from_secs(30));
        assert_eq!(c.connect_timeout(), Duration::from_secs(10));
        assert_eq!(c.refresh_margin(), Duration::from_secs(60));
        assert_eq!(c.expires_in_unit(), ExpiresInUnit::Auto);
        assert!(!c.insecure());
        assert!(c.ca_bundle().is_none());
        assert!(c.user_agent().starts_with("threecx/"));
        assert_eq!(c.client_secret().expose_secret(), "s3cr3t-XYZ");
        assert_eq!(c.max_attempts(), 3);
        assert_eq!(c.backoff_base(), Duration::from_millis(100));
        assert_eq!(c.backoff_max(), Duration::from_secs(5));
        assert_eq!(c.max_retry_after(), Duration::from_secs(30));
        assert_eq!(c.retry_budget_ratio(), 0.2);
        assert_eq!(c.retry_budget_floor(), 10);
        assert_eq!(c.token_backoff_base(), Duration::from_secs(1));
        assert_eq!(c.token_backoff_max(), Duration::from_secs(300));
        assert_eq!(c.token_requests_per_minute(), 6);
        // 2 × timeout × attempts.
        assert_eq!(c.call_timeout(), Duration::from_secs(180));
        assert!(c.token_cache_dir().is_none());
        assert!(!c.isolated_token_cache());
    }

    #[test]
    fn call_timeout_follows_timeout_and_attempts_unless_set() {
        let b = Config::builder()
            .base_url("https://pbx")
            .client_id("id")
            .client_secret("x");
        let c = b
            .clone()
            .timeout(Duration::from_secs(10))
            .max_attempts(2)
            .build()
            .unwrap();
        assert_eq!(c.call_timeout(), Duration::from_secs(40));
        let c = b
            .clone()
            .call_timeout(Duration::from_secs(7))
            .build()
            .unwrap();
        assert_eq!(c.call_timeout(), Duration::from_secs(7));
    }

    #[test]
    fn bad_retry_settings_name_the_field() {
        let b = Config::builder()
            .base_url("https://pbx")
            .client_id("id")
            .client_secret("x");
        let field = |b: ConfigBuilder| match b.build() {
            Err(Error::Config { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(b.clone().max_attempts(0)), "max_attempts");
        assert_eq!(field(b.clone().max_attempts(11)), "max_attempts");
        assert_eq!(
            field(
                b.clone()
                    .backoff(Duration::from_secs(2), Duration::from_secs(1))
            ),
            "backoff"
        );
        assert_eq!(field(b.clone().retry_budget(1.5, 10)), "retry_budget");
        assert_eq!(field(b.clone().retry_budget(f64::NAN, 10)), "retry_budget");
        assert_eq!(
            field(
                b.clone()
                    .token_backoff(Duration::ZERO, Duration::from_secs(1))
            ),
            "token_backoff"
        );
        assert_eq!(
            field(b.clone().token_requests_per_minute(0)),
            "token_requests_per_minute"
        );
        assert_eq!(
            field(b.clone().call_timeout(Duration::ZERO)),
            "call_timeout"
        );
        assert_eq!(field(b.clone().token_cache_dir("")), "token_cache_dir");
        // Durations beyond any use: refused, not left to overflow a deadline later.
        let huge = Duration::from_secs(u64::MAX);
        let week = MAX_DURATION_SETTING;
        assert_eq!(field(b.clone().timeout(huge)), "timeout");
        assert_eq!(
            field(
                b.clone()
                    .timeout(Duration::from_secs(10_000_000_000_000_000_000))
            ),
            "timeout"
        );
        assert_eq!(field(b.clone().connect_timeout(huge)), "connect_timeout");
        assert_eq!(field(b.clone().call_timeout(huge)), "call_timeout");
        assert_eq!(field(b.clone().refresh_margin(huge)), "refresh_margin");
        assert_eq!(field(b.clone().backoff(week, huge)), "backoff");
        assert_eq!(field(b.clone().max_retry_after(huge)), "max_retry_after");
        assert_eq!(field(b.clone().token_backoff(week, huge)), "token_backoff");
        let c = b
            .clone()
            .timeout(week)
            .connect_timeout(week)
            .max_attempts(10)
            .build()
            .unwrap();
        // The default call timeout grows with them, without overflowing.
        assert_eq!(c.call_timeout(), week * 20);
        assert!(b.max_attempts(1).build().is_ok());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = config("https://pbx").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t-XYZ"), "{dbg}");
        assert!(dbg.contains("[REDACTED]"), "{dbg}");
        let b = Config::builder().client_secret("s3cr3t-XYZ");
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("s3cr3t-XYZ"), "{dbg}");
    }

    #[test]
    fn env_lookup_names_the_missing_variable() {
        fn vars(
            url: Option<&'static str>,
            id: Option<&'static str>,
            secret: Option<&'static str>,
        ) -> impl Fn(&str) -> Option<String> {
            move |name: &str| match name {
                ENV_URL => url.map(str::to_owned),
                ENV_CLIENT_ID => id.map(str::to_owned),
                ENV_CLIENT_SECRET => secret.map(str::to_owned),
                _ => None,
            }
        }
        let e = ConfigBuilder::from_lookup(vars(None, Some("id"), Some("s"))).unwrap_err();
        assert!(matches!(e, Error::Config { field: ENV_URL, .. }), "{e}");
        assert!(e.to_string().contains("THREECX_URL"), "{e}");
        let e = ConfigBuilder::from_lookup(vars(Some("https://pbx"), None, Some("s"))).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: ENV_CLIENT_ID,
                    ..
                }
            ),
            "{e}"
        );
        let e = ConfigBuilder::from_lookup(vars(Some("https://pbx"), Some("id"), Some("")))
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    field: ENV_CLIENT_SECRET,
                    ..
                }
            ),
            "{e}"
        );
        let c = ConfigBuilder::from_lookup(vars(Some("https://pbx/"), Some("id"), Some("s")))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.api_root(), "https://pbx/xapi/v1");
        assert_eq!(c.client_id(), "id");
    }
}
