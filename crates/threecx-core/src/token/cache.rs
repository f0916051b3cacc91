//! The token cache of one (API root, client ID): single flight, the token backoff, and the
//! token file shared with other processes.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, TOKEN_CACHE_LOCK_WAIT};
use crate::error::Error;
use crate::token::access::{next_token_id, Token};
use crate::token::backoff::Backoff;
use crate::token::endpoint::{fetch_token, Fetched};
use crate::token::file::{file_name, LockedFile, Record, StoredError, StoredFailures, StoredToken};
use crate::token::lifetime::{refresh_margin, MAX_TOKEN_LIFETIME};
use crate::wire::{Phase, Reach, SendError};

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

/// What the token file offered.
enum FromFile {
    Nothing,
    /// A fresh token another process fetched.
    Token(Arc<Token>),
    /// Failed token requests of another process, more recent than ours: their backoff has been
    /// taken over; this is their error.
    Failure(StoredError),
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

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

    /// The current token if it is not due for a refresh yet.
    pub(crate) fn fresh(&self) -> Option<Arc<Token>> {
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
        let stored_error = match self.read_file(file.as_mut(), &mut state, config) {
            FromFile::Token(token) => return Ok(token),
            FromFile::Failure(error) => Some(error),
            FromFile::Nothing => None,
        };
        if let Some(outcome) = self.while_backing_off(&state, stored_error.as_ref(), config) {
            return outcome;
        }
        self.fetch(http, config, &mut state, file.as_mut()).await
    }

    /// Takes a fresh token, or a newer token backoff, from the token file.
    fn read_file(
        &self,
        file: Option<&mut LockedFile>,
        state: &mut RefreshState,
        config: &Config,
    ) -> FromFile {
        let Some(file) = file else {
            return FromFile::Nothing;
        };
        let Some(record) = file.read() else {
            return FromFile::Nothing;
        };
        if let Some(token) = record.token.as_ref().and_then(|t| self.usable(t, config)) {
            tracing::debug!("using the access token of the token cache file");
            self.set_current(&token);
            state.last_failure = None;
            state.backoff = Backoff::default();
            return FromFile::Token(token);
        }
        let Some(failures) = record.failures else {
            return FromFile::Nothing;
        };
        let now_ms = unix_ms();
        let future = failures.backoff.has_future_times(now_ms);
        let stored = failures.backoff.sanitized(now_ms);
        if future {
            // Written back as now, or every later read would count "now" afresh and the backoff
            // would never end.
            tracing::warn!(
                "the token cache file recorded failed token requests in the future; counting \
                 them as now"
            );
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
        if stored.last_ms > state.backoff.last_ms {
            state.backoff = stored;
            return FromFile::Failure(failures.error);
        }
        FromFile::Nothing
    }

    /// During the token backoff: the old token while it has not expired, else the last error
    /// with a note on when the next request goes out. `None` when a request may be sent.
    fn while_backing_off(
        &self,
        state: &RefreshState,
        stored_error: Option<&StoredError>,
        config: &Config,
    ) -> Option<std::result::Result<Arc<Token>, SendError>> {
        let now_ms = unix_ms();
        let at = state.backoff.next_allowed_ms(config, now_ms)?;
        if at <= now_ms {
            return None;
        }
        if let Some(old) = self.unexpired() {
            return Some(Ok(old));
        }
        let last = match (stored_error, &state.last_failure) {
            (Some(stored), _) => stored.to_error(),
            (None, Some(failure)) => (*failure.error.error).clone(),
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
        Some(Err(
            backing_off(last, wait, state.backoff.consecutive).into()
        ))
    }

    /// Sends the token request and records its outcome, in memory and in the token file.
    async fn fetch(
        &self,
        http: &reqwest::Client,
        config: &Config,
        state: &mut RefreshState,
        file: Option<&mut LockedFile>,
    ) -> std::result::Result<Arc<Token>, SendError> {
        self.fetches.fetch_add(1, Ordering::AcqRel);
        let started = Instant::now();
        let started_ms = unix_ms();
        let result = fetch_token(http, config).await;
        let completion = self.completed.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(fetched) => Ok(self.fetched(fetched, (started, started_ms), config, state, file)),
            Err(e) => self.failed(e, completion, state, file),
        }
    }

    /// Keeps a new token (fetched at `started`, monotonic and wall-clock).
    fn fetched(
        &self,
        fetched: Fetched,
        (started, started_ms): (Instant, u64),
        config: &Config,
        state: &mut RefreshState,
        file: Option<&mut LockedFile>,
    ) -> Arc<Token> {
        // Clamped by `token_lifetime` already; clamped again here so that nothing below can
        // overflow whatever a future change does there.
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
            next_token_id(),
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
        if let Some(file) = file {
            save(
                file,
                &Record {
                    version: 1,
                    token: Some(stored),
                    failures: None,
                },
            );
        }
        token
    }

    /// Records a failed token request (the backoff only if it reached the PBX); hands out the
    /// old token while it has not expired.
    fn failed(
        &self,
        e: SendError,
        completion: u64,
        state: &mut RefreshState,
        file: Option<&mut LockedFile>,
    ) -> std::result::Result<Arc<Token>, SendError> {
        tracing::debug!(error = %e.error, "token request failed");
        // A request that never reached the PBX is no failed login: no backoff for it (the
        // retry loop of the call decides whether to try again).
        if e.reach == Reach::MaybeSent {
            let now_ms = unix_ms();
            state.backoff = std::mem::take(&mut state.backoff).sanitized(now_ms);
            state.backoff.record_failure(now_ms);
            if let Some(file) = file {
                save(
                    file,
                    &Record {
                        version: 1,
                        token: None,
                        failures: Some(StoredFailures {
                            backoff: state.backoff.clone(),
                            error: StoredError::from_error(&e.error),
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
            next_token_id(),
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
    let name = file_name(config);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOUR: Duration = Duration::from_secs(3600);

    fn cached(cache: &TokenCache, value: &str, refresh_in: Duration, expires_in: Duration) {
        let now = Instant::now();
        *cache.current.write().unwrap() = Some(Arc::new(Token::new(
            SecretString::from(value),
            now + refresh_in,
            now + expires_in,
            next_token_id(),
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
}
