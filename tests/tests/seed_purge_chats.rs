//! Must-show (b): the seed case — "Purge Settings" / "Purge Chats" with a JSON period — against a
//! local test PBX, and its invalid inputs refused before any request.

use serde_json::json;
use threecx_core::{Error, Response};
use threecx_test_support::fake_pbx::{client_for_mock, fake_pbx_with_token, TEST_CLIENT_SECRET};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn purge_chats_sends_one_token_request_and_one_action_request() {
    let server = fake_pbx_with_token("tok-seed").await;
    let period = json!({"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"});
    Mock::given(method("POST"))
        .and(path("/xapi/v1/PurgeChats"))
        .and(header("authorization", "Bearer tok-seed"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "period": period })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for_mock(&server, "seed-client", TEST_CLIENT_SECRET);

    let out = threecx_ops::registry()
        .call(
            &client,
            "Purge Settings",
            "Purge Chats",
            json!({ "period": period }),
        )
        .await
        .expect("purge chats");

    assert_eq!(out, Response::Empty { status: 204 });
    assert_eq!(
        out.to_json(),
        serde_json::Value::Null,
        "documented no-content result"
    );

    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 2, "one token request, one action request");
    let token = &requests[0];
    assert_eq!(token.method.as_str(), "POST");
    assert_eq!(token.url.path(), "/connect/token");
    assert_eq!(
        token.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let mut form: Vec<(String, String)> = url_pairs(&token.body);
    form.sort();
    assert_eq!(
        form,
        vec![
            ("client_id".into(), "seed-client".into()),
            ("client_secret".into(), TEST_CLIENT_SECRET.into()),
            ("grant_type".into(), "client_credentials".into()),
        ]
    );
    assert_eq!(requests[1].url.path(), "/xapi/v1/PurgeChats");
}

#[tokio::test]
async fn invalid_periods_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let client = client_for_mock(&server, "seed-invalid", TEST_CLIENT_SECRET);
    let registry = threecx_ops::registry();

    let cases = [
        (
            json!({"period": {"Start": "yesterday"}}),
            "/period/Start",
            "date-time",
        ),
        (json!({"period": "x"}), "/period", "object"),
    ];
    for (input, pointer, expected) in cases {
        let err = registry
            .call(&client, "Purge Settings", "Purge Chats", input.clone())
            .await
            .expect_err("must be refused");
        match &err {
            Error::InvalidInput {
                pointer: p,
                expected: e,
                ..
            } => {
                assert_eq!(p, pointer, "{input}");
                assert!(e.contains(expected), "{input}: expected text {e:?}");
            }
            other => panic!("{input}: expected InvalidInput, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(pointer), "{message}");
    }
    let requests = server.received_requests().await.expect("recording");
    assert!(requests.is_empty(), "nothing may be sent: {requests:?}");
}

fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}
