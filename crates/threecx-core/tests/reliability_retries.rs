//! Retries, timeouts and the retry budget, against wiremock and a raw HTTP server for the faults
//! wiremock cannot make. Loopback only; backoffs are configured in milliseconds so the suite
//! stays fast.

mod common;

use std::time::{Duration, Instant};

use common::raw::*;
use common::*;
use serde_json::json;
use threecx_core::{Client, Error, Response};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn a_get_is_retried_after_a_503_and_succeeds() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({"Id": 1})))
        .mount(&server)
        .await;
    let client = fast_client(&server, "retry-503");
    let got = client.execute(&get_user()).await.unwrap();
    assert_eq!(got, Response::Json(json!({"Id": 1})));
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 2);
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_for() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})))
        .mount(&server)
        .await;
    let client = fast_client(&server, "retry-after");
    let started = Instant::now();
    client.execute(&get_user()).await.unwrap();
    let elapsed = started.elapsed();
    // The backoff alone would be at most 5 ms.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_call_at_once() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .mount(&server)
        .await;
    let client = fast_client(&server, "retry-after-cap");
    let started = Instant::now();
    let err = client.execute(&get_user()).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 429, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 1);
}

#[tokio::test]
async fn a_post_action_is_sent_once_whatever_the_transient_status() {
    for status in [408, 429, 500, 502, 503, 504] {
        let server = fresh_mock_server().await;
        token_mock(TOKEN, 1).mount(&server).await;
        Mock::given(method("POST"))
            .and(path("/xapi/v1/PurgeChats"))
            .respond_with(ResponseTemplate::new(status).insert_header("Retry-After", "0"))
            .expect(1)
            .mount(&server)
            .await;
        let client = fast_client(&server, &format!("post-once-{status}"));
        let err = client.execute(&purge()).await.unwrap_err();
        match &err {
            Error::Api { status: s, .. } => assert_eq!(*s, status),
            other => panic!("{status}: expected Error::Api, got {other:?}"),
        }
        assert_eq!(client.retries(), 0, "{status}");
        assert_eq!(count(&server, "/xapi/v1/PurgeChats").await, 1, "{status}");
    }
}

#[tokio::test]
async fn a_post_action_that_was_never_sent_is_retried() {
    let raw = raw_server(|line, _| match line {
        TOKEN_LINE => Act::Token,
        _ => Act::Json("{}"),
    })
    .await;
    let client = raw_client(&raw, "post-refused", |b| b);
    // Fetches the token (cached in memory from now on).
    client.execute(&get_user()).await.unwrap();
    raw.stop_listening().await;

    let err = client.execute(&purge()).await.unwrap_err();
    match &err {
        Error::Transport {
            during, maybe_sent, ..
        } => {
            assert!(!maybe_sent);
            assert_eq!(*during, "connecting to the PBX");
        }
        other => panic!("expected Error::Transport, got {other:?}"),
    }
    // Three attempts: nothing reached the PBX, so repeating the action was safe.
    assert_eq!(client.retries(), 2);
    assert_eq!(client.token_fetches(), 1);
    assert_eq!(raw.count(POST_LINE), 0);
}

#[tokio::test]
async fn a_post_action_whose_connection_drops_after_sending_is_not_retried() {
    for fault in [Act::Close, Act::Reset] {
        let raw = raw_server(move |line, _| match line {
            TOKEN_LINE => Act::Token,
            _ => fault,
        })
        .await;
        let client = raw_client(&raw, &format!("post-dropped-{fault:?}"), |b| b);
        let err = client.execute(&purge()).await.unwrap_err();
        assert!(
            err.is_outcome_unknown() && !err.is_retryable(),
            "{fault:?}: expected Error::OutcomeUnknown, got {err:?}"
        );
        assert_eq!(
            raw.count(POST_LINE),
            1,
            "{fault:?}: {:?}",
            raw.seen.lock().unwrap()
        );
        assert_eq!(client.retries(), 0);
        assert_no_secrets(&err);

        // The same fault on a GET is retried up to max_attempts.
        let err = client.execute(&get_user()).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Transport {
                    maybe_sent: true,
                    ..
                }
            ),
            "{fault:?}: {err:?}"
        );
        assert_eq!(raw.count(GET_LINE), 3, "{fault:?}");
        assert_eq!(client.retries(), 2, "{fault:?}");
    }
}

#[tokio::test]
async fn a_truncated_body_on_a_get_is_retried() {
    let raw = raw_server(|line, nth| match (line, nth) {
        (TOKEN_LINE, _) => Act::Token,
        (_, 0) => Act::Truncate,
        _ => Act::Json(r#"{"Id": 1}"#),
    })
    .await;
    let client = raw_client(&raw, "truncated", |b| b);
    let got = client.execute(&get_user()).await.unwrap();
    assert_eq!(got, Response::Json(json!({"Id": 1})));
    assert_eq!(raw.count(GET_LINE), 2);
    assert_eq!(client.retries(), 1);
}

#[tokio::test]
async fn a_call_refreshes_its_token_once_however_many_attempts_it_makes() {
    let server = fresh_mock_server().await;
    token_endpoint("tok-1")
        .up_to_n_times(1)
        .mount(&server)
        .await;
    token_endpoint("tok-2").mount(&server).await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = fast_client(&server, "refresh-once-per-call");
    let err = client.execute(&get_user()).await.unwrap_err();
    assert_refused_401(&err);
    // 401 → new token → 503 → retry → 401: no third token request.
    assert_eq!(count(&server, "/connect/token").await, 2);
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 3);
}

#[tokio::test]
async fn final_answers_are_not_retried() {
    let raw = raw_server(|line, _| match line {
        TOKEN_LINE => Act::Token,
        GET_LINE => Act::Status(404),
        _ => Act::Status(400),
    })
    .await;
    let client = raw_client(&raw, "final", |b| b);
    let err = client.execute(&get_user()).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
    let err = client.execute(&purge()).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 400, .. }), "{err:?}");
    assert_eq!(raw.count(GET_LINE), 1);
    assert_eq!(raw.count(POST_LINE), 1);
    assert_eq!(client.retries(), 0);
}

// ---------------------------------------------------------------------------------------------
// Timeouts

#[tokio::test]
async fn a_get_that_times_out_is_retried_then_reported_within_the_call_timeout() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let timeout = 80 * MS;
    let config = fast(config(&server, "timeouts"))
        .timeout(timeout)
        .build()
        .unwrap();
    // Derived: 2 × 80 ms × 3 attempts.
    assert_eq!(config.call_timeout(), 480 * MS);
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let err = client.execute(&get_user()).await.unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        Error::Timeout { after, during } => {
            assert_eq!(*after, timeout);
            assert_eq!(*during, "waiting for the PBX");
        }
        other => panic!("expected Error::Timeout, got {other:?}"),
    }
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 3);
    assert!(elapsed >= 3 * timeout, "{elapsed:?}");
    assert!(elapsed < 480 * MS, "{elapsed:?}");
}

#[tokio::test]
async fn the_call_timeout_bounds_all_attempts_together() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let limit = 200 * MS;
    let client = Client::new(
        fast(config(&server, "call-timeout"))
            .timeout(80 * MS)
            .max_attempts(10)
            .call_timeout(limit)
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let err = client.execute(&get_user()).await.unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        Error::Timeout { after, during } => {
            assert_eq!(*after, limit);
            assert!(during.contains("call_timeout"), "{during}");
        }
        other => panic!("expected Error::Timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("call_timeout"), "{err}");
    assert!(elapsed >= limit, "{elapsed:?}");
    assert!(elapsed < limit + 150 * MS, "{elapsed:?}");
    assert!(count(&server, "/xapi/v1/Users(1)").await <= 3);
}

#[tokio::test]
async fn a_stalled_body_is_a_timeout_not_a_hang() {
    let raw = raw_server(|line, _| match line {
        TOKEN_LINE => Act::Token,
        _ => Act::Stall,
    })
    .await;
    let timeout = 150 * MS;
    let client = raw_client(&raw, "stalled", |b| b.timeout(timeout).max_attempts(1));
    let started = Instant::now();
    let err = client.execute(&get_user()).await.unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        Error::Timeout { after, during } => {
            assert_eq!(*after, timeout);
            assert_eq!(*during, "waiting for the PBX");
        }
        other => panic!("expected Error::Timeout, got {other:?}"),
    }
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(elapsed < timeout + 250 * MS, "{elapsed:?}");
    assert_eq!(raw.count(GET_LINE), 1);
}

// ---------------------------------------------------------------------------------------------
// Retry budget

#[tokio::test]
async fn a_spent_retry_budget_stops_retries() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = Client::new(
        fast(config(&server, "budget"))
            .max_attempts(5)
            .retry_budget(0.2, 2)
            .build()
            .unwrap(),
    )
    .unwrap();
    // Two retries in the budget: 3 requests instead of 5.
    let err = client.execute(&get_user()).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 503, .. }), "{err:?}");
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 3);
    // Spent: one request per call from now on.
    client.execute(&get_user()).await.unwrap_err();
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 4);
    // Clones share the budget.
    client.clone().execute(&get_user()).await.unwrap_err();
    assert_eq!(count(&server, "/xapi/v1/Users(1)").await, 5);
    assert_eq!(client.retries(), 2);
}
