//! Answer sizes: an error answer is read only up to an excerpt, and a successful answer larger
//! than the cap is refused with an error that says what to do, before it is read whole.

mod common;

use common::*;
use serde_json::json;
use threecx_core::client::MAX_RESPONSE_BODY;
use threecx_core::Error;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn a_huge_error_body_becomes_a_short_error() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    let body = format!("<html>{}</html>", "x".repeat(20 * 1024 * 1024));
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(Number='1')"))
        .respond_with(ResponseTemplate::new(500).set_body_string(body))
        .mount(&server)
        .await;
    let client = client(&server, "caps-error");
    let req = GET_USER_BY_NUMBER
        .build(&obj(json!({"Number": "1"})))
        .unwrap();
    let err = client.execute(&req).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    assert!(err.to_string().len() < 2_000, "an excerpt, not 20 MiB");
}

#[tokio::test]
async fn an_answer_over_the_cap_is_refused_with_advice() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    let mut body = vec![b' '; MAX_RESPONSE_BODY + 1];
    body[0] = b'{';
    *body.last_mut().unwrap() = b'}';
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(Number='2')"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let client = client(&server, "caps-page");
    let req = GET_USER_BY_NUMBER
        .build(&obj(json!({"Number": "2"})))
        .unwrap();
    let err = client.execute(&req).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(
        text.contains("larger than 131072 KiB") && text.contains("--out"),
        "{text}"
    );
}

#[tokio::test]
async fn the_cap_is_configurable() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(Number='3')"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Name": "x".repeat(4096)})))
        .mount(&server)
        .await;
    let small = threecx_core::Client::new(
        threecx_core::Config::builder()
            .base_url(server.uri())
            .client_id("caps-config")
            .client_secret(SECRET)
            .max_response_bytes(2048)
            .build()
            .unwrap(),
    )
    .unwrap();
    let req = GET_USER_BY_NUMBER
        .build(&obj(json!({"Number": "3"})))
        .unwrap();
    let err = small.execute(&req).await.unwrap_err();
    assert!(err.to_string().contains("larger than 2 KiB"), "{err}");
}
