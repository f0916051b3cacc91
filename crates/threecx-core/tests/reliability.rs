//! Retries, timeouts, the retry budget, the token backoff and the on-disk token cache, against
//! wiremock and a raw HTTP server for the faults wiremock cannot make (a connection dropped after
//! the request was read, a truncated or stalled body, a port that stops listening). Loopback
//! only; backoffs are configured in milliseconds so the suite stays fast.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use threecx_core::{Client, ConfigBuilder, Error, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MS: Duration = Duration::from_millis(1);

/// Retries with millisecond backoff.
fn fast(builder: ConfigBuilder) -> ConfigBuilder {
    builder.backoff(MS, 5 * MS)
}

fn fast_client(server: &MockServer, client_id: &str) -> Client {
    Client::new(fast(config(server, client_id)).build().unwrap()).unwrap()
}

/// Requests `server` received for `path`.
async fn count(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 server. Every answer closes the connection, so each request has its own.

#[derive(Debug, Clone, Copy)]
enum Act {
    /// 200 with a token answer.
    Token,
    /// 200 with this JSON.
    Json(&'static str),
    /// This status, empty JSON body.
    Status(u16),
    /// Read the request, then hang up without answering.
    Close,
    /// Read the request, then reset the connection (RST).
    Reset,
    /// Headers promising 100 bytes, 10 of them, then hang up.
    Truncate,
    /// Headers promising 100 bytes, one of them, then nothing (connection kept open).
    Stall,
}

struct Raw {
    port: u16,
    /// `METHOD /path` of every request read, in order.
    seen: Arc<Mutex<Vec<String>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Raw {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn count(&self, line: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == line)
            .count()
    }

    /// Stops listening: later connections are refused.
    async fn stop_listening(&self) {
        self.accept.abort();
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
                return;
            }
            tokio::time::sleep(5 * MS).await;
        }
        panic!("port {} still accepts connections", self.port);
    }
}

/// `script(request line, how many times that line was seen before)` decides each answer.
async fn raw_server(script: impl Fn(&str, usize) -> Act + Send + Sync + 'static) -> Raw {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let accept = tokio::spawn({
        let seen = Arc::clone(&seen);
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let mut stream = stream;
                    let Some(line) = read_request(&mut stream).await else {
                        return;
                    };
                    let nth = {
                        let mut seen = seen.lock().unwrap();
                        let n = seen.iter().filter(|l| **l == line).count();
                        seen.push(line.clone());
                        n
                    };
                    answer(&mut stream, script(&line, nth)).await;
                });
            }
        }
    });
    Raw { port, seen, accept }
}

/// Reads one request (head and `Content-Length` body); `METHOD /path`.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut parts = head.lines().next()?.split_whitespace();
    let (m, target) = (parts.next()?, parts.next()?);
    let path = target.split('?').next().unwrap_or(target);
    Some(format!("{m} {path}"))
}

async fn answer(stream: &mut TcpStream, act: Act) {
    let respond = |status: u16, body: &str| {
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let promise = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\
                   Connection: close\r\n\r\n";
    match act {
        Act::Token => {
            let body = token_body(TOKEN, 3600).to_string();
            let _ = stream.write_all(respond(200, &body).as_bytes()).await;
        }
        Act::Json(body) => {
            let _ = stream.write_all(respond(200, body).as_bytes()).await;
        }
        Act::Status(status) => {
            let _ = stream.write_all(respond(status, "{}").as_bytes()).await;
        }
        Act::Close => {}
        Act::Reset => {
            // Zero linger: closing sends RST instead of FIN.
            stream.set_zero_linger().unwrap();
            return;
        }
        Act::Truncate => {
            let _ = stream
                .write_all(format!("{promise}{{\"Id\": 1, ").as_bytes())
                .await;
        }
        Act::Stall => {
            let _ = stream.write_all(format!("{promise}{{").as_bytes()).await;
            let _ = stream.flush().await;
            // Ended with the test's runtime.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
    let _ = stream.shutdown().await;
}

fn raw_client(
    raw: &Raw,
    client_id: &str,
    tune: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> Client {
    let builder = fast(
        threecx_core::Config::builder()
            .base_url(raw.url())
            .client_id(client_id)
            .client_secret(SECRET),
    );
    Client::new(tune(builder).build().unwrap()).unwrap()
}

const TOKEN_LINE: &str = "POST /connect/token";
const GET_LINE: &str = "GET /xapi/v1/Users(1)";
const POST_LINE: &str = "POST /xapi/v1/PurgeChats";

fn get_user() -> threecx_core::PreparedRequest {
    GET_USER.build(&obj(json!({"Id": 1}))).unwrap()
}

fn purge() -> threecx_core::PreparedRequest {
    PURGE_CHATS.build(&obj(json!({}))).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Retries

#[tokio::test]
async fn a_get_is_retried_after_a_503_and_succeeds() {
    let server = server().await;
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
    let server = server().await;
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
    let server = server().await;
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
        let server = server().await;
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
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(json_response(token_body("tok-1", 3600)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(json_response(token_body("tok-2", 3600)))
        .mount(&server)
        .await;
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
    assert!(
        matches!(
            err,
            Error::Auth {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
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
    let server = server().await;
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
    let server = server().await;
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
    let server = server().await;
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

// ---------------------------------------------------------------------------------------------
// Token endpoint protection

#[tokio::test]
async fn failing_token_requests_back_off_exponentially() {
    let server = server().await;
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
        assert!(
            matches!(
                err,
                Error::Auth {
                    status: Some(401),
                    ..
                }
            ),
            "{err:?}"
        );
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
    let server = server().await;
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
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_body(TOKEN, 3600))
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
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(json_response(token_body("tok-1", 3600)))
        .expect(1)
        .mount(&server)
        .await;
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
    let server = server().await;
    token_mock(TOKEN, 2).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})))
        .mount(&server)
        .await;
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
    let server = server().await;
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
