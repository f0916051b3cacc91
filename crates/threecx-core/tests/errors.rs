//! Error mapping: 3CX's error bodies, auth, timeouts, refused and lost connections. That no
//! secret shows in errors or logs is `secrets_in_errors.rs`.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::*;
use serde_json::json;
use threecx_core::{Client, Config, Error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn odata_error_body_becomes_an_api_error() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(Number='999')"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {
                "code": "",
                "message": "No route data was found for this request.",
                "details": [{"code": "NotFound", "message": "no user 999", "target": "Number"}]
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server, "odata-error");
    let req = GET_USER_BY_NUMBER
        .build(&obj(json!({"Number": "999"})))
        .unwrap();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::Api {
            status,
            method,
            path,
            code,
            message,
            details,
        } => {
            assert_eq!(*status, 404);
            assert_eq!(*method, "GET");
            assert_eq!(path, "/Users(Number='999')");
            assert_eq!(code, "");
            assert_eq!(message, "No route data was found for this request.");
            assert_eq!(details.len(), 1);
            assert_eq!(details[0].target.as_deref(), Some("Number"));
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .contains("404 on GET /Users(Number='999'): No route data"),
        "{err}"
    );
}

#[tokio::test]
async fn non_json_error_body_is_excerpted() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    let page = format!("<html><body>{}</body></html>", "Bad gateway. ".repeat(100));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(page, "text/html"))
        .mount(&server)
        .await;
    let client = client(&server, "excerpt");
    let req = get_user();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(*status, 502);
            assert!(message.starts_with("<html><body>Bad gateway."), "{message}");
            assert!(message.chars().count() <= 301, "{}", message.len());
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn forbidden_is_an_auth_error_naming_the_role() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, "forbidden");
    let req = get_user();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::Auth { status, message } => {
            assert_eq!(*status, Some(403));
            assert!(message.contains("System Owner"), "{message}");
            assert!(message.contains("role"), "{message}");
        }
        other => panic!("expected Error::Auth, got {other:?}"),
    }
    // A 403 is not a stale token: no refresh.
    assert_eq!(client.token_fetches(), 1);
}

#[tokio::test]
async fn a_timeout_is_reported_as_such() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})).set_delay(Duration::from_millis(500)))
        .mount(&server)
        .await;
    let client = Client::new(config(&server, "timeout").timeout(SHORT).build().unwrap()).unwrap();
    let req = get_user();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::Timeout { after, during } => {
            assert_eq!(*after, SHORT);
            assert_eq!(*during, "waiting for the PBX");
        }
        other => panic!("expected Error::Timeout, got {other:?}"),
    }
    assert!(err.is_retryable());
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_not_sent() {
    let config = Config::builder()
        .base_url(format!("http://127.0.0.1:{}", closed_port()))
        .client_id("refused")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let client = Client::new(config).unwrap();
    let req = get_user();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::Transport {
            during,
            message,
            maybe_sent,
        } => {
            assert_eq!(*during, "connecting to the PBX");
            assert!(!maybe_sent);
            assert!(!message.is_empty());
        }
        other => panic!("expected Error::Transport, got {other:?}"),
    }
    assert!(err.to_string().contains("5001"), "{err}");
    assert_no_secrets(&err);
}

/// A raw HTTP server: answers the token request, then accepts the API request and hangs up
/// without answering.
fn hang_up_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().take(2).enumerate() {
            let mut stream = stream.unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers plus (for the token request) the small form body.
            while !seen.windows(4).any(|w| w == b"\r\n\r\n")
                || (i == 0 && !seen.ends_with(b"client_credentials"))
            {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            if i == 0 {
                let body = token_answer(TOKEN, 3600).to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
            }
            // Dropping the stream closes the connection.
        }
    });
    port
}

#[tokio::test]
async fn a_connection_lost_after_sending_may_have_been_processed() {
    let port = hang_up_server();
    let client = Client::new(
        Config::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .client_id("hang-up")
            .client_secret(SECRET)
            .build()
            .unwrap(),
    )
    .unwrap();
    let req = purge();
    let err = client.execute(&req).await.unwrap_err();
    match &err {
        Error::OutcomeUnknown { method, path, .. } => {
            assert_eq!((*method, path.as_str()), ("POST", "/PurgeChats"));
            assert!(!err.is_retryable());
        }
        other => panic!("expected Error::OutcomeUnknown, got {other:?}"),
    }
    assert_no_secrets(&err);
}
