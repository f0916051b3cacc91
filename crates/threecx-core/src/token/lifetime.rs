//! How long a token lives: a JWT `exp`, else `expires_in` (minutes or seconds, see
//! [`ExpiresInUnit`]), clamped to believable bounds; and the refresh margin.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

use crate::config::ExpiresInUnit;

/// Lifetime assumed when the answer gives neither a JWT `exp` nor a usable `expires_in`: short,
/// so a wrong guess costs little (a 401 also triggers one refresh).
pub(super) const FALLBACK_LIFETIME: Duration = Duration::from_secs(5 * 60);

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

pub(super) fn unix_now() -> i64 {
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
}
