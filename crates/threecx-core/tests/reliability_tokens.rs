//! The token backoff and the on-disk token cache shared by processes. Loopback only; backoffs
//! are configured in milliseconds so the suite stays fast.

mod common;

use std::time::{Duration, Instant};

use common::raw::*;
use common::*;
use serde_json::json;
use threecx_core::{Client, Error, Response};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// Token endpoint protection

#[tokio::test]
async fn failing_token_requests_back_off_exponentially() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .mount(&server)
        .await;
    let client = Client::new(
        fast(config(&server, "token-backoff"))
            .token_backoff(20 * MS, Duration::from_secs(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let mut calls = 0;
    let mut backing_off = None;
    while started.elapsed() < 300 * MS {
        let err = client.execute(&get_user()).await.unwrap_err();
        assert_refused_401(&err);
        if err.to_string().contains("backing off") {
            backing_off = Some(err);
        }
        calls += 1;
        tokio::time::sleep(2 * MS).await;
    }
    // Requests at about 0, 20, 60, 140 ms (280 ms is borderline): never one per call.
    let fetches = count(&server, "/connect/token").await;
    assert!((3..=5).contains(&fetches), "{fetches} token requests");
    assert!(calls > 20, "{calls}");
    assert_eq!(client.token_fetches() as usize, fetches);
    let err = backing_off.expect("an error saying it backs off");
    let text = err.to_string();
    assert!(text.contains("the next one will be sent in"), "{text}");
    assert!(text.contains("anti-hacking"), "{text}");
    assert_no_secrets(&err);
}

#[tokio::test]
async fn at_most_n_token_requests_per_minute_after_failures() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = Client::new(
        fast(config(&server, "token-per-minute"))
            .token_backoff(MS, MS)
            .token_requests_per_minute(3)
            .build()
            .unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let mut last = None;
    while started.elapsed() < 150 * MS {
        last = Some(client.execute(&get_user()).await.unwrap_err());
        tokio::time::sleep(3 * MS).await;
    }
    // A token endpoint failure is not retried by the call either.
    assert_eq!(count(&server, "/connect/token").await, 3);
    let err = last.unwrap();
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("backing off after 3 failed token requests"),
        "{text}"
    );
    // The next one waits for the first to leave the minute.
    assert!(
        text.contains("sent in 59.") || text.contains("sent in 60.0"),
        "{text}"
    );
}

#[tokio::test]
async fn token_requests_that_were_never_sent_are_retried_without_backoff() {
    let raw = raw_server(|_, _| Act::Close).await;
    raw.stop_listening().await;
    let client = raw_client(&raw, "token-refused", |b| b);
    let err = client.execute(&get_user()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(client.token_fetches(), 3);
    assert_eq!(client.retries(), 2);
    // No backoff either: a refused connection is no failed login.
    client.execute(&get_user()).await.unwrap_err();
    assert_eq!(client.token_fetches(), 6);
}

// ---------------------------------------------------------------------------------------------
// On-disk token cache

/// A client with its own in-memory cache ("another process") using `dir`.
fn process(server: &MockServer, client_id: &str, dir: &std::path::Path) -> Client {
    Client::new(
        fast(config(server, client_id))
            .token_cache_dir(dir)
            .isolated_token_cache(true)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_token_through_the_cache_file() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_answer(TOKEN, 3600))
                // Both ask while the first fetch is in flight.
                .set_delay(50 * MS),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(json!({})))
        .expect(3)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("threecx");
    let a = process(&server, "disk-shared", &cache);
    let b = process(&server, "disk-shared", &cache);
    let req = get_user();
    let (ra, rb) = tokio::join!(a.execute(&req), b.execute(&req));
    ra.unwrap();
    rb.unwrap();
    assert_eq!(a.token_fetches() + b.token_fetches(), 1);

    let file = only_file(&cache);
    let name = file.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(!name.contains(SECRET), "{name}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains(TOKEN), "the token is cached: {text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&cache), 0o700);
    }
    // A third process later: still no token request (the token mock expects exactly one).
    let c = process(&server, "disk-shared", &cache);
    c.execute(&req).await.unwrap();
    assert_eq!(c.token_fetches(), 0);
}

#[tokio::test]
async fn after_a_401_the_cache_file_is_read_again_before_fetching() {
    let server = fresh_mock_server().await;
    token_endpoint("tok-1").expect(1).mount(&server).await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(json_response(json!({"by": 1})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(json_response(json!({"by": 2})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let a = process(&server, "disk-401", dir.path());
    let b = process(&server, "disk-401", dir.path());
    let req = get_user();
    a.execute(&req).await.unwrap();
    // From the file, no token request.
    b.execute(&req).await.unwrap();
    assert_eq!(b.token_fetches(), 0);

    // Another process replaced the token (3CX now rejects tok-1).
    let file = only_file(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("tok-1", "tok-2")).unwrap();

    let got = b.execute(&req).await.unwrap();
    assert_eq!(got, Response::Json(json!({"by": 2})));
    assert_eq!(a.token_fetches() + b.token_fetches(), 1);
}

#[tokio::test]
async fn a_corrupt_cache_file_is_replaced() {
    let server = pbx_answering_every_get(TOKEN, 2).await;
    let dir = tempfile::tempdir().unwrap();
    process(&server, "disk-corrupt", dir.path())
        .execute(&get_user())
        .await
        .unwrap();
    let file = only_file(dir.path());
    std::fs::write(&file, b"\x00not json{{{").unwrap();

    let b = process(&server, "disk-corrupt", dir.path());
    b.execute(&get_user()).await.unwrap();
    assert_eq!(b.token_fetches(), 1);
    let text = std::fs::read_to_string(&file).unwrap();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["version"], 1);
    assert_eq!(record["token"]["access_token"], TOKEN);
    assert!(!text.contains(SECRET));
}

#[tokio::test]
async fn the_token_backoff_is_shared_through_the_cache_file() {
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"})))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let err = process(&server, "disk-backoff", dir.path())
        .execute(&get_user())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("backing off"), "{err}");
    // A second process (a CLI run in a loop) does not try again at once.
    let err = process(&server, "disk-backoff", dir.path())
        .execute(&get_user())
        .await
        .unwrap_err();
    match &err {
        Error::Auth { status, message } => {
            assert_eq!(*status, Some(400));
            assert!(message.contains("invalid_client"), "{message}");
            assert!(
                message.contains("backing off after 1 failed token request"),
                "{message}"
            );
        }
        other => panic!("expected Error::Auth, got {other:?}"),
    }
    assert_no_secrets(&err);
}
