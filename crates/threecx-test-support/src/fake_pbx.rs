//! Fake PBXs: wiremock servers on 127.0.0.1 with a token endpoint.

use serde_json::{json, Value};
use threecx_core::{Client, Config};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The body of a successful `POST /connect/token`: `token`, valid `expires_in` seconds.
pub fn token_answer(token: &str, expires_in: u64) -> Value {
    json!({
        "token_type": "Bearer",
        "expires_in": expires_in,
        "access_token": token,
        "refresh_token": null
    })
}

/// `POST /connect/token` answering `token` (valid an hour) to any client.
pub fn token_endpoint(token: &str) -> Mock {
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(token, 3600)))
}

/// A fake PBX (from wiremock's pool) whose token endpoint hands out `token`.
pub async fn fake_pbx_with_token(token: &str) -> MockServer {
    let server = MockServer::start().await;
    token_endpoint(token).mount(&server).await;
    server
}

/// A fresh server on a port of its own (not wiremock's pool, which reuses servers and so base
/// URLs: the SDK's token cache is process-global and keyed by base URL and client ID).
pub async fn fresh_mock_server() -> MockServer {
    MockServer::builder().start().await
}

/// An SDK client for `server` with `client_id` and `client_secret`.
pub fn client_for_mock(server: &MockServer, client_id: &str, client_secret: &str) -> Client {
    let config = Config::builder()
        .base_url(server.uri())
        .client_id(client_id)
        .client_secret(client_secret.to_owned())
        .build()
        .expect("config");
    Client::new(config).expect("client")
}

/// A client secret for fake PBXs, for tests that check it is never shown.
pub const TEST_CLIENT_SECRET: &str = "s3cr3t-never-shown";
