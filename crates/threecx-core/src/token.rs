//! OAuth2 client-credentials tokens for 3CX: one cache per (API root, client ID) per process,
//! one fetch in flight at a time, a backoff after failed token requests, and optionally a file
//! shared with other processes.
//!
//! 3CX keeps only ONE active token per API client: fetching a second one can invalidate the
//! first. So every [`crate::Client`] with the same PBX and client ID shares one cache (a second
//! Client must not knock out the first one's token), concurrent callers wait for the fetch in
//! flight instead of starting their own, a failed fetch is reported to everyone who waited for it
//! (instead of each waiter trying again: 3CX blacklists IPs that fail auth repeatedly), and a
//! token is replaced only shortly before it expires or when the PBX rejects it.
//!
//! After a failed token request that reached the PBX, the next one waits `token_backoff_base`,
//! doubling with each further failure up to `token_backoff_max`, and at most
//! `token_requests_per_minute` are sent per rolling minute; calls meanwhile fail at once with the
//! last error, saying when the next request goes out. With `token_cache_dir` set, the token and
//! that backoff live in a locked file too (see [`crate::token_file`]), so processes share them.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::header::{HeaderValue, ACCEPT};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::config::{Config, ExpiresInUnit, Redacted, TOKEN_CACHE_LOCK_WAIT};
use crate::error::{ApiErrorDetail, Error};
use crate::token_file::{self, LockedFile, Record, StoredError, StoredFailures, StoredToken};
use crate::wire::{excerpt, map_send_error, parse_error_body, redact, Phase, Reach, SendError};

/// Lifetime assumed when the answer gives neither a JWT `exp` nor a usable `expires_in`: short,
/// so a wrong guess costs little (a 401 also triggers one refresh).
const FALLBACK_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Longest lifetime believed, whatever the token answer (or the token file) says: a day. 3CX
/// tokens live an hour; an `expires_in` of `u64::MAX` or a JWT `exp` in the year 292277026596
/// is read as this, so no deadline computed from it can overflow, and a token that does expire
/// earlier is replaced after the PBX rejects it (one refresh, see `Client::execute`).
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Shortest lifetime believed: 30 s, half the shortest any 3CX version issues (`expires_in: 1`
/// in minutes). A token answer claiming less would otherwise have every call fetch a token
/// (and 3CX keeps one token per client, so each fetch invalidates the last one).
pub(crate) const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(30);

/// What [`ExpiresInUnit::Auto`] still reads as minutes: 3CX before 20.0.9 sent `60`.
const AUTO_MINUTES_MAX: u64 = 60;

/// Most bytes of a token endpoint's answer read: 64 KiB. A token answer is about 1-2 KiB (the
/// token has to fit in an `Authorization` header, which servers cap at 8-16 KiB); an error
/// answer is read up to this for its excerpt, the rest is not waited for.
const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

/// The window of [`Config::token_requests_per_minute`].
const MINUTE_MS: u64 = 60_000;

/// An access token and when to stop using it.
pub(crate) struct Token {
    value: SecretString,
    /// Replace the token from this moment on (expiry minus the refresh margin).
    refresh_at: Instant,
    /// The token's expiry: still usable up to here if a replacement cannot be had.
    expires_at: Instant,
    /// Unique within the process: identifies the token when invalidating it.
    id: u64,
    /// `Bearer <token>`, built once rather than for every request (a 3CX token is ~1 KB).
    authorization: HeaderValue,
}

impl Token {
    fn new(value: SecretString, refresh_at: Instant, expires_at: Instant, id: u64) -> Token {
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", value.expose_secret()))
            .expect("checked to be visible ASCII when fetched or read");
        // Marked sensitive so HTTP-level debug output hides it.
        authorization.set_sensitive(true);
        Token {
            value,
            refresh_at,
            expires_at,
            id,
            authorization,
        }
    }

    /// The `Authorization` header value (sensitive: hidden from HTTP-level debug output).
    pub(crate) fn authorization(&self) -> HeaderValue {
        self.authorization.clone()
    }

    /// The raw token, to scrub it from any text that could be shown.
    pub(crate) fn secret(&self) -> &str {
        self.value.expose_secret()
    }

    fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &Redacted)
            .field(
                "refresh_in",
                &self.refresh_at.saturating_duration_since(Instant::now()),
            )
            .finish()
    }
}

/// The token of one (API root, client ID), shared by all Clients using them.
pub(crate) struct TokenCache {
    /// The secret the cache was created for: a Client with another secret gets its own cache
    /// rather than riding on a token it could not have obtained.
    secret: SecretString,
    /// Fast path: read without waiting on a fetch in flight.
    current: RwLock<Option<Arc<Token>>>,
    /// Held for the whole fetch: the single flight.
    refresh: tokio::sync::Mutex<RefreshState>,
    /// Token requests sent (successful or not).
    fetches: AtomicU64,
    /// Token requests finished; numbers them for `RefreshState::last_failure`.
    completed: AtomicU64,
    /// The last token the PBX rejected: never taken from the token file again.
    rejected: Mutex<Option<SecretString>>,
}

#[derive(Default)]
struct RefreshState {
    /// The last fetch, if it failed.
    last_failure: Option<Failure>,
    /// Pace of the token requests after failures.
    backoff: Backoff,
}

struct Failure {
    /// Its number in `TokenCache::completed`.
    completion: u64,
    error: SendError,
}

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
    fn record_failure(&mut self, now_ms: u64) {
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

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

static NEXT_TOKEN_ID: AtomicU64 = AtomicU64::new(1);

type CacheKey = (String, String);

/// Kept for the process lifetime: a Client created later for the same PBX and client ID reuses
/// the token instead of fetching (and so invalidating) another one.
static CACHES: OnceLock<Mutex<HashMap<CacheKey, Arc<TokenCache>>>> = OnceLock::new();

/// The process-wide cache for `config`'s API root and client ID.
pub(crate) fn shared_cache(config: &Config) -> Arc<TokenCache> {
    let map = CACHES.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (config.api_root().to_owned(), config.client_id().to_owned());
    if let Some(cache) = map.get(&key) {
        if cache.secret.expose_secret() == config.client_secret().expose_secret() {
            return Arc::clone(cache);
        }
    }
    let cache = Arc::new(TokenCache::new(config.client_secret().clone()));
    map.insert(key, Arc::clone(&cache));
    cache
}

impl TokenCache {
    pub(crate) fn new(secret: SecretString) -> Self {
        TokenCache {
            secret,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
            fetches: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            rejected: Mutex::new(None),
        }
    }

    /// How many token requests this cache has sent.
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Acquire)
    }

    fn fresh(&self) -> Option<Arc<Token>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|t| t.is_fresh(Instant::now()))
            .cloned()
    }

    /// The current token if it has not expired yet (it may be past its refresh time).
    fn unexpired(&self) -> Option<Arc<Token>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|t| Instant::now() < t.expires_at)
            .cloned()
    }

    fn set_current(&self, token: &Arc<Token>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(token));
    }

    /// A usable token: the cached one, one another process left in the token file, or a new one
    /// fetched once for all concurrent callers.
    ///
    /// When a fetch fails, everyone who waited for it gets its error, and so does everyone who
    /// asks during the token backoff (with a note saying when the next request goes out); the
    /// old token is still handed out while it has not expired (a token past its refresh time is
    /// usually still good).
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        config: &Config,
    ) -> std::result::Result<Arc<Token>, SendError> {
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        // Read before queueing: a fetch that completes after this point finished while we
        // waited, so its outcome answers us too.
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.refresh.lock().await;
        // Callers that waited find the token fetched meanwhile. They do not keep using an old
        // token near expiry while the new one is fetched: the fetch invalidates it on 3CX.
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        if let Some(failure) = &state.last_failure {
            if failure.completion > seen {
                return self.unexpired().ok_or_else(|| failure.error.clone());
            }
        }

        // Another process may have fetched a token (or failed to) meanwhile.
        let mut file = open_file(config).await;
        let mut stored_error = None;
        if let Some(record) = file.as_mut().and_then(LockedFile::read) {
            if let Some(token) = record.token.as_ref().and_then(|t| self.usable(t, config)) {
                tracing::debug!("using the access token of the token cache file");
                self.set_current(&token);
                state.last_failure = None;
                state.backoff = Backoff::default();
                return Ok(token);
            }
            if let Some(failures) = record.failures {
                let now_ms = unix_ms();
                let future = failures.backoff.has_future_times(now_ms);
                let stored = failures.backoff.sanitized(now_ms);
                if future {
                    // Written back as now, or every later read would count "now" afresh and
                    // the backoff would never end.
                    tracing::warn!(
                        "the token cache file recorded failed token requests in the future; \
                         counting them as now"
                    );
                    if let Some(file) = &mut file {
                        save(
                            file,
                            &Record {
                                version: 1,
                                token: record.token.clone(),
                                failures: Some(StoredFailures {
                                    backoff: stored.clone(),
                                    error: failures.error.clone(),
                                }),
                            },
                        );
                    }
                }
                if stored.last_ms > state.backoff.last_ms {
                    state.backoff = stored;
                    stored_error = Some(failures.error);
                }
            }
        }

        let now_ms = unix_ms();
        if let Some(at) = state.backoff.next_allowed_ms(config, now_ms) {
            if at > now_ms {
                if let Some(old) = self.unexpired() {
                    return Ok(old);
                }
                let last = match (&stored_error, &state.last_failure) {
                    (Some(stored), _) => from_stored(stored),
                    (None, Some(failure)) => failure.error.error.clone(),
                    (None, None) => Error::Auth {
                        status: None,
                        message: "earlier token requests failed".to_owned(),
                    },
                };
                let wait = Duration::from_millis(at - now_ms);
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    failures = state.backoff.consecutive,
                    "token endpoint backoff: not sending a token request"
                );
                return Err(backing_off(last, wait, state.backoff.consecutive).into());
            }
        }

        self.fetches.fetch_add(1, Ordering::AcqRel);
        let started = Instant::now();
        let started_ms = unix_ms();
        let result = fetch_token(http, config).await;
        let completion = self.completed.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(fetched) => {
                // Clamped by `token_lifetime` already; clamped again here so that nothing below
                // can overflow whatever a future change does there.
                let lifetime = fetched.lifetime.min(MAX_TOKEN_LIFETIME);
                let margin = refresh_margin(lifetime, config.refresh_margin());
                let lifetime_ms = lifetime.as_millis() as u64;
                let stored = StoredToken {
                    access_token: fetched.value.expose_secret().to_owned(),
                    expires_at_ms: started_ms.saturating_add(lifetime_ms),
                    lifetime_ms,
                };
                let token = Arc::new(Token::new(
                    fetched.value,
                    after(started, lifetime.saturating_sub(margin)),
                    after(started, lifetime),
                    NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
                ));
                tracing::debug!(
                    lifetime_s = lifetime.as_secs(),
                    refresh_margin_s = margin.as_secs(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "fetched an access token"
                );
                self.set_current(&token);
                state.last_failure = None;
                state.backoff = Backoff::default();
                if let Some(file) = &mut file {
                    save(
                        file,
                        &Record {
                            version: 1,
                            token: Some(stored),
                            failures: None,
                        },
                    );
                }
                Ok(token)
            }
            Err(e) => {
                tracing::debug!(error = %e.error, "token request failed");
                // A request that never reached the PBX is no failed login: no backoff for it
                // (the retry loop of the call decides whether to try again).
                if e.reach == Reach::MaybeSent {
                    let now_ms = unix_ms();
                    state.backoff = std::mem::take(&mut state.backoff).sanitized(now_ms);
                    state.backoff.record_failure(now_ms);
                    if let Some(file) = &mut file {
                        save(
                            file,
                            &Record {
                                version: 1,
                                token: None,
                                failures: Some(StoredFailures {
                                    backoff: state.backoff.clone(),
                                    error: to_stored(&e.error),
                                }),
                            },
                        );
                    }
                }
                state.last_failure = Some(Failure {
                    completion,
                    error: e.clone(),
                });
                match self.unexpired() {
                    Some(old) => {
                        tracing::debug!("using the current token until it expires");
                        Ok(old)
                    }
                    None => Err(e),
                }
            }
        }
    }

    /// The token of the file if it is fresh and not the one the PBX just rejected.
    fn usable(&self, stored: &StoredToken, config: &Config) -> Option<Arc<Token>> {
        let rejected = self.rejected.lock().unwrap_or_else(PoisonError::into_inner);
        if rejected
            .as_ref()
            .is_some_and(|r| r.expose_secret() == stored.access_token)
        {
            return None;
        }
        if stored.access_token.is_empty()
            || !stored.access_token.bytes().all(|b| b.is_ascii_graphic())
        {
            return None;
        }
        // The file is only as trustworthy as its folder: no expiry further away than a token
        // can live.
        let remaining = Duration::from_millis(stored.expires_at_ms.checked_sub(unix_ms())?)
            .min(MAX_TOKEN_LIFETIME);
        let lifetime = Duration::from_millis(stored.lifetime_ms).min(MAX_TOKEN_LIFETIME);
        let margin = refresh_margin(lifetime, config.refresh_margin());
        if remaining <= margin {
            return None;
        }
        let now = Instant::now();
        Some(Arc::new(Token::new(
            SecretString::from(stored.access_token.clone()),
            after(now, remaining - margin),
            after(now, remaining),
            NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
        )))
    }

    /// Forgets `token` after the PBX rejected it, unless another task already replaced it (then
    /// the replacement is kept: dropping it would cost a needless fetch that invalidates it).
    /// The token file is read again before the next fetch: another process may have replaced
    /// the token there.
    pub(crate) fn invalidate(&self, token: &Token) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|t| t.id == token.id) {
            *current = None;
        }
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.value.clone());
    }
}

/// The token file of `config`, locked; `None` when the disk cache is off or cannot be used
/// (then the token stays in memory only, as without the option).
async fn open_file(config: &Config) -> Option<LockedFile> {
    let dir = config.token_cache_dir()?;
    let name = token_file::file_name(config);
    // Another process holds the lock while it fetches a token, usually well under a second. A
    // process stuck while holding it must not stall every call: after this long the call goes
    // on with a token of its own in memory (which may cost the other process its token, as
    // without a cache file).
    let wait = TOKEN_CACHE_LOCK_WAIT.min(config.timeout().saturating_add(config.connect_timeout()));
    match LockedFile::open(dir, &name, wait).await {
        Ok(file) => Some(file),
        Err(e) => {
            tracing::warn!(
                dir = %dir.display(),
                error = %e,
                "cannot use the token cache file; keeping the token in memory only"
            );
            None
        }
    }
}

fn save(file: &mut LockedFile, record: &Record) {
    if let Err(e) = file.write(record) {
        tracing::warn!(
            file = %file.path().display(),
            error = %e,
            "cannot write the token cache file"
        );
    }
}

/// `error` with a note that the token endpoint is backing off and when it will be asked again.
/// A timeout becomes a network error, the one kind without a message to carry the note.
fn backing_off(error: Error, wait: Duration, failures: u32) -> Error {
    let note = format!(
        " [backing off after {failures} failed token request{}: the next one will be sent in \
         {:.1} s; until then calls fail at once, so that 3CX's anti-hacking rules do not block \
         this IP]",
        if failures == 1 { "" } else { "s" },
        wait.as_secs_f64()
    );
    match error {
        Error::Auth { status, message } => Error::Auth {
            status,
            message: message + &note,
        },
        Error::Api {
            status,
            method,
            path,
            code,
            message,
            details,
        } => Error::Api {
            status,
            method,
            path,
            code,
            message: message + &note,
            details,
        },
        Error::Transport {
            during,
            message,
            maybe_sent,
        } => Error::Transport {
            during,
            message: message + &note,
            maybe_sent,
        },
        Error::Decode { what, message } => Error::Decode {
            what,
            message: message + &note,
        },
        Error::Timeout { after, .. } => Error::Transport {
            during: Phase::Token.text(),
            message: format!("timed out after {after:?}{note}"),
            maybe_sent: true,
        },
        other => other,
    }
}

/// A token endpoint error as kept in the token file.
fn to_stored(error: &Error) -> StoredError {
    let (kind, status, message) = match error {
        Error::Auth { status, message } => ("auth", *status, message.clone()),
        Error::Api {
            status, message, ..
        } => ("api", Some(*status), message.clone()),
        Error::Decode { message, .. } => ("decode", None, message.clone()),
        Error::Transport { message, .. } => ("network", None, message.clone()),
        Error::Timeout { after, .. } => ("network", None, format!("timed out after {after:?}")),
        other => ("network", None, other.to_string()),
    };
    StoredError {
        kind: kind.to_owned(),
        status,
        message,
    }
}

/// The error another process recorded in the token file.
fn from_stored(stored: &StoredError) -> Error {
    let message = stored.message.clone();
    match (stored.kind.as_str(), stored.status) {
        ("auth", status) => Error::Auth { status, message },
        ("api", Some(status)) => Error::Api {
            status,
            method: "POST",
            path: "/connect/token".to_owned(),
            code: String::new(),
            message,
            details: vec![],
        },
        ("decode", _) => Error::Decode {
            what: "the token answer of /connect/token".to_owned(),
            message,
        },
        _ => Error::Transport {
            during: Phase::Token.text(),
            message,
            maybe_sent: true,
        },
    }
}

/// `at + d`, or `at` itself in the (clamped-away) case that it would overflow: a token then
/// counts as due for replacement rather than crashing the process.
fn after(at: Instant, d: Duration) -> Instant {
    at.checked_add(d).unwrap_or(at)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct Fetched {
    value: SecretString,
    lifetime: Duration,
}

/// `POST /connect/token` with the client credentials, form-encoded.
async fn fetch_token(
    http: &reqwest::Client,
    config: &Config,
) -> std::result::Result<Fetched, SendError> {
    let secret = config.client_secret().expose_secret();
    let form = [
        ("client_id", config.client_id()),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
    ];
    let started = Instant::now();
    let mut response = http
        .post(config.token_url())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| map_send_error(e, config, Phase::Token))?;
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read up to the cap only: what lies beyond is not a token answer (nor an error worth
    // reading), and a runaway answer must not take the process's memory or the whole timeout.
    let mut body = Vec::new();
    let mut oversized = response
        .content_length()
        .is_some_and(|n| n > MAX_TOKEN_ANSWER_BYTES as u64);
    while !oversized {
        let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| map_send_error(e, config, Phase::Token))?
        else {
            break;
        };
        let room = MAX_TOKEN_ANSWER_BYTES - body.len();
        oversized = chunk.len() > room;
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    drop(response);
    tracing::debug!(
        method = "POST",
        path = "/connect/token",
        status = status.as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "token endpoint answered"
    );

    if !status.is_success() {
        return Err(
            token_endpoint_error(status.as_u16(), &body, location.as_deref(), secret).into(),
        );
    }

    let decode = |message: &str| {
        SendError::new(Error::Decode {
            what: "the token answer of /connect/token".to_owned(),
            message: message.to_owned(),
        })
    };
    if oversized {
        return Err(decode(
            "the answer is larger than 64 KiB, which no token answer is (the token must fit in \
             an HTTP header); check that the URL points to a 3CX V20 PBX",
        ));
    }
    // Parsed to a Value first: serde's type errors quote the offending value, which here could
    // be the token itself, so only syntax errors (which quote nothing) are passed on.
    let json: Value = serde_json::from_slice(&body).map_err(|e| {
        decode(&format!(
            "not JSON ({e}); check that the URL points to a 3CX V20 PBX"
        ))
    })?;
    let value = match json.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(decode(
                "no access_token in the answer; check that the URL points to a 3CX V20 PBX",
            ))
        }
    };
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(decode(
            "the access_token contains characters not allowed in an HTTP header",
        ));
    }
    let lifetime = token_lifetime(
        &value,
        json.get("expires_in"),
        config.expires_in_unit(),
        unix_now(),
    );
    Ok(Fetched {
        value: SecretString::from(value),
        lifetime,
    })
}

/// What is said instead of a token endpoint's text that quotes the request.
const WITHHELD: &str = "its answer quotes the token request, client secret included, so it is \
                        not shown";

/// How much of a token endpoint's error answer is searched for an echo of the secret: more
/// than any excerpt shows (an excerpt may end inside the secret).
const ECHO_SCAN_BYTES: usize = 64 * 1024;

/// The error for a non-2xx answer of the token endpoint. None of the server's text is passed
/// on that holds the secret in any form (see [`echoes_secret`]): a literal occurrence in an
/// otherwise clean text is replaced by `[REDACTED]`; a text with an encoded one (the server
/// echoing the form body, say) is withheld as a whole, keeping only a clean OAuth `error` code.
fn token_endpoint_error(status: u16, body: &[u8], location: Option<&str>, secret: &str) -> Error {
    let parsed = parse_error_body(body);
    let head = String::from_utf8_lossy(&body[..body.len().min(ECHO_SCAN_BYTES)]);
    // An encoded echo anywhere in the answer taints all of it: an excerpt may show part of it.
    let tainted = echoes_secret(&redact(&head, secret), secret);
    // `None`: the text must not be shown.
    let clean = |text: &str| -> Option<String> {
        let redacted = redact(text, secret);
        (!tainted && !echoes_secret(&redacted, secret)).then_some(redacted)
    };
    let server = clean(&parsed.message);
    // A short OAuth code (`invalid_client`) is kept when it does not hold the secret itself.
    let code = {
        let c = redact(&parsed.code, secret);
        if c == parsed.code && !echoes_secret(&c, secret) {
            c
        } else {
            String::new()
        }
    };
    let withheld = || {
        if code.is_empty() {
            WITHHELD.to_owned()
        } else {
            format!("{code}; {WITHHELD}")
        }
    };
    match status {
        400 | 401 | 403 => Error::Auth {
            status: Some(status),
            message: match server {
                Some(s) if s.is_empty() => {
                    "the token endpoint refused the client credentials".to_owned()
                }
                Some(s) => format!("the token endpoint refused the client credentials ({s})"),
                None => format!(
                    "the token endpoint refused the client credentials ({})",
                    withheld()
                ),
            },
        },
        300..=399 => Error::Api {
            status,
            method: "POST",
            path: "/connect/token".to_owned(),
            code: String::new(),
            message: format!(
                "the token endpoint redirected to {}; use the final address as the PBX URL",
                match location.map(|l| excerpt(l.as_bytes())) {
                    None => String::new(),
                    Some(l) if l.contains(secret) || echoes_secret(&l, secret) => {
                        "an address that quotes the client secret (not shown)".to_owned()
                    }
                    Some(l) => l,
                }
            ),
            details: vec![],
        },
        _ => {
            let details = if server.is_some() {
                parsed
                    .details
                    .into_iter()
                    .filter_map(|d| {
                        Some(ApiErrorDetail {
                            code: clean(&d.code)?,
                            message: clean(&d.message)?,
                            target: match d.target {
                                Some(t) => Some(clean(&t)?),
                                None => None,
                            },
                        })
                    })
                    .collect()
            } else {
                vec![]
            };
            Error::Api {
                status,
                method: "POST",
                path: "/connect/token".to_owned(),
                code,
                message: match (status, server) {
                    (404, _) => "no token endpoint here; check the PBX URL (a 3CX V20 PBX \
                                 serves /connect/token)"
                        .to_owned(),
                    (_, Some(s)) if s.is_empty() => "the token endpoint failed".to_owned(),
                    (_, Some(s)) => format!("the token endpoint failed: {s}"),
                    (_, None) => format!("the token endpoint failed; {WITHHELD}"),
                },
                details,
            }
        }
    }
}

/// Whether `text` holds `secret` in a form a server may echo it in: as is, percent-encoded
/// (`+` or `%20` for a space, any hex case, even twice), JSON-escaped (`\/`, `\u00e9`) or
/// HTML-escaped (`&amp;`, `&#43;`), or any two of these on top of each other. The text is
/// decoded rather than the secret encoded: no list of encodings of the secret is complete.
pub(crate) fn echoes_secret(text: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    type Decode = fn(&str) -> String;
    const DECODERS: [Decode; 4] = [
        |t| {
            percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned()
        },
        |t| {
            percent_encoding::percent_decode_str(&t.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        },
        json_unescape,
        html_unescape,
    ];
    let mut layer = vec![text.to_owned()];
    for depth in 0..=2 {
        if layer.iter().any(|t| t.contains(secret)) {
            return true;
        }
        if depth == 2 {
            break;
        }
        layer = layer
            .iter()
            .flat_map(|t| DECODERS.iter().map(move |d| (t, d(t))))
            .filter(|(t, decoded)| decoded != *t)
            .map(|(_, decoded)| decoded)
            .collect();
    }
    false
}

/// JSON string escapes (`\"`, `\/`, `\n`, `\u00e9`, surrogate pairs) decoded wherever they
/// appear; anything else is kept as is.
fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let hex4 = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<u32> {
        let digits: String = (0..4).map_while(|_| chars.next()).collect();
        (digits.len() == 4)
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let Some(high) = hex4(&mut chars) else {
                    continue;
                };
                let code = if (0xD800..0xDC00).contains(&high) {
                    let mut ahead = chars.clone();
                    match (ahead.next(), ahead.next(), hex4(&mut ahead)) {
                        (Some('\\'), Some('u'), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                            chars = ahead;
                            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                        }
                        _ => high,
                    }
                } else {
                    high
                };
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// HTML character references decoded: `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#43;`,
/// `&#x2B;`; anything else is kept as is.
fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Bytes, not a str slice: byte 12 may fall inside a character.
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let (digits, radix) = match name.strip_prefix(['#']) {
                        Some(n) => match n.strip_prefix(['x', 'X']) {
                            Some(h) => (h, 16),
                            None => (n, 10),
                        },
                        None => ("", 10),
                    };
                    u32::from_str_radix(digits, radix)
                        .ok()
                        .and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How long a token lives: from a JWT `exp` claim if the token has one, else from `expires_in`
/// read per `unit`, else [`FALLBACK_LIFETIME`]; always between [`MIN_TOKEN_LIFETIME`] and
/// [`MAX_TOKEN_LIFETIME`], whatever the numbers (they come from the network: no arithmetic on
/// them can overflow).
///
/// With `exp`, `exp - iat` is used when `iat` is there too: it does not depend on the PBX's clock
/// agreeing with ours.
pub(crate) fn token_lifetime(
    access_token: &str,
    expires_in: Option<&Value>,
    unit: ExpiresInUnit,
    now_unix: i64,
) -> Duration {
    let clamp = |d: Duration| d.clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME);
    if let Some(claims) = jwt_claims(access_token) {
        // `as` saturates (1e300 becomes i64::MAX), and the differences saturate too.
        let num = |k: &str| claims.get(k).and_then(Value::as_f64).map(|f| f as i64);
        if let Some(exp) = num("exp") {
            let secs = match num("iat") {
                Some(iat) if iat < exp => exp.saturating_sub(iat),
                _ => exp.saturating_sub(now_unix),
            };
            if secs > 0 {
                return clamp(Duration::from_secs(secs as u64));
            }
        }
    }
    // Whole numbers as given; a fraction or an exponent (`1e300`) is truncated, saturating at
    // u64::MAX; negative values and zero mean "not given".
    let from_float = |f: f64| (f >= 1.0).then_some(f as u64);
    let value = match expires_in {
        Some(Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().and_then(from_float)),
        Some(Value::String(s)) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(from_float))
        }
        _ => None,
    };
    match value {
        Some(v) if v > 0 => clamp(expires_in_duration(v, unit)),
        _ => FALLBACK_LIFETIME,
    }
}

/// `expires_in` as a duration: `60` is one hour with [`ExpiresInUnit::Auto`], as is `3600`.
pub(crate) fn expires_in_duration(value: u64, unit: ExpiresInUnit) -> Duration {
    let minutes = match unit {
        ExpiresInUnit::Seconds => false,
        ExpiresInUnit::Minutes => true,
        ExpiresInUnit::Auto => value <= AUTO_MINUTES_MAX,
    };
    if minutes {
        Duration::from_secs(value.saturating_mul(60))
    } else {
        Duration::from_secs(value)
    }
}

/// The configured margin, capped at 10% of the lifetime.
pub(crate) fn refresh_margin(lifetime: Duration, configured: Duration) -> Duration {
    configured.min(lifetime / 10)
}

/// The claims of a JWT (`header.payload.signature`), unverified: only used to learn the expiry.
fn jwt_claims(token: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOUR: Duration = Duration::from_secs(3600);

    fn jwt(claims: Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64.encode(claims.to_string())
        )
    }

    #[test]
    fn expires_in_sixty_and_3600_are_both_an_hour() {
        let auto = ExpiresInUnit::Auto;
        assert_eq!(token_lifetime("opaque", Some(&json!(60)), auto, 0), HOUR);
        assert_eq!(token_lifetime("opaque", Some(&json!(3600)), auto, 0), HOUR);
        assert_eq!(
            token_lifetime("opaque", Some(&json!("3600")), auto, 0),
            HOUR
        );
        assert_eq!(expires_in_duration(61, auto), Duration::from_secs(61));
        assert_eq!(
            expires_in_duration(60, ExpiresInUnit::Seconds),
            Duration::from_secs(60)
        );
        assert_eq!(expires_in_duration(120, ExpiresInUnit::Minutes), 2 * HOUR);
    }

    #[test]
    fn missing_expiry_falls_back_to_a_short_lifetime() {
        let auto = ExpiresInUnit::Auto;
        assert_eq!(token_lifetime("opaque", None, auto, 0), FALLBACK_LIFETIME);
        assert_eq!(
            token_lifetime("opaque", Some(&json!(0)), auto, 0),
            FALLBACK_LIFETIME
        );
        assert_eq!(
            token_lifetime("opaque", Some(&Value::Null), auto, 0),
            FALLBACK_LIFETIME
        );
    }

    #[test]
    fn jwt_exp_wins_over_expires_in() {
        let now = 1_700_000_000;
        // exp - iat: independent of our clock.
        let t = jwt(json!({"iat": now - 500, "exp": now - 500 + 1800}));
        assert_eq!(
            token_lifetime(&t, Some(&json!(60)), ExpiresInUnit::Auto, now),
            Duration::from_secs(1800)
        );
        // No iat: exp against our clock.
        let t = jwt(json!({"exp": now + 900}));
        assert_eq!(
            token_lifetime(&t, Some(&json!(3600)), ExpiresInUnit::Auto, now),
            Duration::from_secs(900)
        );
        // An exp already past (clock skew) is not trusted; expires_in is used.
        let t = jwt(json!({"exp": now - 10}));
        assert_eq!(
            token_lifetime(&t, Some(&json!(3600)), ExpiresInUnit::Auto, now),
            HOUR
        );
        // Not a JWT payload.
        assert_eq!(
            token_lifetime("a.b.c", Some(&json!(60)), ExpiresInUnit::Auto, now),
            HOUR
        );
    }

    #[test]
    fn lifetimes_are_clamped_whatever_the_numbers() {
        let auto = ExpiresInUnit::Auto;
        let now = 1_700_000_000;
        let life =
            |token: &str, expires_in: Value| token_lifetime(token, Some(&expires_in), auto, now);
        for huge in [
            json!(u64::MAX),
            json!(i64::MAX),
            json!(1e300),
            json!("18446744073709551615"),
            json!("99999999999999999999999"),
            json!("1e300"),
        ] {
            assert_eq!(life("opaque", huge.clone()), MAX_TOKEN_LIFETIME, "{huge}");
            for unit in [ExpiresInUnit::Seconds, ExpiresInUnit::Minutes] {
                assert_eq!(
                    token_lifetime("opaque", Some(&huge), unit, now),
                    MAX_TOKEN_LIFETIME,
                    "{huge}"
                );
            }
        }
        for nothing in [
            json!(-5),
            json!(i64::MIN),
            json!(-1e300),
            json!(0.5),
            json!("-1"),
        ] {
            assert_eq!(
                life("opaque", nothing.clone()),
                FALLBACK_LIFETIME,
                "{nothing}"
            );
        }
        // Too short to be true: every call would fetch a token.
        assert_eq!(
            token_lifetime("opaque", Some(&json!(1)), ExpiresInUnit::Seconds, now),
            MIN_TOKEN_LIFETIME
        );
        assert_eq!(life("opaque", json!(3600.9)), HOUR);

        for claims in [
            json!({"exp": i64::MAX}),
            json!({"exp": 1e300}),
            json!({"exp": i64::MAX, "iat": i64::MIN}),
            json!({"exp": 1, "iat": i64::MIN}),
        ] {
            assert_eq!(
                life(&jwt(claims.clone()), json!(60)),
                MAX_TOKEN_LIFETIME,
                "{claims}"
            );
        }
        // An exp in the past (however far) falls back to expires_in.
        for claims in [
            json!({"exp": i64::MIN}),
            json!({"exp": -1e300}),
            json!({"exp": now - 10}),
        ] {
            assert_eq!(life(&jwt(claims.clone()), json!(60)), HOUR, "{claims}");
        }
        // A few seconds left by our clock: believed to be MIN_TOKEN_LIFETIME.
        assert_eq!(
            life(&jwt(json!({"exp": now + 5})), json!(60)),
            MIN_TOKEN_LIFETIME
        );
    }

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

    #[test]
    fn refresh_margin_is_capped_at_a_tenth() {
        assert_eq!(
            refresh_margin(HOUR, Duration::from_secs(60)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(300), Duration::from_secs(60)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = Token::new(
            SecretString::from("tok-ABC"),
            Instant::now(),
            Instant::now(),
            1,
        );
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("tok-ABC"), "{dbg}");
        assert!(format!("{:?}", t.authorization()).contains("Sensitive"));
    }

    fn cached(cache: &TokenCache, value: &str, refresh_in: Duration, expires_in: Duration) {
        let now = Instant::now();
        *cache.current.write().unwrap() = Some(Arc::new(Token::new(
            SecretString::from(value),
            now + refresh_in,
            now + expires_in,
            NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
        )));
    }

    #[tokio::test]
    async fn a_token_is_reused_until_its_refresh_time() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::builder().start().await;
        Mock::given(method("POST"))
            .and(path("/connect/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "new", "expires_in": 3600, "refresh_token": null}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let config = Config::builder()
            .base_url(server.uri())
            .client_id("unit-refresh")
            .client_secret("x")
            .build()
            .unwrap();
        let http = reqwest::Client::new();
        let cache = TokenCache::new(config.client_secret().clone());

        cached(&cache, "old", Duration::from_secs(60), HOUR);
        assert_eq!(cache.get(&http, &config).await.unwrap().secret(), "old");
        assert_eq!(cache.fetches(), 0);

        // Past its refresh time (though not expired): replaced.
        cached(&cache, "old", Duration::ZERO, HOUR);
        let t = cache.get(&http, &config).await.unwrap();
        assert_eq!(t.secret(), "new");
        assert_eq!(cache.fetches(), 1);
        // 3600 s lifetime, 60 s margin.
        let refresh_in = t.refresh_at.saturating_duration_since(Instant::now());
        assert!(refresh_in > Duration::from_secs(3530), "{refresh_in:?}");
        assert!(refresh_in <= Duration::from_secs(3540), "{refresh_in:?}");

        // Invalidating a token that was already replaced keeps the replacement.
        let stale = Token::new(SecretString::from("old"), Instant::now(), Instant::now(), 0);
        cache.invalidate(&stale);
        assert_eq!(cache.get(&http, &config).await.unwrap().secret(), "new");
        cache.invalidate(&t);
        assert!(cache.current.read().unwrap().is_none());
    }

    #[test]
    fn echoes_of_the_secret_are_found_in_any_encoding() {
        let secret = "s3cr3t +/=&é\"<>'\\😀";
        for echo in [
            secret.to_owned(),
            "s3cr3t+%2B%2F%3D%26%C3%A9%22%3C%3E%27%5C%F0%9F%98%80".to_owned(),
            "s3cr3t%20%2b%2f%3d%26%c3%a9%22%3c%3e%27%5c%f0%9f%98%80".to_owned(),
            "s3cr3t%2520%252B%252F%253D%2526%25C3%25A9%2522%253C%253E%2527%255C%25F0%259F%2598%2580"
                .to_owned(),
            serde_json::to_string(secret).unwrap(),
            r#"s3cr3t \u002B\/\u003D\u0026\u00E9\"\u003C\u003E\u0027\\\uD83D\uDE00"#.to_owned(),
            "s3cr3t &#43;&#x2F;=&amp;&#233;&quot;&lt;&gt;&apos;\\&#x1F600;".to_owned(),
            // JSON-escaped, then percent-encoded.
            "s3cr3t%20%2B%5C%2F%3D%26%5Cu00e9%5C%22%3C%3E%27%5C%5C%F0%9F%98%80".to_owned(),
        ] {
            let text = format!("error: client_secret={echo}; bye");
            assert!(echoes_secret(&text, secret), "{echo}");
        }
        for clean in [
            "",
            "s3cr3t",
            "invalid_client",
            "&",
            "&é;&#xZZ;&#99999999;",
            "\\u12",
            "%",
        ] {
            assert!(!echoes_secret(clean, secret), "{clean}");
        }
        assert!(!echoes_secret("anything", ""));
        // Odd input never panics.
        for odd in [
            "&ééééééééééé;",
            "\\uD83D",
            "\\uD83D\\u0041",
            "\\",
            "%C3",
            "&#x110000;",
        ] {
            echoes_secret(odd, "x");
        }
        assert_eq!(json_unescape(r#"a\u00e9\/\uD83D\uDE00\n"#), "aé/😀\n");
        assert_eq!(
            html_unescape("a&amp;b&#43;&#x2f;&unknown;&"),
            "a&b+/&unknown;&"
        );
    }

    #[test]
    fn an_echoed_form_body_is_withheld_whole() {
        let secret = "s3cr3t+/=&é";
        let form =
            "client_id=id&client_secret=s3cr3t%2B%2F%3D%26%C3%A9&grant_type=client_credentials";
        let body = json!({"error": "invalid_request", "error_description": form}).to_string();
        let e = token_endpoint_error(400, body.as_bytes(), None, secret);
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("invalid_request; its answer quotes the token request"),
            "{shown}"
        );
        // The secret as the OAuth code itself: no code either.
        let body = json!({"error": secret}).to_string();
        let e = token_endpoint_error(401, body.as_bytes(), None, secret);
        assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{e:?}");
        // A clean answer is passed on as before.
        let body = json!({"error": "invalid_client", "error_description": "unknown client"});
        let e = token_endpoint_error(400, body.to_string().as_bytes(), None, secret);
        assert!(
            e.to_string().contains("invalid_client: unknown client"),
            "{e}"
        );
    }

    #[test]
    fn token_endpoint_errors_scrub_the_secret() {
        let body = br#"{"error":"invalid_client","error_description":"bad secret s3cr3t-XYZ"}"#;
        let e = token_endpoint_error(400, body, None, "s3cr3t-XYZ");
        assert!(
            matches!(
                e,
                Error::Auth {
                    status: Some(400),
                    ..
                }
            ),
            "{e:?}"
        );
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("s3cr3t-XYZ"), "{shown}");
        assert!(shown.contains("bad secret [REDACTED]"), "{shown}");
        let e = token_endpoint_error(503, b"down", None, "s3cr3t-XYZ");
        assert!(e.is_retryable(), "{e:?}");
    }
}
