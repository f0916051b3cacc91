//! [`ConfigBuilder`]: the settings as given, with their documentation, and `build`, which
//! checks them all at once (the checks are in `checks.rs`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::api_root::ApiRoot;
use crate::config::checks;
use crate::config::settings::{
    Config, ExpiresInUnit, Redacted, RetrySettings, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_REFRESH_MARGIN, DEFAULT_TIMEOUT, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_URL,
    MAX_RESPONSE_BODY,
};
use crate::error::{Error, Result};

// Here rather than in settings.rs, so that the settings do not depend on their builder.
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
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ConfigBuilder> {
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
    /// and wait at most [`TOKEN_CACHE_LOCK_WAIT`](crate::config::TOKEN_CACHE_LOCK_WAIT) (5 s) for another process to let go of it
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
        let raw_url = self.base_url.as_deref().ok_or_else(|| Error::Config {
            field: "base_url",
            message: "not set; give the PBX URL, e.g. https://pbx.example.com or \
                      https://pbx.example.com:5001"
                .to_owned(),
        })?;
        let root = ApiRoot::parse(raw_url)?;
        let (client_id, client_secret) = checks::credentials(self.client_id, self.client_secret)?;
        let retry = self.retry;
        checks::durations(
            self.timeout,
            self.connect_timeout,
            self.call_timeout,
            self.refresh_margin,
            &retry,
        )?;
        checks::retries(&retry)?;
        let call_timeout =
            checks::call_timeout(self.call_timeout, self.timeout, retry.max_attempts)?;
        checks::paths(self.token_cache_dir.as_deref(), self.ca_bundle.as_deref())?;
        checks::user_agent(&self.user_agent)?;

        Ok(Config {
            root,
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
        })
    }
}
