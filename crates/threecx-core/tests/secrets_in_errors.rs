//! Neither the client secret nor a token ever shows in an error, a `Debug` of the client or
//! its settings, or the logs.
//!
//! A test binary of its own: the log capture uses a thread-local `tracing` subscriber, whose
//! callsites other tests running at the same time in the same process could leave disabled.

mod common;

use std::net::TcpListener;

use common::logs::capture_logs;
use common::*;
use serde_json::json;
use threecx_core::{Client, Config, Error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A port nobody listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Every kind of failure, with a server that echoes the secret and the token back: none of it
/// shows in errors, `Debug` output or trace-level logs.
/// The token endpoint refuses the credentials and quotes the secret back.
async fn token_endpoint_quoting_the_secret() -> Error {
    let pbx = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": format!("client secret {SECRET} is wrong")
        })))
        .expect(1)
        .mount(&pbx)
        .await;
    let api = client(&pbx, "leak-token-endpoint");
    assert_no_secrets_in(&format!("{api:?}"));
    let req = get_user();
    let err = api.execute(&req).await.unwrap_err();
    assert_refused_401(&err);
    assert!(err.to_string().contains("[REDACTED]"), "{err}");
    err
}

/// With a token: 401 twice, a 500 quoting the token, invalid JSON.
async fn api_errors_quoting_the_token() -> Vec<Error> {
    let mut errors = Vec::new();
    let pbx = fresh_mock_server().await;
    token_mock(TOKEN, 2).mount(&pbx).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(401)"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"code": "", "message": format!("token {TOKEN} rejected")}
        })))
        .mount(&pbx)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(500)"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"code": "", "message": format!("crashed with Bearer {TOKEN}"),
                      "details": [{"code": "", "message": TOKEN}]}
        })))
        .mount(&pbx)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(1)"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"Id\": 1,", "application/json"))
        .mount(&pbx)
        .await;
    let api = client(&pbx, "leak-api");
    for (id, check) in [
        (
            401,
            (|e: &Error| {
                matches!(
                    e,
                    Error::Auth {
                        status: Some(401),
                        ..
                    }
                )
            }) as fn(&Error) -> bool,
        ),
        (500, |e: &Error| matches!(e, Error::Api { status: 500, .. })),
        (1, |e: &Error| matches!(e, Error::Decode { .. })),
    ] {
        let req = GET_USER.build(&obj(json!({"Id": id}))).unwrap();
        let err = api.execute(&req).await.unwrap_err();
        assert!(check(&err), "{id}: {err:?}");
        errors.push(err);
    }
    assert_no_secrets_in(&format!("{api:?}"));
    assert_no_secrets_in(&format!("{:?}", api.config()));

    errors
}

/// Nobody listening.
async fn nobody_listening() -> Error {
    let api = Client::new(
        Config::builder()
            .base_url(format!("http://127.0.0.1:{}", closed_port()))
            .client_id("leak-closed")
            .client_secret(SECRET)
            .build()
            .unwrap(),
    )
    .unwrap();
    let req = get_user();
    let err = api.execute(&req).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    err
}

#[tokio::test]
async fn secrets_never_show() {
    let (logs, _guard) = capture_logs(tracing::Level::TRACE);

    let mut errors: Vec<Error> = Vec::new();

    errors.push(token_endpoint_quoting_the_secret().await);
    errors.extend(api_errors_quoting_the_token().await);
    errors.push(nobody_listening().await);

    for err in &errors {
        assert_no_secrets(err);
    }
    let logs = logs.text();
    assert!(logs.contains("PBX answered"), "no logs captured: {logs}");
    assert_no_secrets_in(&logs);
}
