//! Helpers shared by the workspace tests (included with `mod common;`).
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{json, Value};
use threecx_core::{Client, Config};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The official spec beside the repository. A missing spec is a failure, never a skip.
pub fn spec_path() -> PathBuf {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/xapi/swagger-20.0.10.yaml");
    assert!(
        p.exists(),
        "the 3CX spec is expected at {} (clone the repository beside shared/)",
        p.display()
    );
    p
}

pub fn load_spec() -> Value {
    let text = std::fs::read_to_string(spec_path()).expect("read spec");
    serde_yaml_ng::from_str(&text).expect("parse spec")
}

/// A test PBX on 127.0.0.1 whose token endpoint hands out `token`.
pub async fn pbx_with_token(token: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": token,
            "refresh_token": null
        })))
        .mount(&server)
        .await;
    server
}

pub const SECRET: &str = "s3cr3t-never-shown";

pub fn client_for(server: &MockServer, client_id: &str) -> Client {
    let config = Config::builder()
        .base_url(server.uri())
        .client_id(client_id)
        .client_secret(SECRET)
        .build()
        .expect("config");
    Client::new(config).expect("client")
}
