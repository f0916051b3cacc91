//! TLS settings: custom CA bundles and the explicit `insecure` opt-out.

use std::path::PathBuf;

use threecx_core::{Client, Config, ConfigBuilder, Error};

fn builder() -> ConfigBuilder {
    Config::builder()
        .base_url("https://pbx.example.com:5001")
        .client_id("tls")
        .client_secret("s3cr3t-XYZ")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn a_bundle_of_several_certificates_is_accepted() {
    let config = builder()
        .ca_bundle(fixture("two-test-cas.pem"))
        .build()
        .unwrap();
    assert!(config.ca_bundle().is_some());
    Client::new(config).unwrap();
}

#[test]
fn a_missing_bundle_is_a_config_error() {
    let err = Client::new(
        builder()
            .ca_bundle(fixture("does-not-exist.pem"))
            .build()
            .unwrap(),
    )
    .unwrap_err();
    match err {
        Error::Config { field, message } => {
            assert_eq!(field, "ca_bundle");
            assert!(message.contains("does-not-exist.pem"), "{message}");
        }
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

#[test]
fn a_file_without_certificates_is_a_config_error() {
    // This very source file holds no PEM certificate.
    let not_pem = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls.rs");
    let err = Client::new(builder().ca_bundle(not_pem).build().unwrap()).unwrap_err();
    match err {
        Error::Config { field, message } => {
            assert_eq!(field, "ca_bundle");
            assert!(message.contains("no PEM certificate"), "{message}");
        }
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

#[test]
fn insecure_is_an_explicit_opt_in() {
    assert!(!builder().build().unwrap().insecure());
    let config = builder().insecure(true).build().unwrap();
    assert!(config.insecure());
    Client::new(config).unwrap();
}
