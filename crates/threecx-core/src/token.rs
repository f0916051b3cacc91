//! OAuth2 client-credentials tokens for 3CX: one cache per (API root, client ID) per process,
//! one fetch in flight at a time.
//!
//! 3CX keeps only ONE active token per API client: fetching a second one can invalidate the
//! first. So every [`crate::Client`] with the same PBX and client ID shares one cache (a second
//! Client must not knock out the first one's token), concurrent callers wait for the fetch in
//! flight instead of starting their own, a failed fetch is reported to everyone who waited for it
//! (instead of each waiter trying again: 3CX blacklists IPs that fail auth repeatedly), and a
//! token is replaced only shortly before it expires or when the PBX rejects it.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::header::{HeaderValue, ACCEPT};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::client::{excerpt, map_send_error, parse_error_body, redact};
use crate::config::{Config, ExpiresInUnit, Redacted};
use crate::error::{Error, Result};

/// Lifetime assumed when the answer gives neither a JWT `exp` nor a usable `expires_in`: short,
/// so a wrong guess costs little (a 401 also triggers one refresh).
const FALLBACK_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// What [`ExpiresInUnit::Auto`] still reads as minutes: 3CX before 20.0.9 sent `60`.
const AUTO_MINUTES_MAX: u64 = 60;

const DURING_TOKEN: &str = "requesting an access token";

/// After a failed token request, callers get its error for this long instead of sending another
/// (a busy program must not turn a wrong secret into a stream of failed logins).
const FAILURE_COOLDOWN: Duration = Duration::from_secs(1);

/// An access token and when to stop using it.
pub(crate) struct Token {
    value: SecretString,
    /// Replace the token from this moment on (expiry minus the refresh margin).
    refresh_at: Instant,
    /// The token's expiry: still usable up to here if a replacement cannot be had.
    expires_at: Instant,
    /// Unique within the process: identifies the token when invalidating it.
    id: u64,
}

impl Token {
    /// The `Authorization` header value, marked sensitive so HTTP-level debug output hides it.
    pub(crate) fn authorization(&self) -> HeaderValue {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", self.value.expose_secret()))
            .expect("checked to be visible ASCII when fetched");
        v.set_sensitive(true);
        v
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
}

#[derive(Default)]
struct RefreshState {
    /// The last fetch, if it failed.
    last_failure: Option<Failure>,
}

struct Failure {
    /// Its number in `TokenCache::completed`.
    completion: u64,
    at: Instant,
    error: Error,
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
    fn new(secret: SecretString) -> Self {
        TokenCache {
            secret,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
            fetches: AtomicU64::new(0),
            completed: AtomicU64::new(0),
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

    /// A usable token: the cached one, or a new one fetched once for all concurrent callers.
    ///
    /// When a fetch fails, everyone who waited for it gets its error, and so does everyone who
    /// asks within [`FAILURE_COOLDOWN`]; the old token is still handed out while it has not
    /// expired (a token past its refresh time is usually still good).
    pub(crate) async fn get(&self, http: &reqwest::Client, config: &Config) -> Result<Arc<Token>> {
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
            if failure.completion > seen || failure.at.elapsed() < FAILURE_COOLDOWN {
                return self.unexpired().ok_or_else(|| failure.error.clone());
            }
        }
        self.fetches.fetch_add(1, Ordering::AcqRel);
        let started = Instant::now();
        let result = fetch_token(http, config).await;
        let completion = self.completed.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(fetched) => {
                let margin = refresh_margin(fetched.lifetime, config.refresh_margin());
                let token = Arc::new(Token {
                    value: fetched.value,
                    refresh_at: started + fetched.lifetime.saturating_sub(margin),
                    expires_at: started + fetched.lifetime,
                    id: NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
                });
                tracing::debug!(
                    lifetime_s = fetched.lifetime.as_secs(),
                    refresh_margin_s = margin.as_secs(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "fetched an access token"
                );
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(Arc::clone(&token));
                state.last_failure = None;
                Ok(token)
            }
            Err(e) => {
                tracing::debug!(error = %e, "token request failed");
                state.last_failure = Some(Failure {
                    completion,
                    at: Instant::now(),
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

    /// Forgets `token` after the PBX rejected it, unless another task already replaced it (then
    /// the replacement is kept: dropping it would cost a needless fetch that invalidates it).
    pub(crate) fn invalidate(&self, token: &Token) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|t| t.id == token.id) {
            *current = None;
        }
    }
}

struct Fetched {
    value: SecretString,
    lifetime: Duration,
}

/// `POST /connect/token` with the client credentials, form-encoded.
async fn fetch_token(http: &reqwest::Client, config: &Config) -> Result<Fetched> {
    let secret = config.client_secret().expose_secret();
    let form = [
        ("client_id", config.client_id()),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
    ];
    let started = Instant::now();
    let response = http
        .post(config.token_url())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| map_send_error(e, config, DURING_TOKEN))?;
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .map_err(|e| map_send_error(e, config, DURING_TOKEN))?;
    tracing::debug!(
        method = "POST",
        path = "/connect/token",
        status = status.as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "token endpoint answered"
    );

    if !status.is_success() {
        return Err(token_endpoint_error(
            status.as_u16(),
            &body,
            location.as_deref(),
            secret,
        ));
    }

    let decode = |message: &str| Error::Decode {
        what: "the token answer of /connect/token".to_owned(),
        message: message.to_owned(),
    };
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

/// The error for a non-2xx answer of the token endpoint; the secret is scrubbed from whatever
/// the server said.
fn token_endpoint_error(status: u16, body: &[u8], location: Option<&str>, secret: &str) -> Error {
    let parsed = parse_error_body(body);
    let server = redact(&parsed.message, secret);
    match status {
        400 | 401 | 403 => Error::Auth {
            status: Some(status),
            message: if server.is_empty() {
                "the token endpoint refused the client credentials".to_owned()
            } else {
                format!("the token endpoint refused the client credentials ({server})")
            },
        },
        300..=399 => Error::Api {
            status,
            method: "POST",
            path: "/connect/token".to_owned(),
            code: String::new(),
            message: format!(
                "the token endpoint redirected to {}; use the final address as the PBX URL",
                location.map(|l| excerpt(l.as_bytes())).unwrap_or_default()
            ),
            details: vec![],
        },
        _ => Error::Api {
            status,
            method: "POST",
            path: "/connect/token".to_owned(),
            code: parsed.code,
            message: match (status, server.is_empty()) {
                (404, _) => "no token endpoint here; check the PBX URL (a 3CX V20 PBX serves \
                             /connect/token)"
                    .to_owned(),
                (_, true) => "the token endpoint failed".to_owned(),
                (_, false) => format!("the token endpoint failed: {server}"),
            },
            details: parsed.details,
        },
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How long a token lives: from a JWT `exp` claim if the token has one, else from `expires_in`
/// read per `unit`, else [`FALLBACK_LIFETIME`].
///
/// With `exp`, `exp - iat` is used when `iat` is there too: it does not depend on the PBX's clock
/// agreeing with ours.
pub(crate) fn token_lifetime(
    access_token: &str,
    expires_in: Option<&Value>,
    unit: ExpiresInUnit,
    now_unix: i64,
) -> Duration {
    if let Some(claims) = jwt_claims(access_token) {
        let num = |k: &str| claims.get(k).and_then(Value::as_f64).map(|f| f as i64);
        if let Some(exp) = num("exp") {
            let secs = match num("iat") {
                Some(iat) if iat < exp => exp - iat,
                _ => exp - now_unix,
            };
            if secs > 0 {
                return Duration::from_secs(secs as u64);
            }
        }
    }
    let value = match expires_in {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match value {
        Some(v) if v > 0 => expires_in_duration(v, unit),
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
        let t = Token {
            value: SecretString::from("tok-ABC"),
            refresh_at: Instant::now(),
            expires_at: Instant::now(),
            id: 1,
        };
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("tok-ABC"), "{dbg}");
        assert!(format!("{:?}", t.authorization()).contains("Sensitive"));
    }

    fn cached(cache: &TokenCache, value: &str, refresh_in: Duration, expires_in: Duration) {
        let now = Instant::now();
        *cache.current.write().unwrap() = Some(Arc::new(Token {
            value: SecretString::from(value),
            refresh_at: now + refresh_in,
            expires_at: now + expires_in,
            id: NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
        }));
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
        let stale = Token {
            value: SecretString::from("old"),
            refresh_at: Instant::now(),
            expires_at: Instant::now(),
            id: 0,
        };
        cache.invalidate(&stale);
        assert_eq!(cache.get(&http, &config).await.unwrap().secret(), "new");
        cache.invalidate(&t);
        assert!(cache.current.read().unwrap().is_none());
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
