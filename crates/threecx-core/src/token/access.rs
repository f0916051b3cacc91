//! An access token in memory: the secret, when to replace it, and its `Authorization` value.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Redacted;

static NEXT_TOKEN_ID: AtomicU64 = AtomicU64::new(1);

/// A number no other token of this process has (to invalidate exactly the token rejected).
pub(crate) fn next_token_id() -> u64 {
    NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed)
}

/// An access token and when to stop using it.
pub(crate) struct Token {
    pub(super) value: SecretString,
    /// Replace the token from this moment on (expiry minus the refresh margin).
    pub(super) refresh_at: Instant,
    /// The token's expiry: still usable up to here if a replacement cannot be had.
    pub(super) expires_at: Instant,
    /// Unique within the process: identifies the token when invalidating it.
    pub(super) id: u64,
    /// `Bearer <token>`, built once rather than for every request (a 3CX token is ~1 KB).
    authorization: HeaderValue,
}

impl Token {
    pub(super) fn new(
        value: SecretString,
        refresh_at: Instant,
        expires_at: Instant,
        id: u64,
    ) -> Token {
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

    /// A token for unit tests elsewhere in the crate, valid for an hour.
    #[cfg(test)]
    pub(crate) fn for_tests(value: &str) -> Token {
        let now = Instant::now();
        let hour = std::time::Duration::from_secs(3600);
        Token::new(
            SecretString::from(value),
            now + hour,
            now + hour,
            next_token_id(),
        )
    }

    /// The `Authorization` header value (sensitive: hidden from HTTP-level debug output).
    pub(crate) fn authorization(&self) -> HeaderValue {
        self.authorization.clone()
    }

    /// The raw token, to scrub it from any text that could be shown.
    pub(crate) fn secret(&self) -> &str {
        self.value.expose_secret()
    }

    pub(super) fn is_fresh(&self, now: Instant) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
