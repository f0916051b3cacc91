//! Unit tests of the settings and their builder (the URL rules are tested in `api_root.rs`).

use std::time::Duration;

use secrecy::ExposeSecret;

use crate::config::builder::ConfigBuilder;
use crate::config::settings::{
    Config, ExpiresInUnit, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_URL, MAX_DURATION_SETTING,
};
use crate::error::{Error, Result};

fn config(url: &str) -> Result<Config> {
    Config::builder()
        .base_url(url)
        .client_id("id")
        .client_secret("s3cr3t-XYZ")
        .build()
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
    let e =
        ConfigBuilder::from_lookup(vars(Some("https://pbx"), Some("id"), Some(""))).unwrap_err();
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

#[test]
fn the_api_root_comes_from_the_url() {
    let c = config("https://pbx:5001/").unwrap();
    assert_eq!(c.base_url(), "https://pbx:5001");
    assert_eq!(c.api_root(), "https://pbx:5001/xapi/v1");
    assert_eq!(c.token_url(), "https://pbx:5001/connect/token");
    assert_eq!(c.root().as_str(), c.api_root());
    assert!(!c.is_loopback());
}
