//! The token cache against a local token endpoint: single flight, 401 handling, sharing,
//! form encoding.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use threecx_core::{Client, Error, Response};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_fetch_one_token() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_answer(TOKEN, 3600))
                // Long enough for all callers to arrive while the fetch is in flight.
                .set_delay(Duration::from_millis(80)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(1)"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(json!({"Id": 1})))
        .expect(50)
        .mount(&server)
        .await;

    let client = client(&server, "concurrent");
    let req = get_user();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            let req = req.clone();
            tokio::spawn(async move { client.execute(&req).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), Response::Json(json!({"Id": 1})));
    }
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_once() {
    let server = fresh_mock_server().await;
    // First fetch gives tok-1, the next tok-2.
    token_endpoint("tok-1")
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    token_endpoint("tok-2").expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(7)"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(json_response(json!({"Id": 7})))
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server, "refresh-once");
    let req = GET_USER.build(&obj(json!({"Id": 7}))).unwrap();
    let got = client.execute(&req).await.unwrap();
    assert_eq!(got, Response::Json(json!({"Id": 7})));
    assert_eq!(client.token_fetches(), 2);
    // The new token is cached.
    client.execute(&req).await.unwrap();
    assert_eq!(client.token_fetches(), 2);
}

#[tokio::test]
async fn a_second_401_is_an_auth_error_without_a_third_token_request() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 2).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(1)"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"code": "", "message": "Unauthorized"}})),
        )
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server, "second-401");
    let req = get_user();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::Auth { status, message } => {
            assert_eq!(*status, Some(401));
            assert!(message.contains("GET /Users(1)"), "{message}");
            assert!(message.contains("Unauthorized"), "{message}");
        }
        other => panic!("expected Error::Auth, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(client.token_fetches(), 2);
    assert_no_secrets(&err);
}

#[tokio::test]
async fn token_request_is_form_encoded() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/xapi/v1/PurgeChats"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let tricky_secret = "p&ss=w+rd %é";
    let client = Client::new(
        config(&server, "form id")
            .client_secret(tricky_secret)
            .build()
            .unwrap(),
    )
    .unwrap();
    let req = PURGE_CHATS
        .build(&obj(json!({"period": {"Start": "2024-01-01T00:00:00Z"}})))
        .unwrap();
    assert_eq!(
        client.execute(&req).await.unwrap(),
        Response::Empty { status: 204 }
    );

    let requests = server.received_requests().await.unwrap();
    let token_req = &requests[0];
    assert_eq!(token_req.url.path(), "/connect/token");
    assert_eq!(
        token_req.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let mut fields: Vec<(String, String)> = url::form_urlencoded::parse(&token_req.body)
        .into_owned()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("client_id".to_owned(), "form id".to_owned()),
            ("client_secret".to_owned(), tricky_secret.to_owned()),
            ("grant_type".to_owned(), "client_credentials".to_owned()),
        ]
    );

    // The API request: bearer token, JSON accept, JSON body with its content type, user agent.
    let api = &requests[1];
    assert_eq!(api.url.path(), "/xapi/v1/PurgeChats");
    assert_eq!(
        api.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
    assert_eq!(api.headers.get("accept").unwrap(), "application/json");
    assert_eq!(api.headers.get("content-type").unwrap(), "application/json");
    assert!(api
        .headers
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("threecx/"));
    assert_eq!(
        api.body,
        br#"{"period":{"Start":"2024-01-01T00:00:00Z"}}"#.to_vec()
    );
}

#[tokio::test]
async fn expires_in_sixty_means_an_hour_so_the_token_is_reused() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(json_response(token_answer(TOKEN, 60)))
        .expect(1)
        .mount(&server)
        .await;
    gets_answered(3).mount(&server).await;
    let client = client(&server, "sixty");
    let req = get_user();
    for _ in 0..3 {
        client.execute(&req).await.unwrap();
    }
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn clients_with_the_same_credentials_share_one_token() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    gets_answered(2).mount(&server).await;
    let a = client(&server, "shared");
    // Same PBX spelled differently: the normalised base URL is the key.
    let b = Client::new(
        config(&server, "shared")
            .base_url(format!("{}/xapi/v1/", server.uri()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let req = get_user();
    a.execute(&req).await.unwrap();
    b.execute(&req).await.unwrap();
    assert_eq!(a.token_fetches(), 1);
    assert_eq!(b.token_fetches(), 1);
}

#[tokio::test]
async fn a_client_with_another_secret_does_not_reuse_the_token() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 2).mount(&server).await;
    gets_answered(2).mount(&server).await;
    let a = client(&server, "other-secret");
    let b = Client::new(
        config(&server, "other-secret")
            .client_secret("another")
            .build()
            .unwrap(),
    )
    .unwrap();
    let req = get_user();
    a.execute(&req).await.unwrap();
    b.execute(&req).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_token_fetch_is_shared_by_all_waiting_callers() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_client"}))
                .set_delay(Duration::from_millis(80)),
        )
        // Every waiter retrying on its own would hammer the endpoint (and get the IP blocked).
        .expect(1)
        .mount(&server)
        .await;
    gets_answered(0).mount(&server).await;

    let client = client(&server, "failing");
    let req = get_user();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            let req = req.clone();
            tokio::spawn(async move { client.execute(&req).await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        match &err {
            Error::Auth { status, message } => {
                assert_eq!(*status, Some(400));
                assert!(message.contains("invalid_client"), "{message}");
            }
            other => panic!("expected Error::Auth, got {other:?}"),
        }
        assert_no_secrets(&err);
    }
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn a_jwt_token_is_accepted() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = format!(
        "{}.{}.c2ln",
        b64.encode(br#"{"alg":"RS256"}"#),
        b64.encode(br#"{"iat":1700000000,"exp":1700003600}"#)
    );
    let server = fresh_mock_server().await;
    token_mock(&jwt, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {jwt}").as_str()))
        .respond_with(json_response(json!({})))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server, "jwt");
    let req = get_user();
    client.execute(&req).await.unwrap();
    client.execute(&req).await.unwrap();
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn a_failed_token_fetch_is_not_repeated_at_once() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, "cooldown");
    let req = get_user();
    for _ in 0..5 {
        let err = client.execute(&req).await.unwrap_err();
        assert_refused_401(&err);
    }
    assert_eq!(client.token_fetches(), 1);
}
